// "Turned away for lack of space": the shelter logs how many adults and children it could not
// take in because it was full (counts only, for THL), and sees this year's list.

import * as api from './api.js';
import { fill, h } from './dom.js';
import { applyTranslations } from './i18n.js';
import { clearFieldError, countInput, labelledField, readCount, showFieldError } from './form-fields.js';
import { helsinkiYear } from './shelter-common.js';
import { formatDate, helsinkiToday } from './time.js';

/** Builds the section into `container`. Returns {show, refresh, reset, languageChanged}. */
export function createTurnedAwaySection(container, { onSaved }) {
  let year = helsinkiYear();
  let items = null;
  let failed = false;
  let busy = false;
  let token = 0;

  const date = labelledField(h('input', { type: 'date', value: helsinkiToday(), max: helsinkiToday() }), {
    id: 'turned-away-date',
    testid: 'turned-away-date',
    labelKey: 'shelter.turned_away.date',
    required: true,
  });
  const adults = labelledField(countInput(0), { id: 'turned-away-adults', testid: 'turned-away-adults', labelKey: 'shelter.field.adults', className: 'field-count' });
  const children = labelledField(countInput(0), { id: 'turned-away-children', testid: 'turned-away-children', labelKey: 'shelter.field.children', className: 'field-count' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'turned-away-save', i18n: 'shelter.turned_away.save' });
  const message = h('div', { class: 'detail-messages', role: 'status' });
  const form = h(
    'form',
    { class: 'inbox-form turned-away-form', 'data-testid': 'turned-away-form', novalidate: true, 'aria-labelledby': 'turned-away-form-h' },
    h('h3', { id: 'turned-away-form-h', i18n: 'shelter.turned_away.form_title' }),
    date.element,
    h(
      'fieldset',
      { class: 'form-section' },
      h('legend', { i18n: 'shelter.turned_away.people' }),
      h('div', { class: 'form-grid form-grid-counts' }, adults.element, children.element),
    ),
    h('div', { class: 'handover-form-actions' }, save),
    message,
  );

  const listHeading = h('h3', { id: 'turned-away-list-h' });
  const rows = h('tbody', {});
  const totals = h('tfoot', {});
  const table = h(
    'table',
    { class: 'data-table', 'data-testid': 'turned-away-list', 'aria-labelledby': 'turned-away-list-h' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', i18n: 'shelter.turned_away.date' }), h('th', { scope: 'col', class: 'num', i18n: 'shelter.field.adults' }), h('th', { scope: 'col', class: 'num', i18n: 'shelter.field.children' }))),
    rows,
    totals,
  );
  const note = h('p', { class: 'muted' });

  container.replaceChildren(
    h('h2', { id: 'shelter-turned-away-h', tabindex: '-1', i18n: 'shelter.turned_away.title' }),
    h('p', { class: 'muted', i18n: 'shelter.turned_away.intro' }),
    form,
    listHeading,
    table,
    note,
  );

  function renderList() {
    listHeading.setAttribute('data-i18n-fmt', 'shelter.turned_away.list_title');
    listHeading.setAttribute('data-i18n-args', JSON.stringify({ year }));
    const list = items || [];
    rows.replaceChildren(
      ...list.map((item) =>
        h('tr', {}, h('td', { text: formatDate(item.date) }), h('td', { class: 'num', text: String(item.adults) }), h('td', { class: 'num', text: String(item.children) })),
      ),
    );
    const sum = (field) => list.reduce((total, item) => total + item[field], 0);
    totals.replaceChildren(
      list.length ? h('tr', {}, h('th', { scope: 'row', i18n: 'shelter.stats.total' }), h('td', { class: 'num', text: String(sum('adults')) }), h('td', { class: 'num', text: String(sum('children')) })) : null,
    );
    table.hidden = !list.length;
    note.hidden = list.length > 0;
    note.setAttribute('data-i18n', failed ? 'shelter.load_failed' : items ? 'shelter.turned_away.none' : 'common.loading');
    applyTranslations(container);
  }

  async function refresh() {
    const mine = (token += 1);
    try {
      const list = await api.turnedAway(year);
      if (mine !== token) return;
      items = [...list].sort((a, b) => b.date.localeCompare(a.date));
      failed = false;
    } catch {
      if (mine !== token) return;
      failed = !items;
    }
    renderList();
  }

  function showMessage(kind, key, args) {
    fill(message, h('p', { class: `banner banner-${kind}`, i18n: key, i18nArgs: args }));
    applyTranslations(message);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearFieldError(date.slot, date.control);
    clearFieldError(adults.slot, adults.control);
    message.replaceChildren();
    const a = readCount(adults.control);
    const c = readCount(children.control);
    if (!date.control.value || date.control.value > helsinkiToday()) {
      showFieldError(date.slot, date.control, 'shelter.turned_away.date_invalid');
      date.control.focus();
      return;
    }
    if (a === null || c === null || a + c < 1) {
      showFieldError(adults.slot, adults.control, a === null || c === null ? 'shelter.error.count_invalid' : 'shelter.error.persons_required');
      if (c === null) children.control.setAttribute('aria-invalid', 'true');
      adults.control.focus();
      return;
    }
    children.control.removeAttribute('aria-invalid');
    busy = true;
    save.setAttribute('aria-disabled', 'true');
    try {
      await api.logTurnedAway({ date: date.control.value, adults: a, children: c });
      adults.control.value = '0';
      children.control.value = '0';
      showMessage('success', 'shelter.turned_away.saved', { adults: a, children: c, date: formatDate(date.control.value) });
      onSaved?.();
      refresh();
    } catch (err) {
      if (err.status === 422 && err.field) {
        const target = err.field === 'date' ? date : adults;
        showFieldError(target.slot, target.control, 'error.invalid_field', null, err.message);
      } else {
        showMessage('error', 'shelter.error.save_failed', { message: err.message || err.code });
      }
    }
    busy = false;
    save.setAttribute('aria-disabled', 'false');
  });

  renderList();
  return {
    show() {
      year = helsinkiYear();
      date.control.max = helsinkiToday();
      if (!date.control.value) date.control.value = helsinkiToday();
      renderList();
      refresh();
      document.getElementById('shelter-turned-away-h')?.focus();
    },
    refresh,
    reset() {
      items = null;
      token += 1;
      date.control.value = helsinkiToday();
      adults.control.value = '0';
      children.control.value = '0';
      message.replaceChildren();
      renderList();
    },
    languageChanged: renderList,
  };
}
