// The "Online report" section of an entry that came from the public report forms (channel
// web_report): what was sent – kind, reference, urgency, consent, the reporter, whom it is
// about, the description – and the information the reporter added later. The desk's entry
// detail and a team's handover detail show it; it is loaded once per opening (every read is
// in the access log) and again when a stream says information was added (report.added).

import * as api from './api.js';
import { detailRow, h } from './dom.js';
import { applyTranslations, language } from './i18n.js';
import { formatDate, formatLong } from './time.js';

let sectionCount = 0;
/** The sections on screen or kept for a re-render, for reloadReports(). */
const sections = new Set();
/** The desk panel's section (see detailReportSection). */
let panelSection = null;

function kindLabel(kind) {
  return h('span', { i18n: ['report.kind', kind].join('.') });
}

function when(iso) {
  return h('time', { datetime: iso, text: formatLong(iso) });
}

function given(value) {
  return value !== null && value !== undefined && String(value).trim() !== '';
}

function facts(report) {
  const showConsent = report.kind === 'contact' || report.consent === true;
  return h(
    'dl',
    { class: 'detail-fields report-facts' },
    detailRow('report.kind_label', h('span', { 'data-testid': 'report-kind' }, kindLabel(report.kind))),
    detailRow('report.reference', h('span', { class: 'report-ref', 'data-testid': 'report-reference', text: report.reference })),
    detailRow('report.received', h('span', { 'data-testid': 'report-received' }, when(report.received_at))),
    detailRow(
      'report.urgent',
      report.urgent
        ? h('span', { class: 'flag flag-urgent', 'data-testid': 'report-urgent', i18n: 'common.yes' })
        : h('span', { 'data-testid': 'report-urgent', i18n: 'common.no' }),
    ),
    showConsent
      ? detailRow('report.consent', h('span', { 'data-testid': 'report-consent', i18n: report.consent === true ? 'report.consent_given' : 'report.consent_not_given' }))
      : null,
    report.language ? detailRow('report.language', h('span', { i18n: ['lang', `${report.language}_name`].join('.') })) : null,
  );
}

function reporterView(reporter = {}) {
  const rows = [
    ['subject.name', reporter.name],
    ['report.organisation', reporter.organisation],
    ['report.phone', reporter.phone],
    ['report.email', reporter.email],
  ].filter(([, value]) => given(value));
  const typeKey = reporter.professional
    ? 'report.reporter_professional'
    : rows.length
      ? 'report.reporter_private'
      : 'report.reporter_anonymous';
  return h(
    'div',
    { class: 'report-part', 'data-testid': 'report-reporter', dataset: { professional: Boolean(reporter.professional) } },
    h('h4', { i18n: 'report.reporter' }),
    h('p', { class: 'report-reporter-type' }, h('span', { class: 'tag', 'data-testid': 'report-reporter-type', i18n: typeKey })),
    rows.length ? h('dl', { class: 'detail-fields' }, rows.map(([key, value]) => detailRow(key, h('span', { text: value })))) : null,
  );
}

function subjectFacts(subject = {}) {
  const rows = [];
  if (given(subject.name)) rows.push(detailRow('subject.name', h('span', { text: subject.name })));
  if (given(subject.birth_date)) rows.push(detailRow('subject.birth_date', h('span', { text: formatDate(subject.birth_date) })));
  if (given(subject.age)) rows.push(detailRow('report.age', h('span', { text: String(subject.age) })));
  if (given(subject.municipality)) rows.push(detailRow('subject.municipality', h('span', { text: subject.municipality })));
  if (given(subject.guardians)) rows.push(detailRow('report.guardians', h('span', { class: 'prewrap', text: subject.guardians })));
  return h(
    'div',
    { class: 'report-part', 'data-testid': 'report-subject' },
    h('h4', { i18n: 'report.subject' }),
    rows.length ? h('dl', { class: 'detail-fields' }, rows) : h('p', { class: 'muted', i18n: 'report.subject_none' }),
  );
}

