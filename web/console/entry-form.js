// The entry form: logging a new contact, correcting an existing entry, or fixing a write
// the server refused. Every keystroke is reported to onChange so the caller can keep a
// draft; nothing here clears typed text except an explicit discard.

import { fill, h } from './dom.js';
import { checkField, clearFieldError, labelledField, showFieldError, submitWhenValid } from './form-fields.js';
import { applyTranslations } from './i18n.js';
import { CATEGORIES, LOGGABLE_CHANNELS, RISK_FLAGS, STATUSES, URGENCIES } from './model.js';
import { fromLocalInput, helsinkiToday, now, toLocalInput, toRfc3339 } from './time.js';

const MAX_SUMMARY = 200;
const MAX_SHORT = 200;
const MAX_TEXT = 20000;
const FUTURE_SLACK_MS = 5 * 60 * 1000;
const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** A fresh form: phone call in, normal urgency, anonymous, starting now. */
export function defaultValues(id) {
  return {
    id,
    channel: 'phone_in',
    category: '',
    urgency: 'normal',
    status: 'open',
    summary: '',
    identified: false,
    alias: '',
    name: '',
    birth_date: '',
    municipality: '',
    occurred_at: toLocalInput(now()),
    notes: '',
    actions: '',
    risk: Object.fromEntries([...RISK_FLAGS.map((f) => [f, false]), ['timeframe', '']]),
    follow_up: false,
    police_unit: '',
    police_outcome: '',
  };
}

/** Form values for an existing entry. */
export function valuesFromEntry(entry) {
  const s = entry.subject || {};
  const identified = s.anonymous === false;
  return {
    id: entry.id,
    channel: entry.channel,
    category: entry.category,
    urgency: entry.urgency,
    status: entry.status,
    summary: entry.summary || '',
    identified,
    alias: identified ? '' : s.alias || '',
    name: identified ? s.name || '' : '',
    birth_date: identified ? s.birth_date || '' : '',
    municipality: identified ? s.municipality || '' : '',
    occurred_at: toLocalInput(new Date(entry.occurred_at)),
    notes: entry.notes || '',
    actions: entry.actions || '',
    risk: { ...defaultValues().risk, ...(entry.risk || {}) },
    follow_up: Boolean(entry.follow_up),
    police_unit: entry.police?.unit || '',
    police_outcome: entry.police?.outcome || '',
  };
}

/** The API's field values for form values (create body and PATCH fields alike). */
export function fieldsFromValues(v) {
  const occurred = fromLocalInput(v.occurred_at);
  return {
    channel: v.channel,
    category: v.category,
    urgency: v.urgency,
    status: v.status,
    summary: v.summary.trim(),
    subject: v.identified
      ? {
          anonymous: false,
          name: v.name.trim(),
          birth_date: v.birth_date || null,
          municipality: v.municipality.trim() || null,
        }
      : { anonymous: true, alias: v.alias.trim() },
    notes: v.notes,
    actions: v.actions,
    risk: { ...v.risk, timeframe: (v.risk.timeframe || '').trim() },
    follow_up: Boolean(v.follow_up),
    // Police details go with a police request, or whenever a unit has been written down.
    police:
      v.channel === 'police_request' || v.police_unit.trim()
        ? { unit: v.police_unit.trim(), outcome: v.police_outcome.trim() }
        : null,
    occurred_at: occurred ? toRfc3339(occurred) : v.occurred_at,
  };
}

/** The POST /api/v1/entries body. */
export function createBody(v) {
  const fields = fieldsFromValues(v);
  delete fields.status;
  return { id: v.id, ...fields };
}

/** Client-side checks, the same rules the server applies. Returns [{field, key, args}]. */
export function validate(v) {
  const errors = [];
  const summary = v.summary.trim();
  if (!summary) errors.push({ field: 'summary', key: 'error.summary_required' });
  else if ([...summary].length > MAX_SUMMARY) {
    errors.push({ field: 'summary', key: 'error.too_long', args: { max: MAX_SUMMARY } });
  }
  if (!v.category) errors.push({ field: 'category', key: 'error.category_required' });
  if (v.identified) {
    if (!v.name.trim()) errors.push({ field: 'subject.name', key: 'error.name_required' });
    if (v.birth_date && (v.birth_date > helsinkiToday() || v.birth_date < '1900-01-01')) {
      errors.push({ field: 'subject.birth_date', key: 'error.birth_date_invalid' });
    }
  }
  if (v.channel === 'police_request' && !v.police_unit.trim()) {
    errors.push({ field: 'police.unit', key: 'error.police_unit_required' });
  }
  const occurred = fromLocalInput(v.occurred_at);
  if (!occurred) errors.push({ field: 'occurred_at', key: 'error.occurred_invalid' });
  else if (occurred.getTime() > now().getTime() + FUTURE_SLACK_MS) {
    errors.push({ field: 'occurred_at', key: 'error.occurred_future' });
  } else if (occurred.getTime() < now().getTime() - MAX_AGE_MS) {
    errors.push({ field: 'occurred_at', key: 'error.occurred_too_old' });
  }
  for (const field of ['notes', 'actions']) {
    if ([...v[field]].length > MAX_TEXT) {
      errors.push({ field, key: 'error.too_long', args: { max: MAX_TEXT } });
    }
  }
  return errors;
}

