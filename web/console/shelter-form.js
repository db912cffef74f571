// The stay form: logging a new arrival at the shelter (with the referral code the desk gave,
// when there is one) or correcting a stay. The client chooses an alias; no real name is
// needed. The identity fields are optional and folded away until asked for.

import { fill, h } from './dom.js';
import { applyTranslations } from './i18n.js';
import {
  checkField,
  clearFieldError,
  countInput,
  labelledField,
  readCount,
  showFieldError,
  submitWhenValid,
  uniqueId,
} from './form-fields.js';
import { CHILD_BANDS, REFERRAL_SOURCES, SEXES, VIOLENCE_FORMS, codeDigits } from './shelter-common.js';
import { fromLocalInput, now, toLocalInput, toRfc3339 } from './time.js';

const MAX_ALIAS = 100;
const MAX_NOTES = 20000;
const MAX_IDENTITY = 500;
const FUTURE_SLACK_MS = 5 * 60 * 1000;
const IDENTITY_FIELDS = ['name', 'birth_dates', 'identity_number'];

/** Form values of an empty new arrival. */
export function emptyStayValues() {
  return {
    referral_code: '',
    alias: '',
    adults: 1,
    children: Object.fromEntries(CHILD_BANDS.map((band) => [band, 0])),
    sexes: Object.fromEntries(SEXES.map((sex) => [sex, 0])),
    violence: [],
    referral_source: '',
    notes: '',
    identity: Object.fromEntries(IDENTITY_FIELDS.map((field) => [field, ''])),
    arrived_at: toLocalInput(now()),
  };
}

/** Form values of an existing stay (GET one). */
export function stayValues(stay) {
  return {
    ...emptyStayValues(),
    alias: stay.alias || '',
    adults: stay.adults,
    children: { ...stay.children },
    sexes: { ...stay.sexes },
    violence: [...(stay.violence || [])],
    referral_source: stay.referral_source || '',
    notes: stay.notes || '',
    identity: { ...emptyStayValues().identity, ...(stay.identity || {}) },
  };
}

function identityOf(values) {
  const identity = Object.fromEntries(IDENTITY_FIELDS.map((field) => [field, (values.identity[field] || '').trim()]));
  return Object.values(identity).some(Boolean) ? identity : null;
}

/** The POST /api/v1/shelter/stays body. arrivedEdited: the arrival time was changed by hand. */
export function createStayBody(values, arrivedEdited) {
  const code = codeDigits(values.referral_code);
  const body = {
    alias: values.alias.trim(),
    adults: values.adults,
    children: values.children,
    sexes: values.sexes,
    violence: values.violence,
    referral_source: values.referral_source || (code ? 'oncall_referral' : ''),
  };
  if (values.notes.trim()) body.notes = values.notes;
  const identity = identityOf(values);
  if (identity) body.identity = identity;
  if (code) body.referral_code = code;
  const arrived = arrivedEdited ? fromLocalInput(values.arrived_at) : null;
  if (arrived) body.arrived_at = toRfc3339(arrived);
  return body;
}

/** The PATCH fields that differ from the stay as it was read. */
export function stayChanges(stay, values) {
  const changes = {};
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  if (values.alias.trim() !== stay.alias) changes.alias = values.alias.trim();
  for (const field of ['adults', 'children', 'sexes', 'referral_source', 'notes']) {
    if (!same(values[field], stay[field] ?? (field === 'notes' ? '' : null))) changes[field] = values[field];
  }
  if (!same([...values.violence].sort(), [...(stay.violence || [])].sort())) changes.violence = values.violence;
  const identity = identityOf(values);
  const before = stay.identity && Object.values(stay.identity).some(Boolean) ? stay.identity : null;
  if (!same(identity, before && Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, before[f] || ''])))) changes.identity = identity;
  return changes;
}

