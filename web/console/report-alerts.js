// Online reports on the live streams. An urgent report (desk event report.urgent) raises a
// banner (role=alert) in the desk's alert area with the alarm sound and a system
// notification (alerts.js), and a button that opens the report's entry; it stays until
// dismissed, and one report never raises two (events replayed after a reconnect included).
// Information added to a report (report.added, desk and team streams) is a short notice, and
// the report's section reloads where it is open.

import { h } from './dom.js';
import { applyTranslations, t } from './i18n.js';
import { applyTeamNames, loadTeams, teamNameEl } from './handovers.js';
import { notify } from './notices.js';
import { playSound, systemNotify } from './alerts.js';
import { reloadReports } from './report-view.js';
import { formatLong } from './time.js';

const banners = new Map(); // reference -> element
/** References whose banner was dismissed: a replay of the event does not bring it back. */
const dismissed = new Set();

function container() {
  return document.getElementById('chat-alerts');
}

function kindText(kind) {
  return t(['report.kind_text', kind].join('.'));
}

/** Opens the report's entry in the side panel (app.js's router opens #/entry/<id>). */
function openEntry(entryId) {
  if (!entryId) return;
  const hash = `#/entry/${entryId}`;
  if (location.hash === hash) document.getElementById('panel-heading')?.focus();
  else location.hash = hash;
}

function banner(report) {
  const element = h(
    'div',
    {
      class: 'chat-alert report-alert',
      role: 'alert',
      'data-testid': 'report-alert',
      dataset: { reference: report.reference, entryId: report.entry_id, kind: report.kind },
    },
    h('span', { class: 'chat-alert-icon', 'aria-hidden': 'true', text: '⚠' }),
    h(
      'div',
      { class: 'chat-alert-text' },
      h(
        'p',
        {},
        h('strong', { class: 'chat-alert-title' }, h('span', { i18n: 'report.alert_title' }), ': '),
        h('span', { i18n: ['report.kind_text', report.kind].join('.') }),
        ' ',
        h('span', { class: 'report-ref', text: report.reference }),
      ),
      h(
        'p',
        { class: 'report-alert-meta' },
        h('span', { i18n: 'report.received' }),
        ' ',
        report.received_at ? h('time', { datetime: report.received_at, text: formatLong(report.received_at) }) : null,
        report.team ? [' · ', h('span', { i18n: 'handover.team' }), ': ', teamNameEl('span', report.team)] : null,
      ),
    ),
    h(
      'div',
      { class: 'chat-alert-actions' },
      h('button', {
        type: 'button',
        class: 'btn btn-primary',
        'data-testid': 'report-alert-open',
        i18n: 'report.alert_open',
        on: { click: () => openEntry(report.entry_id) },
      }),
      h('button', {
        type: 'button',
        class: 'btn btn-quiet',
        'data-testid': 'report-alert-dismiss',
        i18n: 'common.dismiss',
        on: { click: () => dismissReportAlert(report.reference) },
      }),
    ),
  );
  applyTranslations(element);
  return element;
}

/** report.urgent: data.report {reference, kind, entry_id, handover_id, team, received_at}. */
function onUrgent(report) {
  // The same report again (a replay): the banner stays as it is, without a second alarm.
  if (!report?.reference || banners.has(report.reference) || dismissed.has(report.reference)) return;
  const element = banner(report);
  banners.set(report.reference, element);
  container()?.prepend(element);
  // The team's name, once the teams are loaded (they usually are by now).
  loadTeams().then(() => applyTeamNames(element)).catch(() => {});
  playSound('imminent');
  systemNotify(t('report.alert_title'), `${kindText(report.kind)} ${report.reference}`, {
    tag: `report-${report.reference}`,
    urgent: true,
    onClick: () => openEntry(report.entry_id),
  });
}

/** report.added (desk or team stream): data.report {reference, entry_id, additions, at, …}. */
export function reportAdded(report) {
  if (!report?.reference) return;
  notify('info', 'report.added_notice', { reference: report.reference });
  if (report.entry_id) reloadReports(report.entry_id);
}

/** A report.* event of the desk stream. */
export function reportDeskEvent(frame) {
  const report = frame.data?.report;
  if (frame.kind === 'report.urgent') onUrgent(report);
  else if (frame.kind === 'report.added') reportAdded(report);
}

export function dismissReportAlert(reference) {
  const element = banners.get(reference);
  if (!element) return;
  const hadFocus = element.contains(document.activeElement);
  element.remove();
  banners.delete(reference);
  dismissed.add(reference);
  if (hadFocus) document.getElementById('board-heading')?.focus();
}

/** Times are written out in the current language; team names follow it too. */
export function reportAlertsLanguageChanged() {
  for (const element of banners.values()) {
    for (const time of element.querySelectorAll('time')) time.textContent = formatLong(time.getAttribute('datetime'));
    applyTeamNames(element);
  }
}

/** Logout: no banner stays for the next user. */
export function clearReportAlerts() {
  for (const element of banners.values()) element.remove();
  banners.clear();
  dismissed.clear();
}