/** Which input shows an error about an API field. */
const FIELD_INPUT = {
  channel: 'entry-channel',
  category: 'entry-category',
  urgency: 'entry-urgency',
  status: 'entry-status',
  summary: 'entry-summary',
  subject: 'entry-identified',
  'subject.anonymous': 'entry-identified',
  'subject.alias': 'entry-alias',
  'subject.name': 'entry-name',
  'subject.birth_date': 'entry-birth-date',
  'subject.municipality': 'entry-municipality',
  occurred_at: 'entry-occurred-at',
  notes: 'entry-notes',
  actions: 'entry-actions',
  risk: 'risk-suicide_thoughts',
  'risk.timeframe': 'risk-timeframe',
  follow_up: 'entry-follow-up',
  police: 'entry-police-unit',
  'police.unit': 'entry-police-unit',
  'police.outcome': 'entry-police-outcome',
};

/** The message for a server validation error on a field. */
export function serverErrorMessage(error) {
  const byField = {
    summary: 'error.summary_invalid',
    'police.unit': 'error.police_unit_required',
    police: 'error.police_unit_required',
    occurred_at: 'error.occurred_range',
    'subject.name': 'error.name_required',
    'subject.birth_date': 'error.birth_date_invalid',
  };
  return { key: byField[error.field] || 'error.invalid_field', detail: error.message };
}

let formCount = 0;

/**
 * Builds the form. options: mode ('create' | 'edit' | 'fix'), values, onSubmit(values),
 * onChange(values), onClose(), onDiscard() (create/fix only).
 */
