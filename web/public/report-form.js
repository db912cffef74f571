// Step 3 of /report: the form of the chosen kind, its checks, and sending it.
//
// The browser's checks mirror the server's (required fields, lengths, dates), but the
// server is the judge: a 422 names the field(s) at fault and the page shows its message
// under each of them. What the person typed is never lost: a failed send leaves every
// field as it was, and the same form can be sent again.

import { t, language } from './i18n.js';
import {
  $,
  $$,
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
  todayInHelsinki,
  formatNumber,
} from './report-util.js';
import { ApiError, NetworkError, api } from './http.js';
import { uuid } from '../shared/uuid.js';

/** The request's field names and the inputs that hold them, in the form's order. */
const FIELD_INPUTS = {
  'reporter.professional': 'reporter-group',
  'reporter.name': 'reporter-name',
  'reporter.organisation': 'reporter-organisation',
  'reporter.phone': 'reporter-phone',
  'reporter.email': 'reporter-email',
  consent: 'consent',
  'subject.name': 'subject-name',
  'subject.birth_date': 'subject-birth-date',
  'subject.age': 'subject-age',
  'subject.municipality': 'subject-municipality',
  'subject.guardians': 'subject-guardians',
  description: 'description',
};

/** Longest accepted values, in characters (the server's limits). */
const LIMITS = {
  'subject-name': 200,
  'subject-municipality': 200,
  'subject-guardians': 1000,
  description: MAX_TEXT,
};

export const kindLabel = {
  contact: () => t('report.kind.contact'),
  concern: () => t('report.kind.concern'),
  child_welfare: () => t('report.kind.child_welfare'),
  older_person: () => t('report.kind.older_person'),
};

/** The message for a field, by what is wrong with it: required | too_long | invalid. */
function messageFor(id, reason) {
  if (reason === 'too_long') {
    const max = LIMITS[id];
    if (max) return () => t('report.error.too_long', { max: formatNumber(max) });
  }
  switch (id) {
    case 'reporter-group':
      return () => t('report.error.reporter_type');
    case 'reporter-name':
      return reason === 'required' ? () => t('report.error.reporter_name') : () => t('report.error.field');
    case 'reporter-organisation':
      return reason === 'required' ? () => t('report.error.reporter_organisation') : () => t('report.error.field');
    case 'reporter-phone':
      return reason === 'required' ? () => t('report.error.reporter_phone') : () => t('report.error.reporter_phone_invalid');
    case 'reporter-email':
      return () => t('report.error.reporter_email');
    case 'consent':
      return () => t('report.error.consent');
    case 'description':
      return reason === 'required' ? () => t('report.error.description_missing') : () => t('report.error.field');
    case 'subject-birth-date':
      return () => t('report.error.birth_date');
    case 'subject-age':
      return () => t('report.error.age');
    default:
      return () => t('report.error.field');
  }
}

