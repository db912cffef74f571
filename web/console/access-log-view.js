// The access log as supervisors read it (DESIGN §3: every read, write, export and
// disclosure of client data is logged; a client may ask who has seen their data, Act
// 703/2023 § 11): the rows table, the "Who has seen this entry" dialog of an entry's detail,
// and the client's access report (found by name and birth date, for a period) with a print
// view of the report alone. Reading the log is itself logged by the server.

import { request } from './api.js';
import { fill, h } from './dom.js';
import { applyTranslations, has, markText } from './i18n.js';
import { uniqueId } from './form-fields.js';
import { app } from './state.js';
import { formatDate, formatLong, helsinkiToday, now } from './time.js';

const RECORD_TYPES = ['entry', 'handover', 'chat', 'report', 'access_log'];
const OUTSIDE_WORK = 'outside own work: ';
/** Purposes the server writes in English, and how they read in the console. */
const KNOWN_PURPOSES = {
  "the client's access-log report": 'access.purpose.subject_report',
  "the caller's earlier calls": 'access.purpose.earlier_calls',
};

// ---- Requests ----

async function entryLog(entryId) {
  return (await request('GET', `/api/v1/access-log?entry=${encodeURIComponent(entryId)}`)).data || [];
}

/** query: {name, birth_date, from, to} (empty ones left out). */
async function subjectReport(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  return (await request('GET', `/api/v1/access-log/subject?${params}`)).data;
}

// ---- The rows table ----

function purposeView(purpose) {
  if (!purpose) return h('span', { class: 'muted', text: '—' });
  if (purpose.startsWith(OUTSIDE_WORK)) {
    return h(
      'span',
      { class: 'access-purpose-outside' },
      h('span', { class: 'flag flag-outside', i18n: 'access.purpose.outside_work' }),
      ' ',
      h('span', { class: 'prewrap access-reason', text: purpose.slice(OUTSIDE_WORK.length) }),
    );
  }
  if (KNOWN_PURPOSES[purpose]) return h('span', { i18n: KNOWN_PURPOSES[purpose] });
  return h('span', { class: 'prewrap', lang: 'en', text: purpose });
}

function recordView(row) {
  const type = RECORD_TYPES.includes(row.record_type) ? h('span', { i18n: ['access.record', row.record_type].join('.') }) : h('span', { text: row.record_type });
  return h('span', {}, type, h('span', { class: 'muted access-record-id', text: ` ${String(row.record_id || '').slice(0, 8)}` }));
}

function roleView(role) {
  const key = ['role', role].join('.');
  return has(key) ? h('span', { i18n: key }) : h('span', { text: role });
}

/** The log rows as a table (oldest first, as the server gives them). */
export function accessTable(rows, { captionKey, captionArgs } = {}) {
  const head = ['access.col.time', 'access.col.user', 'access.col.role', 'access.col.action', 'access.col.record', 'access.col.purpose', 'access.col.result'];
  const table = h(
    'table',
    { class: 'data-table access-table', 'data-testid': 'access-log-table' },
    captionKey ? h('caption', { i18n: captionKey, i18nArgs: captionArgs }) : null,
    h('thead', {}, h('tr', {}, head.map((key) => h('th', { scope: 'col', i18n: key })))),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          { 'data-testid': 'access-log-row', class: row.result === 'refused' ? 'is-refused' : null, dataset: { action: row.action, result: row.result, username: row.username } },
          h('td', { class: 'nowrap' }, h('time', { datetime: row.at, text: formatLong(row.at) })),
          h('td', { text: row.username || '' }),
          h('td', {}, roleView(row.role)),
          h('td', { i18n: ['access.action', row.action].join('.') }),
          h('td', { class: 'nowrap' }, recordView(row)),
          h('td', { 'data-testid': 'access-log-purpose' }, purposeView(row.purpose)),
          h('td', { class: `access-result access-result-${row.result}`, i18n: ['access.result', row.result].join('.') }),
        ),
      ),
    ),
  );
  // Wide on a narrow screen: the scrolling box takes keyboard focus.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', i18nAttr: 'aria-label:access.report.rows' }, table);
}

// ---- "Who has seen this entry" ----

let openLog = null;