function additionsView(additions = []) {
  return h(
    'div',
    { class: 'report-part' },
    h('h4', { i18n: 'report.additions' }),
    additions.length
      ? h(
          'ol',
          { class: 'report-additions', 'data-testid': 'report-additions' },
          additions.map((addition) =>
            h(
              'li',
              { class: 'report-addition', 'data-testid': 'report-addition' },
              h('p', { class: 'report-addition-time' }, when(addition.at)),
              h('p', { class: 'prewrap', text: addition.text }),
            ),
          ),
        )
      : h('p', { class: 'muted', i18n: 'report.additions_none' }),
  );
}

function reportContent(report) {
  return [
    facts(report),
    reporterView(report.reporter),
    subjectFacts(report.subject),
    h(
      'div',
      { class: 'report-part' },
      h('h4', { i18n: 'report.description' }),
      h('p', { class: 'prewrap report-description', 'data-testid': 'report-description', text: report.description }),
    ),
    additionsView(report.additions),
  ];
}

/**
 * The section for one entry. Returns {element, entryId, reload, languageChanged, destroy}.
 * A 404 (the entry did not come from a report) hides the section; other failures show a
 * short notice with a retry button. A reload keeps what is shown until the answer comes.
 */
export function createReportSection(entryId) {
  const headingId = `report-h${(sectionCount += 1)}`;
  const body = h('div', { class: 'entry-report-body' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const element = h(
    'section',
    { class: 'detail-section entry-report', 'data-testid': 'entry-report', 'aria-labelledby': headingId, dataset: { entryId } },
    h('h3', { id: headingId, tabindex: '-1', i18n: 'report.title' }),
    body,
  );
  applyTranslations(element);
  let report = null;
  let failed = false;
  let shownIn = null; // the language the content was rendered in
  let token = 0;
  let destroyed = false;

  function render() {
    const hadFocus = body.contains(document.activeElement);
    shownIn = language();
    element.dataset.state = report ? 'ready' : failed ? 'failed' : 'loading';
    if (report) element.dataset.reference = report.reference;
    const notice = failed
      ? h(
          'p',
          { class: 'report-failed', 'data-testid': 'report-load-failed' },
          h('span', { class: 'muted', i18n: 'report.load_failed' }),
          ' ',
          h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'report-retry', i18n: 'common.retry', on: { click: load } }),
        )
      : null;
    body.replaceChildren(
      ...[notice, ...(report ? reportContent(report) : [failed ? null : h('p', { class: 'muted', i18n: 'common.loading' })])].filter(Boolean),
    );
    applyTranslations(body);
    if (hadFocus && !body.contains(document.activeElement)) {
      (body.querySelector('[data-testid="report-retry"]') || document.getElementById(headingId))?.focus({ preventScroll: true });
    }
  }

  async function load() {
    const mine = (token += 1);
    try {
      const data = (await api.request('GET', `/api/v1/entries/${encodeURIComponent(entryId)}/report`)).data;
      if (destroyed || mine !== token) return;
      report = data;
      failed = false;
      element.hidden = false;
    } catch (err) {
      if (destroyed || mine !== token) return;
      if (err?.status === 404) {
        // Not from a report after all: nothing to show.
        report = null;
        failed = false;
        element.hidden = true;
        return;
      }
      failed = true;
    }
    render();
  }

  const section = {
    element,
    entryId,
    reload: load,
    /** Times and dates are written out in the current language: redraw after a switch. */
    languageChanged() {
      if (shownIn && shownIn !== language()) render();
    },
    destroy() {
      destroyed = true;
      sections.delete(section);
    },
  };
  sections.add(section);
  load();
  return section;
}

/**
 * The section for an entry kept across re-renders of its detail: `kept` again while it is
 * the same entry's and still on screen (a re-render moves it), else a new one (a new
 * opening reads the report again). null for an entry that did not come from a report.
 */
export function reportSectionFor(entry, kept) {
  if (kept && kept.entryId === entry?.id && kept.element.isConnected) {
    kept.languageChanged();
    return kept;
  }
  kept?.destroy();
  return entry?.channel === 'web_report' ? createReportSection(entry.id) : null;
}

/** The desk panel's entry detail: its report section, kept like reportSectionFor's. */
export function detailReportSection(entry) {
  panelSection = reportSectionFor(entry, panelSection);
  return panelSection?.element || null;
}

/** Information was added to the report of entryId: the sections on screen read it again. */
export function reloadReports(entryId) {
  for (const section of sections) {
    if (section.entryId === entryId && section.element.isConnected) section.reload();
  }
}