export function createReportForm({ onSent }) {
  const form = $('#report-form');
  const submitButton = $('#report-submit');
  const retryButton = $('#send-retry');
  const sendProblem = $('#send-problem');
  const sendError = $('#send-error');
  const sendingStatus = $('#sending-status');
  const summary = $('#error-summary');
  const summaryList = $('#error-summary-list');
  const reporterFields = $('#reporter-fields');
  const description = $('#description');
  const birthDate = $('#subject-birth-date');
  const honeypot = $('#website');
  const input = (id) => document.getElementById(id);
  const errorOf = (id) => (id === 'reporter-group' ? $('#reporter-type-error') : document.getElementById(`${id}-error`));

  let kind = null;
  let urgent = false;
  let sending = false;
  const updateCounter = wireCounter(description, $('#description-count'), $('#description-count-live'));

  function reporterType() {
    return $('input[name="reporter-type"]:checked', form)?.value ?? null;
  }

  /** Shows the reporter's fields for the chosen role, marking the required ones. */
  function applyReporterType() {
    const type = reporterType();
    reporterFields.hidden = !type;
    const professional = type === 'professional';
    $('#reporter-organisation-field').hidden = !professional;
    for (const id of ['reporter-name', 'reporter-organisation', 'reporter-phone']) {
      input(id).required = professional;
      if (professional) input(id).setAttribute('aria-required', 'true');
      else input(id).removeAttribute('aria-required');
    }
    if (type) {
      bindText($('#reporter-note'), professional ? () => t('report.reporter.professional_note') : () => t('report.reporter.anonymous_note'));
    }
    refreshMarkers(form);
  }

  /** Adapts the form to the kind: consent for a contact request, guardians for a child. */
  function setKind(next, isUrgent) {
    kind = next;
    urgent = isUrgent;
    bindText($('#form-heading'), kindLabel[kind]);
    const consent = input('consent');
    $('#consent-group').hidden = kind !== 'contact';
    consent.required = kind === 'contact';
    if (consent.required) consent.setAttribute('aria-required', 'true');
    else consent.removeAttribute('aria-required');
    $('#subject-guardians-field').hidden = kind !== 'child_welfare';
    const note = $('#form-urgent-note');
    if (urgent) showText(note, () => t('report.form.urgent_note'));
    else hideText(note);
    birthDate.max = todayInHelsinki();
    refreshMarkers(form);
  }

  // --- errors

  function clearErrors() {
    for (const id of Object.values(FIELD_INPUTS)) {
      const el = input(id);
      const error = errorOf(id);
      if (el && error) clearFieldError(el, error);
    }
    hideSummary(summary, summaryList);
  }

  function hideProblem() {
    hideText(sendError);
    sendProblem.hidden = true;
    retryButton.hidden = true;
  }

  function showProblem(make, { retry = false } = {}) {
    showText(sendError, make);
    sendProblem.hidden = false;
    retryButton.hidden = !retry;
    sendError.setAttribute('tabindex', '-1');
    sendError.focus();
  }

  /** errors: [{id, make}] in the form's order; shows each under its field and in the summary. */
  function showErrors(errors) {
    const order = Object.values(FIELD_INPUTS);
    errors.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    const listed = [];
    for (const { id, make } of errors) {
      setFieldError(input(id), errorOf(id), make);
      const target = id === 'reporter-group' ? input('reporter-private') : input(id);
      listed.push({ target, make });
    }
    showSummary(summary, summaryList, listed);
  }

  /** Why a field is wrong as the browser sees it, or null. */
  function problemWith(id) {
    if (id === 'reporter-group') return reporterType() ? null : 'required';
    const el = input(id);
    if (!el || el.closest('[hidden]')) return null;
    if (el.type === 'checkbox') return el.required && !el.checked ? 'required' : null;
    if (el.validity?.badInput) return 'invalid';
    const value = el.value;
    if (!value.trim()) return el.required ? 'required' : null;
    if (LIMITS[id] && charCount(value) > LIMITS[id]) return 'too_long';
    if (el.type === 'email' && el.validity.typeMismatch) return 'invalid';
    if (id === 'subject-age') {
      const age = Number(value);
      if (!Number.isInteger(age) || age < 0 || age > 130) return 'invalid';
    }
    if (id === 'subject-birth-date' && (!/^\d{4}-\d{2}-\d{2}$/.test(value) || value > todayInHelsinki())) return 'invalid';
    return null;
  }

  function validate() {
    const errors = [];
    for (const id of Object.values(FIELD_INPUTS)) {
      const reason = problemWith(id);
      if (reason) errors.push({ id, make: messageFor(id, reason) });
    }
    return errors;
  }

  /** The server's 422: each named field gets the message for what is wrong with it. */
  function showServerErrors(fields) {
    const errors = [];
    for (const field of fields) {
      const id = FIELD_INPUTS[field];
      if (!id || errors.some((e) => e.id === id)) continue;
      if (input(id).closest('[hidden]')) continue; // not on screen: nothing to point at
      let reason = problemWith(id);
      if (!reason) {
        const el = input(id);
        const empty = el.type === 'checkbox' ? !el.checked : !el.value?.trim();
        reason = empty ? 'required' : 'invalid';
      }
      errors.push({ id, make: messageFor(id, reason) });
    }
    if (errors.length) showErrors(errors);
    else showProblem(() => t('report.error.rejected'));
  }

  // --- sending

  const text = (id) => input(id).value.trim();

  function payload() {
    const professional = reporterType() === 'professional';
    const reporter = { professional };
    const own = professional
      ? { name: 'reporter-name', organisation: 'reporter-organisation', phone: 'reporter-phone', email: 'reporter-email' }
      : { name: 'reporter-name', phone: 'reporter-phone', email: 'reporter-email' };
    for (const [key, id] of Object.entries(own)) if (text(id)) reporter[key] = text(id);

    const subject = {};
    if (text('subject-name')) subject.name = text('subject-name');
    if (text('subject-birth-date')) subject.birth_date = text('subject-birth-date');
    if (text('subject-age')) subject.age = Number(text('subject-age'));
    if (text('subject-municipality')) subject.municipality = text('subject-municipality');
    if (kind === 'child_welfare' && text('subject-guardians')) subject.guardians = text('subject-guardians');

    const body = { kind, urgent, language: language() };
    if (kind === 'contact') body.consent = input('consent').checked;
    body.description = description.value;
    if (Object.keys(subject).length) body.subject = subject;
    body.reporter = reporter;
    body.website = honeypot.value;
    return withClientId(body);
  }

  // A resend of exactly the same report (after a lost answer) carries the same client id,
  // so the server returns the report it may already have instead of making a second one.
  // Any change to the form makes it a new report with a new id.
  let lastSent = { text: null, id: null };
  function withClientId(body) {
    const text = JSON.stringify(body);
    if (text !== lastSent.text) lastSent = { text, id: uuid() };
    return { ...body, client_id: lastSent.id };
  }

  function setSending(on) {
    sending = on;
    submitButton.disabled = on;
    retryButton.disabled = on;
    if (on) bindText(sendingStatus, () => t('report.sending'));
    else bindText(sendingStatus, () => '');
  }

  async function submit() {
    if (sending || !kind) return;
    clearErrors();
    hideProblem();
    const errors = validate();
    if (errors.length) {
      showErrors(errors);
      return;
    }
    setSending(true);
    let sent = null;
    try {
      const { data } = await api('POST', '/api/v1/public/reports', {
        body: payload(),
        timeoutMs: SEND_TIMEOUT_MS,
      });
      sent = data;
    } catch (err) {
      setSending(false);
      if (err instanceof ApiError && err.status === 422) {
        showServerErrors(err.fields);
      } else if (err instanceof ApiError && err.status === 429) {
        const minutes = minutesFrom(err.retryAfter);
        showProblem(() => t('report.error.rate_limited', { minutes }));
      } else if (err instanceof ApiError && [400, 413, 415].includes(err.status)) {
        showProblem(() => t('report.error.rejected'));
      } else if (err instanceof NetworkError) {
        showProblem(() => t('report.error.network'), { retry: true });
      } else {
        showProblem(() => t('report.error.server'), { retry: true });
      }
      return;
    }
    setSending(false);
    onSent({ ...sent, urgent: sent.urgent ?? urgent });
  }

  /** Empties every field: after a receipt, and when starting over. */
  function reset() {
    lastSent = { text: null, id: null };
    form.reset();
    clearErrors();
    hideProblem();
    applyReporterType();
    updateCounter({ announce: false });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  retryButton.addEventListener('click', submit);
  for (const radio of $$('input[name="reporter-type"]', form)) {
    radio.addEventListener('change', () => {
      applyReporterType();
      clearFieldError(input('reporter-group'), errorOf('reporter-group'));
    });
  }
  applyReporterType();

  return {
    setKind,
    reset,
    get sending() {
      return sending;
    },
  };
}