/** Opens the entry's access log in a modal dialog; Esc or Close returns focus. */
export function openEntryAccessLog(entry) {
  openLog?.close();
  const returnFocusTo = document.activeElement;
  const titleId = uniqueId('access-log-title');
  // The status line is a live region from the start, so the count is read out when it
  // comes; the table itself is not.
  const status = h('p', { role: 'status', 'data-testid': 'access-log-count', i18n: 'common.loading' });
  const body = h('div', { class: 'access-log-body' });
  const closeButton = h('button', { type: 'button', class: 'btn', 'data-testid': 'access-log-close', i18n: 'common.close' });
  const dialog = h(
    'dialog',
    { class: 'access-log-dialog', 'data-testid': 'access-log-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
    h('h2', { id: titleId, tabindex: '-1', i18n: 'access.entry.title' }),
    h('p', { class: 'muted', text: entry.summary || '' }),
    status,
    body,
    h('div', { class: 'dialog-actions' }, closeButton),
  );
  let closed = false;
  const state = {
    close() {
      if (closed) return;
      closed = true;
      if (openLog === state) openLog = null;
      if (dialog.open) dialog.close();
      dialog.remove();
      const fallback = document.querySelector('#panel:not([hidden]) [data-testid="entry-access-log"]');
      const target = returnFocusTo?.isConnected && returnFocusTo !== document.body ? returnFocusTo : fallback;
      target?.focus();
    },
    languageChanged() {
      applyTranslations(dialog);
    },
  };
  openLog = state;
  closeButton.addEventListener('click', () => state.close());
  dialog.addEventListener('keydown', (event) => {
    event.stopPropagation();
    if (event.key === 'Escape') {
      event.preventDefault();
      state.close();
    }
  });
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault();
    state.close();
  });
  document.body.append(dialog);
  applyTranslations(dialog);
  dialog.showModal();
  dialog.querySelector(`#${titleId}`).focus();

  entryLog(entry.id).then(
    (rows) => {
      if (closed) return;
      markText(status, 'access.entry.count', { count: rows.length });
      fill(body, rows.length ? accessTable(rows) : h('p', { class: 'muted', i18n: 'access.entry.empty' }));
      applyTranslations(dialog);
    },
    () => {
      if (closed) return;
      markText(status, 'access.entry.failed');
      status.classList.add('banner', 'banner-error');
      applyTranslations(dialog);
    },
  );
}

/** Times and labels of an open log dialog follow a language switch. */
export function accessLogLanguageChanged() {
  openLog?.languageChanged();
}

export function closeEntryAccessLog() {
  openLog?.close();
}

// ---- The client's access report ----

/** Marks the report and its ancestors so that printing shows the report alone. */
function printOnly(scope) {
  clearPrintMarks();
  scope.classList.add('print-scope');
  for (let el = scope.parentElement; el && el !== document.body; el = el.parentElement) el.classList.add('print-path');
  document.body.classList.add('print-only-report');
  window.addEventListener('afterprint', clearPrintMarks, { once: true });
  window.print();
}

function clearPrintMarks() {
  document.body.classList.remove('print-only-report');
  for (const el of document.querySelectorAll('.print-path, .print-scope')) el.classList.remove('print-path', 'print-scope');
}

/**
 * The report form and its result. Returns {element, languageChanged, reset}.
 */
