// Small building blocks for the console's forms: a labelled control with its hint and error
// slot, a count input, a checkbox, showing or clearing a field's error, and a submit that
// checks the form first.

import { fill, h } from './dom.js';
import { applyTranslations } from './i18n.js';

let idCount = 0;

/** A page-unique id with the given prefix. */
export function uniqueId(prefix) {
  idCount += 1;
  return `${prefix}-${idCount}`;
}

/**
 * A labelled field. Returns {element, control, slot}. options: id, testid, labelKey,
 * hintKey, required, className.
 */
export function labelledField(control, { id, testid, labelKey, hintKey, required = false, className = '' }) {
  control.id = id;
  if (testid) control.setAttribute('data-testid', testid);
  const slot = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const hint = hintKey ? h('p', { class: 'field-hint', id: `${id}-hint`, i18n: hintKey }) : null;
  control.setAttribute('aria-describedby', [hint?.id, slot.id].filter(Boolean).join(' '));
  if (required) control.setAttribute('aria-required', 'true');
  const element = h(
    'div',
    { class: `field ${className}`.trim() },
    h(
      'label',
      { for: id },
      h('span', { i18n: labelKey }),
      required ? [' ', h('span', { class: 'required-mark', i18n: 'form.required_suffix' })] : null,
    ),
    hint,
    control,
    slot,
  );
  return { element, control, slot };
}

/** A whole-number input for a count of people. */
export function countInput(value, max = 99) {
  return h('input', { type: 'number', inputmode: 'numeric', min: 0, max, step: 1, value: String(value ?? 0), class: 'count-input' });
}

/** The count in a count input: a whole number ≥ 0, or null when it is not one (empty is 0). */
export function readCount(input) {
  const text = input.value.trim();
  if (!text) return 0;
  return /^\d{1,4}$/.test(text) ? Number(text) : null;
}

/** A checkbox with its label after it. Returns {element, control}. */
export function checkField({ id, testid, labelKey, checked = false, value }) {
  const control = h('input', { type: 'checkbox', id, checked, value });
  if (testid) control.setAttribute('data-testid', testid);
  return { element: h('div', { class: 'check' }, control, h('label', { for: id, i18n: labelKey })), control };
}

/** Shows a message (and the server's own words, when given) in a field's error slot. */
export function showFieldError(slot, control, key, args, detail) {
  slot.hidden = false;
  fill(
    slot,
    h('span', { i18n: key, i18nArgs: args }),
    detail ? h('span', { class: 'server-detail', lang: 'en', text: ` (${detail})` }) : null,
  );
  applyTranslations(slot);
  control?.setAttribute('aria-invalid', 'true');
}

export function clearFieldError(slot, control) {
  slot.hidden = true;
  slot.textContent = '';
  control?.removeAttribute('aria-invalid');
}

/**
 * On submit (unless isBusy()): reads the values, shows validate()'s errors if there are any,
 * else clears the shown errors and awaits submit(values).
 */
export function submitWhenValid(form, { isBusy, read, validate, showErrors, clearErrors, submit }) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (isBusy()) return;
    const values = read();
    const errors = validate(values);
    if (errors.length) {
      showErrors(errors);
      return;
    }
    clearErrors();
    await submit(values);
  });
}