export function buildEntryForm(options) {
  const { mode, onSubmit, onChange, onClose, onDiscard } = options;
  const prefix = `ef${(formCount += 1)}`;
  const ids = {};
  const inputs = {};
  const errorSlots = {};
  let values = structuredClone(options.values);

  const idFor = (testid) => (ids[testid] ||= `${prefix}-${testid}`);

  function errorSlot(testid) {
    const slot = h('p', { class: 'field-error', id: `${idFor(testid)}-error`, hidden: true });
    errorSlots[testid] = slot;
    return slot;
  }

  function labelled(testid, labelKey, control, { hintKey, required } = {}) {
    const made = labelledField(control, { id: idFor(testid), testid, labelKey, hintKey, required, className: `field-${testid}` });
    inputs[testid] = made.control;
    errorSlots[testid] = made.slot;
    return made.element;
  }

  /** A checkbox with its label and, after them, an error slot. */
  function checkbox(testid, labelKey, checked) {
    const made = checkField({ id: idFor(testid), testid, labelKey, checked });
    made.control.setAttribute('aria-describedby', `${made.control.id}-error`);
    inputs[testid] = made.control;
    made.element.append(errorSlot(testid));
    return made.element;
  }

  function select(keys, kind, selected, placeholderKey) {
    const el = h('select', {});
    if (placeholderKey) el.appendChild(h('option', { value: '', i18n: placeholderKey }));
    for (const key of keys) el.appendChild(h('option', { value: key, i18n: [kind, key].join('.') }));
    el.value = selected;
    return el;
  }

  const channels = LOGGABLE_CHANNELS.includes(values.channel)
    ? LOGGABLE_CHANNELS
    : [...LOGGABLE_CHANNELS, values.channel];

  const opened = now().getTime();
  const occurredInput = h('input', {
    type: 'datetime-local',
    value: values.occurred_at,
    min: toLocalInput(new Date(opened - MAX_AGE_MS)),
    max: toLocalInput(new Date(opened + FUTURE_SLACK_MS)),
  });

  const basics = h(
    'div',
    { class: 'form-grid' },
    labelled('entry-channel', 'field.channel', select(channels, 'channel', values.channel)),
    labelled(
      'entry-category',
      'field.category',
      select(CATEGORIES, 'category', values.category, 'form.choose'),
      { required: true },
    ),
    labelled('entry-urgency', 'field.urgency', select(URGENCIES, 'urgency', values.urgency)),
    mode === 'edit' ? labelled('entry-status', 'field.status', select(STATUSES, 'status', values.status)) : null,
    labelled('entry-occurred-at', 'field.occurred_at', occurredInput, { hintKey: 'form.occurred_hint' }),
  );

  const summary = labelled(
    'entry-summary',
    'field.summary',
    h('input', { type: 'text', value: values.summary, maxlength: MAX_SUMMARY, autocomplete: 'off' }),
    { required: true, hintKey: 'form.summary_hint' },
  );

  const aliasField = labelled(
    'entry-alias',
    'subject.alias',
    h('input', { type: 'text', value: values.alias, maxlength: MAX_SHORT, autocomplete: 'off' }),
    { hintKey: 'form.alias_hint' },
  );
  const identifiedFields = h(
    'div',
    { class: 'form-grid' },
    labelled(
      'entry-name',
      'subject.name',
      h('input', { type: 'text', value: values.name, maxlength: MAX_SHORT, autocomplete: 'off' }),
      { required: true },
    ),
    labelled(
      'entry-birth-date',
      'subject.birth_date',
      h('input', { type: 'date', value: values.birth_date, max: helsinkiToday(), min: '1900-01-01' }),
    ),
    labelled(
      'entry-municipality',
      'subject.municipality',
      h('input', { type: 'text', value: values.municipality, maxlength: MAX_SHORT, autocomplete: 'off' }),
    ),
  );
  const subject = h(
    'fieldset',
    { class: 'form-section' },
    h('legend', { i18n: 'field.subject' }),
    checkbox('entry-identified', 'subject.identified', values.identified),
    aliasField,
    identifiedFields,
  );

  const police = h(
    'fieldset',
    { class: 'form-section police-section' },
    h('legend', { i18n: 'field.police' }),
    h(
      'div',
      { class: 'form-grid' },
      labelled(
        'entry-police-unit',
        'police.unit',
        h('input', { type: 'text', value: values.police_unit, maxlength: MAX_SHORT, autocomplete: 'off' }),
        { required: true, hintKey: 'police.unit_hint' },
      ),
      labelled(
        'entry-police-outcome',
        'police.outcome',
        h('textarea', { rows: 2, value: values.police_outcome }),
      ),
    ),
  );

  const texts = h(
    'div',
    { class: 'form-texts' },
    labelled('entry-notes', 'field.notes', h('textarea', { rows: 5, value: values.notes }), {
      hintKey: 'form.notes_hint',
    }),
    labelled('entry-actions', 'field.actions', h('textarea', { rows: 3, value: values.actions })),
  );

  const riskGroup = (kind) =>
    h(
      'div',
      { class: 'risk-group', role: 'group', 'aria-labelledby': `${prefix}-risk-${kind}` },
      h('p', { class: 'risk-group-title', id: `${prefix}-risk-${kind}`, i18n: ['risk', `group_${kind}`].join('.') }),
      ...['thoughts', 'plan', 'means'].map((what) =>
        checkbox(`risk-${kind}_${what}`, ['risk', `${kind}_${what}`].join('.'), values.risk[`${kind}_${what}`]),
      ),
    );
  const risk = h(
    'fieldset',
    { class: 'form-section risk-section' },
    h('legend', { i18n: 'field.risk' }),
    h('div', { class: 'risk-grid' }, riskGroup('suicide'), riskGroup('violence')),
    labelled(
      'risk-timeframe',
      'risk.timeframe',
      h('input', { type: 'text', value: values.risk.timeframe, maxlength: MAX_SHORT, autocomplete: 'off' }),
      { hintKey: 'risk.timeframe_hint' },
    ),
  );

  const followUp = checkbox('entry-follow-up', 'field.follow_up_long', values.follow_up);

  const formError = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const saveButton = h('button', {
    type: 'submit',
    class: 'btn btn-primary',
    'data-testid': 'entry-save',
    i18n: mode === 'edit' ? 'form.save_changes' : 'form.save',
  });
  const closeButton = h('button', {
    type: 'button',
    class: 'btn',
    'data-testid': 'entry-close',
    i18n: mode === 'edit' ? 'form.cancel_edit' : 'form.close_keep_draft',
  });
  const discardButton =
    mode !== 'edit' && onDiscard
      ? h('button', { type: 'button', class: 'btn btn-quiet', 'data-testid': 'entry-discard', i18n: 'form.discard' })
      : null;

  const form = h(
    'form',
    { class: 'entry-form', 'data-testid': 'entry-form', novalidate: true, dataset: { mode } },
    formError,
    basics,
    summary,
    subject,
    police,
    texts,
    risk,
    followUp,
    h('div', { class: 'form-actions' }, saveButton, closeButton, discardButton),
    h('p', { class: 'form-draft-note', i18n: 'form.draft_note' }),
  );

  function read() {
    const v = {
      id: values.id,
      channel: inputs['entry-channel'].value,
      category: inputs['entry-category'].value,
      urgency: inputs['entry-urgency'].value,
      status: inputs['entry-status'] ? inputs['entry-status'].value : values.status,
      summary: inputs['entry-summary'].value,
      identified: inputs['entry-identified'].checked,
      alias: inputs['entry-alias'].value,
      name: inputs['entry-name'].value,
      birth_date: inputs['entry-birth-date'].value,
      municipality: inputs['entry-municipality'].value,
      occurred_at: inputs['entry-occurred-at'].value,
      notes: inputs['entry-notes'].value,
      actions: inputs['entry-actions'].value,
      risk: { timeframe: inputs['risk-timeframe'].value },
      follow_up: inputs['entry-follow-up'].checked,
      police_unit: inputs['entry-police-unit'].value,
      police_outcome: inputs['entry-police-outcome'].value,
    };
    for (const flag of RISK_FLAGS) v.risk[flag] = inputs[`risk-${flag}`].checked;
    values = v;
    return v;
  }

  function syncVisibility() {
    const identified = inputs['entry-identified'].checked;
    aliasField.hidden = identified;
    identifiedFields.hidden = !identified;
    const hasPolice = inputs['entry-police-unit'].value.trim() || inputs['entry-police-outcome'].value.trim();
    police.hidden = inputs['entry-channel'].value !== 'police_request' && !hasPolice;
  }

  function clearErrors() {
    formError.hidden = true;
    formError.textContent = '';
    for (const [testid, slot] of Object.entries(errorSlots)) clearFieldError(slot, inputs[testid]);
  }

  /** Shows errors next to their fields and focuses the first. errors: [{field, key, args, detail}] */
  function showErrors(errors) {
    clearErrors();
    const unplaced = [];
    for (const err of errors) {
      const testid = FIELD_INPUT[err.field];
      const slot = testid && errorSlots[testid];
      if (!slot) {
        unplaced.push(err);
        continue;
      }
      // Make sure the field is visible (e.g. police details, identified subject).
      if (testid === 'entry-police-unit' || testid === 'entry-police-outcome') police.hidden = false;
      if (['entry-name', 'entry-birth-date', 'entry-municipality'].includes(testid)) identifiedFields.hidden = false;
      showFieldError(slot, inputs[testid], err.key, err.args, err.detail);
    }
    // Focus the first marked field in reading order.
    const first = form.querySelector('[aria-invalid="true"]');
    formError.hidden = false;
    fill(formError,
      h('span', { i18n: 'form.fix_errors', i18nArgs: { count: errors.length } }),
      ...unplaced.map((err) =>
        h(
          'span',
          { class: 'form-error-line' },
          h('span', { i18n: err.key, i18nArgs: err.args }),
          err.detail ? h('span', { class: 'server-detail', lang: 'en', text: ` (${err.detail})` }) : null,
        ),
      ),
    );
    applyTranslations(form);
    if (first) {
      first.focus();
    } else {
      formError.setAttribute('tabindex', '-1');
      formError.focus();
    }
  }

  /** A problem not about one field (saving failed, kept locally, …). */
  function showFormMessage(key, args) {
    formError.hidden = false;
    fill(formError, h('span', { i18n: key, i18nArgs: args }));
    applyTranslations(formError);
  }

  let busy = false;
  function setBusy(on) {
    busy = on;
    // aria-disabled rather than disabled: a disabled button would drop keyboard focus.
    if (on) saveButton.setAttribute('aria-disabled', 'true');
    else saveButton.removeAttribute('aria-disabled');
    saveButton.setAttribute('aria-busy', on ? 'true' : 'false');
    saveButton.setAttribute('data-i18n', on ? 'form.saving' : mode === 'edit' ? 'form.save_changes' : 'form.save');
    applyTranslations(saveButton);
  }

  form.addEventListener('input', () => {
    read();
    onChange?.(values);
  });
  form.addEventListener('change', () => {
    read();
    syncVisibility();
    onChange?.(values);
  });
  submitWhenValid(form, { isBusy: () => busy, read, validate, showErrors, clearErrors, submit: onSubmit });
  closeButton.addEventListener('click', () => onClose?.());
  discardButton?.addEventListener('click', () => onDiscard?.());

  syncVisibility();
  applyTranslations(form);

  return {
    element: form,
    values: () => read(),
    /** Focuses the first field (without scrolling the panel) and returns it. */
    focusFirst() {
      inputs['entry-channel'].focus({ preventScroll: true });
      return inputs['entry-channel'];
    },
    showErrors,
    showFormMessage,
    clearErrors,
    setBusy,
  };
}