export function createSubjectReport() {
  const p = uniqueId('subject-report');
  const ids = { heading: `${p}-h`, name: `${p}-name`, birth: `${p}-birth`, from: `${p}-from`, to: `${p}-to`, error: `${p}-error`, period: `${p}-period` };
  let token = 0;
  let shown = null; // {query, report, at, by}

  const input = (id, testid, type, attrs = {}) => h('input', { id, type, 'data-testid': testid, autocomplete: 'off', ...attrs });
  const name = input(ids.name, 'subject-report-name', 'text', { 'aria-required': 'true', maxlength: '200', spellcheck: 'false' });
  const birth = input(ids.birth, 'subject-report-birth-date', 'date', { max: helsinkiToday() });
  const from = input(ids.from, 'subject-report-from', 'date', { 'aria-describedby': ids.period });
  const to = input(ids.to, 'subject-report-to', 'date', { 'aria-describedby': ids.period });
  const error = h('p', { class: 'field-error', id: ids.error, role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'subject-report-submit', i18n: 'access.report.submit' });
  const field = (id, key, control) => h('div', { class: 'field' }, h('label', { for: id, i18n: key }), control);

  const form = h(
    'form',
    { class: 'subject-report-form', 'data-testid': 'subject-report-form', novalidate: true, 'aria-labelledby': ids.heading },
    h(
      'div',
      { class: 'subject-report-fields' },
      field(ids.name, 'access.report.name', name),
      field(ids.birth, 'access.report.birth_date', birth),
      field(ids.from, 'access.report.from', from),
      field(ids.to, 'access.report.to', to),
    ),
    h('p', { class: 'field-hint', id: ids.period, i18n: 'access.report.period_hint' }),
    error,
    h('div', { class: 'subject-report-actions' }, submit),
  );
  const result = h('div', { class: 'subject-report-result', 'data-testid': 'subject-report-result' });
  // What was found, read out when it comes (the table itself is not).
  const status = h('p', { class: 'sr-only', role: 'status' });
  // Folded until needed: the supervisor's desk stays about the board.
  const element = h(
    'details',
    { class: 'subject-report', 'data-testid': 'subject-report' },
    h('summary', {}, h('h3', { id: ids.heading, class: 'subject-report-title', i18n: 'access.report.title' })),
    h('p', { class: 'muted', i18n: 'access.report.intro' }),
    form,
    status,
    result,
  );

  function showError(key, detail) {
    error.hidden = false;
    fill(error, h('span', { i18n: key }), detail ? h('span', { class: 'server-detail', lang: 'en', text: ` (${detail})` }) : null);
    applyTranslations(error);
  }

  function clearError() {
    error.hidden = true;
    error.textContent = '';
    name.removeAttribute('aria-invalid');
    from.removeAttribute('aria-invalid');
    to.removeAttribute('aria-invalid');
  }

  function renderResult() {
    if (!shown) {
      result.replaceChildren();
      status.removeAttribute('data-i18n-fmt');
      status.removeAttribute('data-i18n-args');
      status.textContent = '';
      return;
    }
    const { query, report, at, by } = shown;
    markText(status, 'access.report.announce', { entries: report.entries.length, rows: report.accesses.length });
    const print = h('button', { type: 'button', class: 'btn no-print', 'data-testid': 'subject-report-print', i18n: 'access.report.print' });
    print.addEventListener('click', () => printOnly(result));
    fill(
      result,
      h(
        'div',
        { class: 'subject-report-head' },
        h('h4', { i18n: 'access.report.result_title', i18nArgs: { name: query.name } }),
        print,
      ),
      h(
        'dl',
        { class: 'detail-fields subject-report-facts' },
        h('dt', { i18n: 'access.report.name' }),
        h('dd', { text: query.name }),
        query.birth_date ? [h('dt', { i18n: 'access.report.birth_date' }), h('dd', { text: formatDate(query.birth_date) })] : null,
        h('dt', { i18n: 'access.report.period' }),
        h('dd', { 'data-testid': 'subject-report-period', text: `${formatDate(report.from)} – ${formatDate(report.to)}` }),
        h('dt', { i18n: 'access.report.entries' }),
        h('dd', { 'data-testid': 'subject-report-entries', text: String(report.entries.length) }),
        h('dt', { i18n: 'access.report.rows' }),
        h('dd', { 'data-testid': 'subject-report-rows', text: String(report.accesses.length) }),
        h('dt', { i18n: 'access.report.made' }),
        h('dd', {}, h('time', { datetime: at, text: formatLong(at) }), h('span', { text: by ? `, ${by}` : '' })),
      ),
      // The server's warning has one cause (the period reaches more than two years back),
      // said here in the console's language.
      report.warning ? h('p', { class: 'banner banner-error', 'data-testid': 'subject-report-warning', i18n: 'access.report.warning' }) : null,
      report.entries.length ? null : h('p', { class: 'muted', 'data-testid': 'subject-report-none', i18n: 'access.report.no_entries' }),
      report.accesses.length
        ? accessTable(report.accesses, { captionKey: 'access.report.table_caption' })
        : report.entries.length
          ? h('p', { class: 'muted', i18n: 'access.report.no_rows' })
          : null,
    );
    applyTranslations(result);
    applyTranslations(status);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (result.getAttribute('aria-busy') === 'true') return;
    clearError();
    const query = { name: name.value.trim(), birth_date: birth.value, from: from.value, to: to.value };
    if (!query.name) {
      name.setAttribute('aria-invalid', 'true');
      showError('access.report.name_required');
      name.focus();
      return;
    }
    if (query.from && query.to && query.from > query.to) {
      from.setAttribute('aria-invalid', 'true');
      to.setAttribute('aria-invalid', 'true');
      showError('access.report.period_invalid');
      from.focus();
      return;
    }
    const mine = (token += 1);
    submit.setAttribute('aria-disabled', 'true');
    result.setAttribute('aria-busy', 'true');
    try {
      const report = await subjectReport(query);
      if (mine !== token) return;
      shown = { query, report, at: now().toISOString(), by: app.me?.display_name || '' };
      renderResult();
    } catch (err) {
      if (mine !== token) return;
      shown = null;
      renderResult();
      showError('access.report.failed', err?.message || err?.code);
    } finally {
      if (mine === token) {
        submit.removeAttribute('aria-disabled');
        result.removeAttribute('aria-busy');
      }
    }
  });

  applyTranslations(element);
  return {
    element,
    languageChanged() {
      renderResult();
      applyTranslations(element);
    },
    /** Forgets what was typed and found (logout). */
    reset() {
      token += 1;
      shown = null;
      form.reset();
      element.open = false;
      clearError();
      clearPrintMarks();
      renderResult();
    },
  };
}
