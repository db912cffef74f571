// The reason prompt. An on-call worker opens a named client's entry outside their own work
// (not logged or held by them, not touched within the shift) only with a stated reason,
// 10–500 characters, which the server writes into the access log and shows to the
// supervisors (DESIGN §3, access log). The reason lives only in this dialog and in the two
// requests it is sent with; it is never stored, and the dialog is removed once answered.

import { fill, h } from './dom.js';
import { applyTranslations } from './i18n.js';
import { uniqueId } from './form-fields.js';

export const REASON_MIN = 10;
export const REASON_MAX = 500;

/** The open prompt: {dialog, finish(reason|null)}. One at a time. */
let current = null;

/** Characters as the server counts them (code points, surrounding whitespace left out). */
export function reasonLength(text) {
  return [...String(text || '').trim()].length;
}

/** null when fine, else the message key of what is wrong. */
function problem(text) {
  const n = reasonLength(text);
  if (n < REASON_MIN) return 'access.reason.too_short';
  if (n > REASON_MAX) return 'access.reason.too_long';
  return null;
}

export function isReasonOpen() {
  return Boolean(current);
}

/**
 * Asks why the entry is opened. Resolves to the reason (trimmed), or null when the worker
 * cancels (button or Esc). refused: the server did not take the previous reason.
 * A second prompt replaces an open one (which then resolves to null).
 */
export function askReason({ refused = false } = {}) {
  current?.finish(null);
  const returnFocusTo = document.activeElement;
  const id = uniqueId('reason');
  const ids = { title: `${id}-title`, explain: `${id}-explain`, input: `${id}-input`, hint: `${id}-hint`, count: `${id}-count`, error: `${id}-error` };

  const input = h('textarea', {
    id: ids.input,
    'data-testid': 'reason-input',
    rows: 4,
    'aria-required': 'true',
    'aria-describedby': `${ids.hint} ${ids.count} ${ids.error}`,
    autocomplete: 'off',
  });
  const count = h('p', { class: 'field-hint reason-count', id: ids.count, 'data-testid': 'reason-count' });
  const error = h('p', { class: 'field-error', id: ids.error, 'data-testid': 'reason-error', role: 'status', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'reason-submit', i18n: 'access.reason.submit' });
  const cancel = h('button', { type: 'button', class: 'btn btn-quiet', 'data-testid': 'reason-cancel', i18n: 'common.cancel' });
  const form = h(
    'form',
    { class: 'reason-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: ids.input, i18n: 'access.reason.label' }), h('p', { class: 'field-hint', id: ids.hint, i18n: 'access.reason.hint' }), input, count, error),
    h('div', { class: 'dialog-actions' }, submit, cancel),
  );
  const dialog = h(
    'dialog',
    {
      class: 'reason-dialog',
      'data-testid': 'reason-dialog',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': ids.title,
      'aria-describedby': ids.explain,
    },
    h('h2', { id: ids.title, tabindex: '-1', i18n: 'access.reason.title' }),
    h('p', { id: ids.explain, class: 'reason-explain', i18n: 'access.reason.explain' }),
    refused ? h('p', { class: 'banner banner-error', role: 'alert', 'data-testid': 'reason-refused', i18n: 'access.reason.refused' }) : null,
    form,
  );

  // Errors for "too short" show once the worker tried to open or left the field; "too
  // long" shows at once. The counter always follows.
  let touched = false;
  function validate() {
    const n = reasonLength(input.value);
    fill(count, h('span', { i18n: 'access.reason.count', i18nArgs: { count: n, max: REASON_MAX } }));
    count.classList.toggle('is-over', n > REASON_MAX);
    const key = problem(input.value);
    const shown = key && (touched || key === 'access.reason.too_long') ? key : null;
    if (shown) {
      error.hidden = false;
      fill(error, h('span', { i18n: shown }));
      input.setAttribute('aria-invalid', 'true');
    } else {
      error.hidden = true;
      error.textContent = '';
      input.removeAttribute('aria-invalid');
    }
    applyTranslations(dialog);
    return !key;
  }

  let resolvePromise;
  const promise = new Promise((resolve) => {
    resolvePromise = resolve;
  });

  const prompt = {
    dialog,
    finish(reason) {
      if (current !== prompt) return;
      current = null;
      // Nothing of the reason stays behind in the page.
      input.value = '';
      if (dialog.open) dialog.close();
      dialog.remove();
      if (returnFocusTo && returnFocusTo !== document.body && returnFocusTo.isConnected) returnFocusTo.focus?.();
      resolvePromise(reason);
    },
  };
  current = prompt;

  input.addEventListener('input', () => validate());
  input.addEventListener('blur', () => {
    if (input.value.trim() && !touched) {
      touched = true;
      validate();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    touched = true;
    if (!validate()) {
      input.focus();
      return;
    }
    prompt.finish(input.value.trim());
  });
  cancel.addEventListener('click', () => prompt.finish(null));
  // Esc cancels. Keys stay inside the modal: the console's own shortcuts (Esc closes the
  // panel, N opens a new entry) must not act behind it.
  dialog.addEventListener('keydown', (event) => {
    event.stopPropagation();
    if (event.key === 'Escape') {
      event.preventDefault();
      prompt.finish(null);
    }
  });
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault();
    prompt.finish(null);
  });

  document.body.append(dialog);
  validate();
  dialog.showModal();
  input.focus();
  return promise;
}