/** Which control shows an error about an API field. */
function controlKey(field) {
  const [head, rest] = String(field || '').split('.');
  if (head === 'children') return `children.${CHILD_BANDS.includes(rest) ? rest : CHILD_BANDS[0]}`;
  if (head === 'sexes') return `sexes.${SEXES.includes(rest) ? rest : SEXES[0]}`;
  if (head === 'violence') return `violence.${VIOLENCE_FORMS[0]}`;
  if (head === 'identity') return `identity.${IDENTITY_FIELDS.includes(rest) ? rest : IDENTITY_FIELDS[0]}`;
  return head;
}

/** The label of each control, for the list of errors at the top of the form. */
const FIELD_LABEL = {
  referral_code: 'shelter.field.referral_code',
  alias: 'shelter.field.alias',
  arrived_at: 'shelter.field.arrived_at',
  adults: 'shelter.field.adults',
  referral_source: 'shelter.field.referral_source',
  notes: 'shelter.field.notes',
};

function labelOf(key) {
  const [head, rest] = key.split('.');
  if (head === 'children') return ['age_band', rest].join('.');
  if (head === 'sexes') return 'shelter.field.sexes';
  if (head === 'violence') return 'shelter.field.violence';
  if (head === 'identity') return ['shelter.identity', rest].join('.');
  return FIELD_LABEL[head] || 'shelter.field.other';
}

/**
 * Builds the form. options: mode ('create' | 'edit'), values, onSubmit(values, {arrivedEdited}),
 * onCancel() (edit only). Returns {element, values(), reset(), showErrors(), showServerError(),
 * showFormMessage(), setBusy(), focusFirst()}.
 */
