// The shelter's statistics for THL: aggregates only (clients by age group and sex, days of
// stay, stays by length, forms of violence, people turned away for lack of space), one year
// at a time, as tables that print cleanly and as a CSV download.

import * as api from './api.js';
import { h } from './dom.js';
import { applyTranslations, locale } from './i18n.js';
import { SEXES, VIOLENCE_FORMS, helsinkiYear } from './shelter-common.js';

const YEARS_SHOWN = 6;
const LENGTHS = ['1_7', '8_30', '31_90', '91_'];

/** Builds the section into `container`. Returns {show, reset, languageChanged}. */
export function createStatsSection(container) {
  let year = helsinkiYear();
  let data = null;
  let state = 'none'; // 'none' | 'loading' | 'ready' | 'failed'
  let token = 0;

  const yearSelect = h('select', { id: 'shelter-stats-year', 'data-testid': 'shelter-stats-year' });
  const csv = h('a', { class: 'btn', 'data-testid': 'shelter-stats-csv', download: '', i18n: 'shelter.stats.csv' });
  const print = h('button', { type: 'button', class: 'btn', 'data-testid': 'shelter-stats-print', i18n: 'shelter.stats.print', on: { click: () => window.print() } });
  const heading = h('h2', { id: 'shelter-stats-h', tabindex: '-1' });
  const body = h('div', { class: 'stats-body', 'aria-live': 'polite' });

  container.replaceChildren(
    heading,
    h('p', { class: 'muted no-print', i18n: 'shelter.stats.intro' }),
    h(
      'div',
      { class: 'inbox-tools stats-tools no-print' },
      h('div', { class: 'field field-inline' }, h('label', { for: yearSelect.id, i18n: 'shelter.stats.year' }), yearSelect),
      csv,
      print,
    ),
    body,
  );

  function fillYears() {
    const current = helsinkiYear();
    const years = Array.from({ length: YEARS_SHOWN }, (_, i) => current - i);
    if (!years.includes(year)) years.push(year);
    yearSelect.replaceChildren(...years.map((y) => h('option', { value: String(y), text: String(y) })));
    yearSelect.value = String(year);
  }

  const number = (n) => new Intl.NumberFormat(locale()).format(n ?? 0);

  /** A table of label–number rows, with a caption. rows: [[labelKey, n]], total: a key or null. */
  function table(id, captionKey, rows, totalKey) {
    const sum = rows.reduce((total, [, n]) => total + (n || 0), 0);
    return h(
      'table',
      { class: 'data-table stats-table', 'data-testid': `shelter-stats-${id}` },
      h('caption', { i18n: captionKey }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', i18n: 'shelter.stats.item' }), h('th', { scope: 'col', class: 'num', i18n: 'shelter.stats.count' }))),
      h('tbody', {}, rows.map(([key, n]) => h('tr', {}, h('th', { scope: 'row', i18n: key }), h('td', { class: 'num', text: number(n) })))),
      totalKey ? h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', i18n: totalKey }), h('td', { class: 'num', text: number(sum) }))) : null,
    );
  }

  function tables(stats) {
    const clients = stats.clients || {};
    return [
      table('clients', 'shelter.stats.clients', [['shelter.field.adults', clients.adults], ['shelter.field.children', clients.children]], 'shelter.stats.total'),
      table('sex', 'shelter.stats.by_sex', SEXES.map((sex) => [['sex', sex].join('.'), clients.by_sex?.[sex]]), 'shelter.stats.total'),
      table('stays', 'shelter.stats.stays_title', [['shelter.stats.stays', stats.stays], ['shelter.stats.days_of_stay', stats.days_of_stay]], null),
      table('length', 'shelter.stats.by_length', LENGTHS.map((band) => [['stay_length', band].join('.'), stats.stays_by_length?.[band]]), 'shelter.stats.total'),
      table('violence', 'shelter.stats.violence', VIOLENCE_FORMS.map((form) => [['violence', form].join('.'), stats.violence?.[form]]), null),
      table('turned-away', 'shelter.stats.turned_away', [['shelter.field.adults', stats.turned_away?.adults], ['shelter.field.children', stats.turned_away?.children]], 'shelter.stats.total'),
    ];
  }

  function render() {
    heading.setAttribute('data-i18n-fmt', 'shelter.stats.title');
    heading.setAttribute('data-i18n-args', JSON.stringify({ year }));
    csv.href = api.shelterStatisticsPath(year, 'csv');
    csv.setAttribute('download', `turvakoti-tilasto-${year}.csv`);
    if (state === 'ready' && data) body.replaceChildren(h('div', { class: 'stats-grid' }, tables(data)));
    else body.replaceChildren(h('p', { class: 'muted', i18n: state === 'failed' ? 'shelter.stats.failed' : 'common.loading' }));
    applyTranslations(container);
  }

  async function load() {
    const mine = (token += 1);
    state = 'loading';
    render();
    try {
      const stats = await api.shelterStatistics(year);
      if (mine !== token) return;
      data = stats;
      state = 'ready';
    } catch {
      if (mine !== token) return;
      state = 'failed';
    }
    render();
  }

  yearSelect.addEventListener('change', () => {
    year = Number(yearSelect.value);
    load();
  });

  fillYears();
  render();
  return {
    show() {
      fillYears();
      load();
      heading.focus();
    },
    reset() {
      token += 1;
      year = helsinkiYear();
      data = null;
      state = 'none';
      fillYears();
      render();
    },
    languageChanged: render,
  };
}
