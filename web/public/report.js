// The public report page (/report): anyone may tell social services, without logging in,
// that someone needs help — a contact request (with the person's consent), a concern about
// an adult, a child welfare report, or a report about an older person — and later add
// information to a report already sent.
//
// Steps, one on screen at a time: kind → urgent? → the form → the receipt; and, from the
// first step, "add information". The page keeps one history entry: the back button leaves
// the page (as quick exit's location.replace() expects), and each step has its own Back
// button instead.
//
// Everything lives in memory only (never in localStorage, sessionStorage or cookies): on a
// shared device, closing the tab or quick exit leaves nothing behind. The secret code is
// shown once on the receipt and forgotten when the person starts over.

import { t, setLanguage, detectLanguage, preloadLanguages, onLanguageChange } from './i18n.js';
import { installQuickExit, onQuickExit } from './quick-exit.js';
import { backoff } from '../shared/backoff.js';
import {
  $,
  $$,
  byTestId,
  bindText,
  setFieldError,
  clearFieldError,
  refreshTexts,
  refreshMarkers,
  formatDateTime,
} from './report-util.js';
import { api, renderLanguageLinks, telHref, wireLanguageLinks } from './http.js';
import { createReportForm, kindLabel } from './report-form.js';
import { createAddForm } from './report-add.js';

const STEPS = ['kind', 'urgent', 'form', 'receipt', 'add'];
const HEADINGS = {
  kind: '#kind-heading',
  urgent: '#urgent-step-heading',
  form: '#form-heading',
  receipt: '#receipt-heading',
  add: '#add-heading',
};

const state = {
  info: null,
  step: 'kind',
  /** The 201 answer, while the receipt is on screen; forgotten when starting over. */
  receipt: null,
};

let reportForm;
let addForm;

// ---------------------------------------------------------------------------------------
// Steps

function show(step, { focus = true } = {}) {
  state.step = step;
  for (const name of STEPS) $(`#step-${name}`).hidden = name !== step;
  document.body.dataset.step = step;
  if (focus) {
    const heading = $(HEADINGS[step]);
    heading.focus();
    if (step !== 'form') window.scrollTo?.(0, 0);
  }
}

const chosen = (name) => $(`input[name="${name}"]:checked`)?.value ?? null;

function continueFromKind() {
  const group = $('#kind-group');
  const error = $('#kind-error');
  if (!chosen('kind')) {
    setFieldError(group, error, () => t('report.error.kind'));
    $('#kind-contact').focus();
    return;
  }
  clearFieldError(group, error);
  show('urgent');
}

function renderCallNow() {
  $('#call-now').hidden = chosen('urgent') !== 'yes';
}

function continueFromUrgent() {
  const group = $('#urgent-group');
  const error = $('#urgent-error');
  const urgent = chosen('urgent');
  if (!urgent) {
    setFieldError(group, error, () => t('report.error.urgent'));
    $('#urgent-yes').focus();
    return;
  }
  clearFieldError(group, error);
  reportForm.setKind(chosen('kind'), urgent === 'yes');
  show('form');
}

function back() {
  if (state.step === 'urgent') show('kind');
  else if (state.step === 'form') show('urgent');
  else show('kind');
}

/** Starts over: every field empty, nothing of the last report kept. */
function startOver() {
  state.receipt = null;
  for (const el of [$('#receipt-reference'), $('#receipt-secret')]) el.textContent = '';
  for (const el of ['#receipt-kind', '#receipt-team', '#receipt-due', '#receipt-received', '#copy-status']) bindText($(el), () => '');
  $('#kind-form').reset();
  $('#urgent-form').reset();
  clearFieldError($('#kind-group'), $('#kind-error'));
  clearFieldError($('#urgent-group'), $('#urgent-error'));
  renderCallNow();
  reportForm.reset();
  addForm.reset();
  show('kind');
}

// ---------------------------------------------------------------------------------------
// The receipt

