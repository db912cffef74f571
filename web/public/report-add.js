// Step 5 of /report: adding information to a report already sent, with its reference and
// the secret code shown once on the receipt. The report itself is never shown back.
//
// Each text gets a client_id when first sent and keeps it for every retry of the same
// text (a lost answer followed by "send again" adds nothing twice); a changed text, or a
// text sent successfully, gets a new one.

import { t } from './i18n.js';
import {
  $,
  MAX_TEXT,
  SEND_TIMEOUT_MS,
  minutesFrom,
  charCount,
  showText,
  bindText,
  hideText,
  setFieldError,
  clearFieldError,
  showSummary,
  hideSummary,
  refreshMarkers,
  wireCounter,
  formatNumber,
} from './report-util.js';
import { ApiError, NetworkError, api } from './http.js';
import { uuid } from '../shared/uuid.js';

/** "k7m3 q9xp" → "K7M3Q9XP": the server takes either, with or without the dashes. */
function compact(code) {
  return code.replace(/\s+/g, '').toUpperCase();
}

export function createAddForm() {
  const form = $('#add-form');
  const reference = $('#add-reference');
  const secret = $('#add-secret');
  const text = $('#add-text');
  const submitButton = $('#add-submit');
  const result = $('#add-result');
  const problem = $('#add-error');
  const status = $('#add-sending-status');
  const summary = $('#add-summary');
  const summaryList = $('#add-summary-list');
  const errorOf = (el) => document.getElementById(`${el.id}-error`);

  /** The text being sent and its client_id: {key, clientId}. */
  let pending = null;
  let sending = false;
  const updateCounter = wireCounter(text, $('#add-text-count'), $('#add-text-count-live'));

  function clearErrors() {
    for (const el of [reference, secret, text]) clearFieldError(el, errorOf(el));
    hideSummary(summary, summaryList);
    hideText(problem);
  }

  function showErrors(errors) {
    for (const { target, make } of errors) setFieldError(target, errorOf(target), make);
    showSummary(summary, summaryList, errors);
  }

  function showProblem(make) {
    showText(problem, make);
    problem.setAttribute('tabindex', '-1');
    problem.focus();
  }

  function validate() {
    const errors = [];
    if (reference.required && !reference.value.trim()) {
      errors.push({ target: reference, make: () => t('report.error.reference_missing') });
    }
    if (secret.required && !secret.value.trim()) {
      errors.push({ target: secret, make: () => t('report.error.secret_missing') });
    }
    const count = charCount(text.value);
    if (text.required && count === 0) {
      errors.push({ target: text, make: () => t('report.error.text_missing') });
    } else if (count > MAX_TEXT) {
      errors.push({ target: text, make: () => t('report.error.too_long', { max: formatNumber(MAX_TEXT) }) });
    }
    return errors;
  }

  async function submit() {
    if (sending) return;
    clearErrors();
    hideText(result);
    const errors = validate();
    if (errors.length) {
      showErrors(errors);
      return;
    }
    const ref = compact(reference.value);
    const code = compact(secret.value);
    const key = JSON.stringify([ref, code, text.value]);
    if (!pending || pending.key !== key) pending = { key, clientId: uuid() };
    sending = true;
    submitButton.disabled = true;
    bindText(status, () => t('report.sending'));
    try {
      const { data } = await api('POST', `/api/v1/public/reports/${encodeURIComponent(ref)}/additions`, {
        body: { secret: code, text: text.value, client_id: pending.clientId },
        timeoutMs: SEND_TIMEOUT_MS,
      });
      pending = null;
      const shown = data?.reference || ref;
      text.value = '';
      updateCounter({ announce: false });
      showText(result, () => t('report.add.added', { reference: shown }));
      result.focus();
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        showProblem(() => t('report.add.wrong'));
      } else if (err instanceof ApiError && err.status === 422) {
        const fields = err.fields.length ? err.fields : ['text'];
        const mapped = [];
        for (const field of fields) {
          if (field === 'text') {
            const tooLong = charCount(text.value) > MAX_TEXT;
            mapped.push({
              target: text,
              make: tooLong
                ? () => t('report.error.too_long', { max: formatNumber(MAX_TEXT) })
                : () => t('report.error.text_missing'),
            });
          } else if (field === 'secret') {
            mapped.push({ target: secret, make: () => t('report.add.wrong') });
          } else if (field === 'reference') {
            mapped.push({ target: reference, make: () => t('report.add.wrong') });
          }
        }
        if (mapped.length) showErrors(mapped);
        else showProblem(() => t('report.add.server'));
      } else if (err instanceof ApiError && err.status === 404) {
        // A reference that does not exist is as wrong as a wrong code.
        showProblem(() => t('report.add.wrong'));
      } else if (err instanceof ApiError && err.status === 429) {
        const minutes = minutesFrom(err.retryAfter);
        showProblem(() => t('report.add.rate_limited', { minutes }));
      } else if (err instanceof NetworkError) {
        showProblem(() => t('report.add.network'));
      } else {
        showProblem(() => t('report.add.server'));
      }
    } finally {
      sending = false;
      submitButton.disabled = false;
      bindText(status, () => '');
    }
  }

  /** Empties the view: when leaving it, and after the page starts over. */
  function reset() {
    form.reset();
    pending = null;
    clearErrors();
    hideText(result);
    updateCounter({ announce: false });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  refreshMarkers(form);

  return { reset };
}