export function buildStayForm({ mode, values: initial, onSubmit, onCancel }) {
  const prefix = uniqueId('stay');
  const controls = {};
  const slots = {};
  let arrivedEdited = false;

  const field = (key, control, options) => {
    const made = labelledField(control, { id: `${prefix}-${key.replace('.', '-')}`, ...options });
    controls[key] = made.control;
    slots[key] = made.slot;
    return made.element;
  };
  const count = (key, value, testid, labelKey) => field(key, countInput(value), { testid, labelKey, className: 'field-count' });

  const codeField =
    mode === 'create'
      ? field('referral_code', h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', maxlength: 20, spellcheck: 'false', value: initial.referral_code }), {
          testid: 'stay-referral-code',
          labelKey: 'shelter.field.referral_code',
          hintKey: 'shelter.hint.referral_code',
        })
      : null;
  const aliasField = field('alias', h('input', { type: 'text', autocomplete: 'off', maxlength: MAX_ALIAS, value: initial.alias }), {
    testid: 'stay-alias',
    labelKey: 'shelter.field.alias',
    hintKey: 'shelter.hint.alias',
    required: true,
  });
  const arrivedField =
    mode === 'create'
      ? field('arrived_at', h('input', { type: 'datetime-local', value: initial.arrived_at, max: toLocalInput(new Date(now().getTime() + FUTURE_SLACK_MS)) }), {
          testid: 'stay-arrived',
          labelKey: 'shelter.field.arrived_at',
          hintKey: 'shelter.hint.arrived_at',
        })
      : null;

  const totalHint = h('p', { class: 'field-hint stay-total', id: `${prefix}-total`, 'aria-live': 'polite' });
  const people = h(
    'fieldset',
    { class: 'form-section' },
    h('legend', { i18n: 'shelter.field.people' }),
    h(
      'div',
      { class: 'form-grid form-grid-counts' },
      count('adults', initial.adults, 'stay-adults', 'shelter.field.adults'),
      CHILD_BANDS.map((band) => count(`children.${band}`, initial.children[band], `stay-children-${band}`, ['age_band', band].join('.'))),
    ),
  );
  const sexes = h(
    'fieldset',
    { class: 'form-section', 'aria-describedby': totalHint.id },
    h('legend', { i18n: 'shelter.field.sexes' }),
    h('p', { class: 'field-hint', i18n: 'shelter.hint.sexes' }),
    h('div', { class: 'form-grid form-grid-counts' }, SEXES.map((sex) => count(`sexes.${sex}`, initial.sexes[sex], `stay-sex-${sex}`, ['sex', sex].join('.')))),
    totalHint,
  );

  const violenceSlot = h('p', { class: 'field-error', id: `${prefix}-violence-error`, hidden: true });
  const violence = h(
    'fieldset',
    { class: 'form-section', 'aria-describedby': violenceSlot.id },
    h('legend', { i18n: 'shelter.field.violence' }),
    h(
      'div',
      { class: 'check-grid' },
      VIOLENCE_FORMS.map((form) => {
        const made = checkField({
          id: `${prefix}-violence-${form}`,
          testid: `stay-violence-${form}`,
          labelKey: ['violence', form].join('.'),
          checked: initial.violence.includes(form),
          value: form,
        });
        controls[`violence.${form}`] = made.control;
        return made.element;
      }),
    ),
    violenceSlot,
  );
  slots[`violence.${VIOLENCE_FORMS[0]}`] = violenceSlot;

  const sourceSelect = h(
    'select',
    {},
    h('option', { value: '', i18n: 'form.choose' }),
    REFERRAL_SOURCES.map((source) => h('option', { value: source, i18n: ['referral_source', source].join('.') })),
  );
  sourceSelect.value = initial.referral_source;
  const sourceField = field('referral_source', sourceSelect, { testid: 'stay-source', labelKey: 'shelter.field.referral_source', required: true });
  const notesField = field('notes', h('textarea', { rows: 4, maxlength: MAX_NOTES, value: initial.notes }), {
    testid: 'stay-notes',
    labelKey: 'shelter.field.notes',
    hintKey: 'shelter.hint.notes',
  });

  const identityBox = h(
    'div',
    { class: 'form-grid', id: `${prefix}-identity` },
    IDENTITY_FIELDS.map((name) =>
      field(`identity.${name}`, h('input', { type: 'text', autocomplete: 'off', maxlength: MAX_IDENTITY, value: initial.identity[name] }), {
        testid: `stay-identity-${name.replaceAll('_', '-')}`,
        labelKey: ['shelter.identity', name].join('.'),
      }),
    ),
  );
  const hasIdentity = IDENTITY_FIELDS.some((name) => initial.identity[name]);
  identityBox.hidden = !hasIdentity;
  const identityToggle = h('button', {
    type: 'button',
    class: 'btn btn-small btn-quiet',
    'data-testid': 'stay-identity-toggle',
    'aria-expanded': String(hasIdentity),
    'aria-controls': identityBox.id,
  });
  const identity = h(
    'fieldset',
    { class: 'form-section identity-section' },
    h('legend', { i18n: 'shelter.identity.title' }),
    h('p', { class: 'field-hint', i18n: 'shelter.hint.identity' }),
    identityToggle,
    identityBox,
  );

  const formError = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'stay-error', tabindex: '-1', hidden: true });
  const saveButton = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'stay-save' });
  const cancelButton = onCancel ? h('button', { type: 'button', class: 'btn', 'data-testid': 'stay-cancel', i18n: 'common.cancel' }) : null;

  const form = h(
    'form',
    { class: 'stay-form', 'data-testid': 'stay-form', novalidate: true, dataset: { mode } },
    formError,
    codeField,
    aliasField,
    arrivedField,
    people,
    sexes,
    violence,
    sourceField,
    notesField,
    identity,
    h('div', { class: 'form-actions' }, saveButton, cancelButton),
  );

  function read() {
    const out = {
      referral_code: controls.referral_code?.value || '',
      alias: controls.alias.value,
      adults: readCount(controls.adults),
      children: Object.fromEntries(CHILD_BANDS.map((band) => [band, readCount(controls[`children.${band}`])])),
      sexes: Object.fromEntries(SEXES.map((sex) => [sex, readCount(controls[`sexes.${sex}`])])),
      violence: VIOLENCE_FORMS.filter((form) => controls[`violence.${form}`].checked),
      referral_source: sourceSelect.value,
      notes: controls.notes.value,
      identity: Object.fromEntries(IDENTITY_FIELDS.map((name) => [name, controls[`identity.${name}`].value])),
      arrived_at: controls.arrived_at?.value || '',
    };
    return out;
  }

  const sum = (counts) => Object.values(counts).reduce((a, b) => a + (b || 0), 0);

  function updateTotal() {
    const v = read();
    const persons = (v.adults || 0) + sum(v.children);
    const sexed = sum(v.sexes);
    totalHint.classList.toggle('is-mismatch', persons !== sexed);
    totalHint.setAttribute('data-i18n-fmt', persons === sexed ? 'shelter.total_ok' : 'shelter.total_mismatch');
    totalHint.setAttribute('data-i18n-args', JSON.stringify({ persons, sexes: sexed }));
    applyTranslations(totalHint);
  }

  function updateToggle() {
    identityToggle.setAttribute('data-i18n', identityBox.hidden ? 'shelter.identity.show' : 'shelter.identity.hide');
    identityToggle.setAttribute('aria-expanded', String(!identityBox.hidden));
    applyTranslations(identityToggle);
  }

  function validate(v) {
    const errors = [];
    const code = codeDigits(v.referral_code);
    if (code && !/^\d{8}$/.test(code)) errors.push({ field: 'referral_code', key: 'shelter.error.code_format' });
    const alias = v.alias.trim();
    if (!alias) errors.push({ field: 'alias', key: 'shelter.error.alias_required' });
    else if ([...alias].length > MAX_ALIAS) errors.push({ field: 'alias', key: 'error.too_long', args: { max: MAX_ALIAS } });
    if (mode === 'create' && v.arrived_at) {
      const arrived = fromLocalInput(v.arrived_at);
      if (!arrived) errors.push({ field: 'arrived_at', key: 'error.occurred_invalid' });
      else if (arrived.getTime() > now().getTime() + FUTURE_SLACK_MS) errors.push({ field: 'arrived_at', key: 'error.occurred_future' });
    }
    const counts = [['adults', v.adults], ...CHILD_BANDS.map((b) => [`children.${b}`, v.children[b]]), ...SEXES.map((s) => [`sexes.${s}`, v.sexes[s]])];
    const bad = counts.filter(([, n]) => n === null);
    for (const [key] of bad) errors.push({ field: key, key: 'shelter.error.count_invalid' });
    if (!bad.length) {
      const persons = v.adults + sum(v.children);
      if (persons < 1) errors.push({ field: 'adults', key: 'shelter.error.persons_required' });
      else if (sum(v.sexes) !== persons) errors.push({ field: 'sexes', key: 'shelter.error.sexes_sum', args: { persons, sexes: sum(v.sexes) } });
    }
    if (!v.referral_source && !code) errors.push({ field: 'referral_source', key: 'shelter.error.source_required' });
    return errors;
  }

  function clearErrors() {
    formError.hidden = true;
    formError.replaceChildren();
    for (const [key, slot] of Object.entries(slots)) clearFieldError(slot, controls[key]);
    for (const form of VIOLENCE_FORMS) controls[`violence.${form}`].removeAttribute('aria-invalid');
  }

  /** errors: [{field, key, args, detail}], field as the API names it. Focuses the first. */
  function showErrors(errors) {
    clearErrors();
    const lines = [];
    for (const err of errors) {
      const key = controlKey(err.field);
      const slot = slots[key];
      if (key.startsWith('identity.') && identityBox.hidden) {
        identityBox.hidden = false;
        updateToggle();
      }
      if (slot) showFieldError(slot, controls[key], err.key, err.args, err.detail);
      lines.push(
        h(
          'span',
          { class: 'form-error-line' },
          h('span', { i18n: slot ? labelOf(key) : 'shelter.field.other' }),
          h('span', { text: ': ' }),
          h('span', { i18n: err.key, i18nArgs: err.args }),
          err.detail ? h('span', { class: 'server-detail', lang: 'en', text: ` (${err.detail})` }) : null,
        ),
      );
    }
    formError.hidden = false;
    fill(formError, h('span', { i18n: 'form.fix_errors', i18nArgs: { count: errors.length } }), lines);
    applyTranslations(form);
    const first = form.querySelector('[aria-invalid="true"]');
    (first || formError).focus();
  }

  /** A refusal from the server: next to its field when it names one. */
  function showServerError(err) {
    if (err.status === 422 && err.field) {
      const key = err.field === 'referral_code' ? 'shelter.error.code_invalid' : 'error.invalid_field';
      showErrors([{ field: err.field, key, detail: err.message }]);
    } else {
      showFormMessage('shelter.error.save_failed', { message: err.message || err.code });
    }
  }

  function showFormMessage(key, args) {
    formError.hidden = false;
    fill(formError, h('span', { i18n: key, i18nArgs: args }));
    applyTranslations(formError);
    formError.focus();
  }

  let busy = false;
  function setBusy(on) {
    busy = on;
    saveButton.setAttribute('aria-disabled', on ? 'true' : 'false');
    saveButton.setAttribute('aria-busy', on ? 'true' : 'false');
    saveButton.setAttribute('data-i18n', on ? 'form.saving' : mode === 'create' ? 'shelter.save_arrival' : 'form.save_changes');
    applyTranslations(saveButton);
  }

  function setValues(v) {
    if (controls.referral_code) controls.referral_code.value = v.referral_code;
    controls.alias.value = v.alias;
    if (controls.arrived_at) controls.arrived_at.value = v.arrived_at;
    controls.adults.value = String(v.adults);
    for (const band of CHILD_BANDS) controls[`children.${band}`].value = String(v.children[band]);
    for (const sex of SEXES) controls[`sexes.${sex}`].value = String(v.sexes[sex]);
    for (const form of VIOLENCE_FORMS) controls[`violence.${form}`].checked = v.violence.includes(form);
    sourceSelect.value = v.referral_source;
    controls.notes.value = v.notes;
    for (const name of IDENTITY_FIELDS) controls[`identity.${name}`].value = v.identity[name];
    identityBox.hidden = !IDENTITY_FIELDS.some((name) => v.identity[name]);
    arrivedEdited = false;
    clearErrors();
    updateToggle();
    updateTotal();
  }

  identityToggle.addEventListener('click', () => {
    identityBox.hidden = !identityBox.hidden;
    updateToggle();
    if (!identityBox.hidden) controls['identity.name'].focus();
  });
  controls.arrived_at?.addEventListener('change', () => {
    arrivedEdited = true;
  });
  // A code means the desk referred the client: the source follows, unless chosen otherwise.
  controls.referral_code?.addEventListener('input', () => {
    if (codeDigits(controls.referral_code.value) && !sourceSelect.value) sourceSelect.value = 'oncall_referral';
  });
  form.addEventListener('input', updateTotal);
  submitWhenValid(form, {
    isBusy: () => busy,
    read,
    validate,
    showErrors,
    clearErrors,
    submit: (v) => onSubmit(v, { arrivedEdited }),
  });
  cancelButton?.addEventListener('click', () => onCancel());

  setBusy(false);
  updateToggle();
  updateTotal();
  applyTranslations(form);

  return {
    element: form,
    values: read,
    /** Back to an empty new arrival. */
    reset: () => setValues(emptyStayValues()),
    showErrors,
    showServerError,
    showFormMessage,
    setBusy,
    focusFirst() {
      (controls.referral_code || controls.alias).focus({ preventScroll: true });
    },
    /** The form is shown again: an arrival time not set by hand follows the clock. */
    refreshDefaults() {
      if (!controls.arrived_at || arrivedEdited) return;
      controls.arrived_at.value = toLocalInput(now());
      controls.arrived_at.max = toLocalInput(new Date(now().getTime() + FUTURE_SLACK_MS));
    },
    languageChanged() {
      applyTranslations(form);
    },
  };
}