function showReceipt(receipt) {
  state.receipt = receipt;
  // The typed report is not needed any more: empty the form now, not only on "start over".
  reportForm.reset();
  $('#receipt-reference').textContent = receipt.reference;
  $('#receipt-secret').textContent = receipt.secret;
  const kind = kindLabel[receipt.kind];
  bindText($('#receipt-kind'), () => t('report.receipt.kind', { kind: kind ? kind() : receipt.kind }));
  bindText($('#receipt-team'), () => t('report.receipt.team', { team: receipt.team_name || receipt.team || '' }));
  bindText($('#receipt-due'), () => t('report.receipt.due', { due: formatDateTime(receipt.due_at) }));
  bindText($('#receipt-received'), () => t('report.receipt.received', { at: formatDateTime(receipt.received_at) }));
  bindText($('#copy-status'), () => '');
  $('#receipt-urgent').hidden = !receipt.urgent;
  show('receipt');
}

async function copyReference() {
  const reference = state.receipt?.reference;
  if (!reference) return;
  let copied = false;
  try {
    await navigator.clipboard.writeText(reference);
    copied = true;
  } catch {
    // No clipboard (an insecure page, or refused): select the code so it can be copied by hand.
    const range = document.createRange();
    range.selectNodeContents($('#receipt-reference'));
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  bindText($('#copy-status'), copied ? () => t('report.receipt.copied') : () => t('report.receipt.copy_select'));
}

// ---------------------------------------------------------------------------------------
// The phone numbers, the language switch, texts

function renderInfo() {
  const phone = state.info?.oncall_phone;
  if (!phone) return;
  for (const link of $$('[data-oncall-link]')) {
    link.href = telHref(phone);
    link.hidden = false;
  }
  for (const number of $$('[data-oncall-number]')) number.textContent = phone;
}

async function loadInfo(attempt = 0) {
  try {
    const { data } = await api('GET', '/api/v1/public/info');
    state.info = data;
    renderInfo();
  } catch {
    setTimeout(() => loadInfo(attempt + 1), backoff(attempt + 1, 2000, 30000));
  }
}

function renderLanguageSwitch() {
  renderLanguageLinks(byTestId('report-language'));
}

function renderStepCounts() {
  for (const el of $$('[data-step-count]')) {
    el.textContent = t('report.step', { n: el.dataset.stepCount, total: 3 });
  }
}

function rerenderAll() {
  refreshTexts();
  refreshMarkers();
  renderStepCounts();
  renderLanguageSwitch();
}

// ---------------------------------------------------------------------------------------
// Wiring

function wire() {
  installQuickExit({ button: byTestId('quick-exit') });
  onQuickExit(() => {
    // Forget the secret and everything typed, even before the page empties itself.
    state.receipt = null;
    for (const form of $$('form')) form.reset();
  });

  $('#kind-form').addEventListener('submit', (event) => {
    event.preventDefault();
    continueFromKind();
  });
  for (const radio of $$('input[name="kind"]')) {
    radio.addEventListener('change', () => clearFieldError($('#kind-group'), $('#kind-error')));
  }
  $('#urgent-form').addEventListener('submit', (event) => {
    event.preventDefault();
    continueFromUrgent();
  });
  for (const radio of $$('input[name="urgent"]')) {
    radio.addEventListener('change', () => {
      clearFieldError($('#urgent-group'), $('#urgent-error'));
      renderCallNow();
    });
  }
  for (const button of $$('[data-back]')) button.addEventListener('click', back);

  byTestId('open-addition').addEventListener('click', () => {
    addForm.reset();
    show('add');
  });
  byTestId('add-back').addEventListener('click', () => {
    addForm.reset();
    show('kind');
  });
  byTestId('receipt-print').addEventListener('click', () => window.print());
  byTestId('receipt-new').addEventListener('click', startOver);
  byTestId('copy-reference').addEventListener('click', copyReference);

  wireLanguageLinks(byTestId('report-language'));
}

async function main() {
  reportForm = createReportForm({ onSent: showReceipt });
  addForm = createAddForm();
  wire();
  onLanguageChange(rerenderAll);
  try {
    await setLanguage(detectLanguage());
  } catch (err) {
    console.error(err);
  }
  preloadLanguages();
  loadInfo();
  show('kind', { focus: false });
  document.body.dataset.ready = 'true';
}

main();
