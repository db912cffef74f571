// Handovers to daytime teams, the parts the desk and the team inbox share: the teams and
// their names in the current language, states, order, deadlines, and how one is shown.

import * as api from './api.js';
import { h } from './dom.js';
import { language } from './i18n.js';
import { formatDue, formatLong } from './time.js';

export const HANDOVER_STATES = ['pending', 'acknowledged', 'done', 'forwarded', 'returned'];
/** Still waiting for someone (the server's "open"). */
export const OPEN_STATES = new Set(['pending', 'acknowledged', 'returned']);
export const LEGAL_BASES = ['child_welfare_report', 'service_need75'];
export const MAX_NOTE = 10000;

let teamList = [];
let teamsLoading = null;

/** Loads the teams once (names in three languages); resolves to the list. */
export function loadTeams() {
  if (teamList.length) return Promise.resolve(teamList);
  teamsLoading ||= api
    .teams()
    .then((list) => {
      teamList = list;
      return list;
    })
    .finally(() => {
      teamsLoading = null;
    });
  return teamsLoading;
}

export function teams() {
  return teamList;
}

/** A team's name in the current language (its key while the names are not loaded). */
export function teamName(key) {
  const team = teamList.find((t) => t.key === key);
  if (!team) return key || '';
  return team[`name_${language()}`] || team.name_fi || key;
}

/** An element showing a team's name; applyTeamNames() keeps it in the current language. */
export function teamNameEl(tag, key, attrs = {}) {
  return h(tag, { ...attrs, dataset: { ...(attrs.dataset || {}), teamName: key }, text: teamName(key) });
}

export function applyTeamNames(root) {
  for (const el of root.querySelectorAll('[data-team-name]')) {
    const name = teamName(el.dataset.teamName);
    if (el.textContent !== name) el.textContent = name;
  }
}

/** Fills a team <select> (keeping its choice, or `wanted` when given). */
export function fillTeamSelect(select, { exclude = null, placeholderKey = 'form.choose', wanted } = {}) {
  const value = wanted ?? select.value;
  select.replaceChildren(
    h('option', { value: '', i18n: placeholderKey }),
    ...teamList
      .filter((t) => t.key !== exclude)
      .map((t) => h('option', { value: t.key, dataset: { teamName: t.key }, text: teamName(t.key) })),
  );
  select.value = teamList.some((t) => t.key === value && t.key !== exclude) ? value : '';
}

export function isOpen(handover) {
  return OPEN_STATES.has(handover.state);
}

/**
 * Found unacknowledged past its due time and still not in the team's hands: pending (or
 * returned to the desk meanwhile). The server keeps overdue_at as a record after a late
 * acknowledgement; an acknowledged handover is in hand and no longer shown as overdue.
 */
export function isOverdue(handover) {
  return Boolean(handover.overdue_at) && (handover.state === 'pending' || handover.state === 'returned');
}

/** Open ones first by due time, then the rest newest first. */
export function compareHandovers(a, b) {
  const open = Number(isOpen(b)) - Number(isOpen(a));
  if (open) return open;
  if (isOpen(a)) {
    const due = Date.parse(a.due_at) - Date.parse(b.due_at);
    if (due) return due;
  }
  const created = Date.parse(b.created_at) - Date.parse(a.created_at);
  if (created) return created;
  return String(a.id).localeCompare(String(b.id));
}

/**
 * The newer of what we have and next. Live events carry no note or reason (they may hold
 * client details): those are kept from the full handover until it is read again.
 */
export function mergeHandover(old, next) {
  if (!old) return next;
  if (old.version > next.version) return old;
  const full = 'note' in next;
  if (old.version === next.version && !full) return old;
  if (full) return next;
  return { ...next, note: old.note, reason: old.reason };
}

// ---- Showing a handover ----

export function stateBadge(handover) {
  return h('span', { class: `hstate hstate-${handover.state}`, i18n: ['handover_state', handover.state].join('.') });
}

export function overdueFlag() {
  return h(
    'span',
    { class: 'flag flag-overdue' },
    h('span', { 'aria-hidden': 'true', text: '⚠ ' }),
    h('span', { i18n: 'handover.overdue' }),
  );
}

export function urgentFlag() {
  return h('span', { class: 'flag flag-urgent', i18n: 'handover.urgent_flag' });
}

/** State, urgent and overdue, in that order. */
export function handoverBadges(handover) {
  return [stateBadge(handover), handover.urgent ? urgentFlag() : null, isOverdue(handover) ? overdueFlag() : null];
}

function when(iso, format = formatLong) {
  return h('time', { datetime: iso, text: format(iso) });
}

function byWhom(person, iso) {
  return [h('span', { class: 'person', text: person?.name || '' }), h('span', { text: ', ' }), when(iso)];
}

function fact(labelKey, ...value) {
  return [h('dt', { i18n: labelKey }), h('dd', {}, ...value)];
}

/**
 * The facts of a handover as <dt>/<dd> pairs: due time, legal deadline, who handed it over,
 * acknowledged, did it, where it was forwarded, and the team's question.
 */
export function handoverFacts(handover, { team = false } = {}) {
  const rows = [];
  if (team) rows.push(fact('handover.team', teamNameEl('span', handover.team)));
  rows.push(
    fact('handover.due', h('span', { class: isOverdue(handover) ? 'due is-overdue' : 'due' }, when(handover.due_at, formatDue))),
  );
  if (handover.legal_due_at) {
    rows.push(
      fact(
        'handover.legal_due',
        when(handover.legal_due_at, formatDue),
        handover.legal_basis
          ? h('span', { class: 'legal-basis' }, h('span', { text: ' · ' }), h('span', { i18n: ['legal', handover.legal_basis].join('.') }))
          : null,
      ),
    );
  }
  rows.push(fact('handover.created_by', ...byWhom(handover.created_by, handover.created_at)));
  if (handover.overdue_at) rows.push(fact('handover.overdue_at', when(handover.overdue_at)));
  if (handover.acknowledged_at) {
    rows.push(fact('handover.acknowledged_by', ...byWhom(handover.acknowledged_by, handover.acknowledged_at)));
  }
  if (handover.done_at) rows.push(fact('handover.done_by', ...byWhom(handover.done_by, handover.done_at)));
  if (handover.state === 'forwarded' && handover.forwarded_to) {
    rows.push(fact('handover.forwarded_to', teamNameEl('span', handover.forwarded_to)));
    if (handover.reason) rows.push(fact('handover.forward_reason', h('span', { class: 'prewrap', text: handover.reason })));
  }
  return h('dl', { class: 'detail-fields handover-facts' }, rows);
}

/** The first line of a note, shortened, for a list row. */
export function noteExcerpt(note, max = 140) {
  const line = String(note || '').split('\n').map((s) => s.trim()).find(Boolean) || '';
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}
