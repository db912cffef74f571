// What the calls strip (calls.js), a call's details (call-details.js) and an entry's call line
// (entry-detail.js) share: the calls API, the order of a call's states, line names, and
// times and lengths written out in the current language. A caller's number never reaches
// the console: the server keeps only a keyed hash of it.

import { request } from './api.js';
import { language, locale, t } from './i18n.js';
import { teamName } from './handovers.js';
import { TIME_ZONE } from './time.js';

/** A call moves on only: an event of an earlier state never takes a call back. */
const STATE_RANK = { ringing: 0, answered: 1, ended: 2 };

export function stateRank(call) {
  return STATE_RANK[call?.state] ?? -1;
}

/** How many of the call's moments (rang, answered, ended) are known: events arrive in any
 * order, so within one state the picture with more moments is the newer one. */
export function momentsKnown(call) {
  return ['ringing_at', 'answered_at', 'ended_at'].filter((k) => call?.[k]).length;
}

/** Whether `next` tells more than `current` (equal pictures: the later one wins). */
export function isNewer(next, current) {
  if (!current) return true;
  const rank = stateRank(next) - stateRank(current);
  if (rank) return rank > 0;
  return momentsKnown(next) >= momentsKnown(current);
}

// ---- The API (GET /api/v1/calls, /calls/{id}, POST /calls/{id}/record-number) ----

function callPath(id, action) {
  return `/api/v1/calls/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

/** The live calls (ringing or answered), oldest first, and the desk stream's head then. */
export async function liveCalls() {
  const res = await request('GET', '/api/v1/calls');
  const head = Number.parseInt(res.headers.get('X-Stream-Head') || '0', 10);
  return { calls: (res.data || []).map((x) => x.call).filter(Boolean), head: Number.isFinite(head) ? head : 0 };
}

/** {call, earlier_entries, number_available}. */
export async function callWithHistory(id) {
  return (await request('GET', callPath(id))).data;
}

/** Writes the caller's number into the call's entry (the client agreed): the entry. */
export async function recordNumber(id) {
  return (await request('POST', callPath(id, 'record-number'), { body: {} })).data;
}

// ---- Text ----

/** A line's name: a daytime team's name when the line is named after a team, else as set. */
export function lineName(line) {
  return line ? teamName(line) : '';
}

/** "Incoming call on the child welfare line", "Outgoing call", … */
export function callTitle(call) {
  if (call.direction === 'out') return t('call.outgoing');
  return call.line ? t('call.incoming_on_line', { line: lineName(call.line) }) : t('call.incoming');
}

const pad = (n) => String(n).padStart(2, '0');

/** A running counter: "0:07", "12:40", "1:02:05". */
export function clockText(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  return hours ? `${hours}:${pad(minutes)}:${pad(s % 60)}` : `${minutes}:${pad(s % 60)}`;
}

/** A length written out: "40 s", "12 min 40 s", "1 h 02 min". */
export function durationText(totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return t('call.duration_s', { s });
  if (s < 3600) return t('call.duration_min_s', { min: Math.floor(s / 60), s: s % 60 });
  return t('call.duration_h_min', { h: Math.floor(s / 3600), min: pad(Math.floor((s % 3600) / 60)) });
}

/** A moment with its weekday, without the year: "la 21.11. 23.10", "Sat 21 Nov 23:10". */
export function weekdayTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const day = new Intl.DateTimeFormat(locale(), {
    timeZone: TIME_ZONE,
    weekday: 'short',
    day: 'numeric',
    month: locale() === 'en-GB' ? 'short' : 'numeric',
  }).format(date);
  const time = new Intl.DateTimeFormat('en-GB', { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(date);
  return `${day} ${time}`;
}

/** "3." (fi), "3:e" (sv), "3rd" (en). */
export function ordinal(n) {
  switch (language()) {
    case 'fi':
      return `${n}.`;
    case 'sv':
      return `${n}:${[1, 2].includes(n % 10) && ![11, 12].includes(n % 100) ? 'a' : 'e'}`;
    default: {
      const suffix = { one: 'st', two: 'nd', few: 'rd', other: 'th' };
      return `${n}${suffix[new Intl.PluralRules('en', { type: 'ordinal' }).select(n)] || 'th'}`;
    }
  }
}

/** "3rd call in 30 days, last on Sat 21 Nov 23:10" (repeat: {earlier_calls, last_at, window_days}). */
export function repeatText(repeat) {
  return t('call.repeat', {
    nth: ordinal(Number(repeat.earlier_calls) + 1),
    days: repeat.window_days,
    last: weekdayTime(repeat.last_at),
  });
}

/** Opens an entry in the side panel (app.js's router opens #/entry/<id>). */
export function openEntry(entryId) {
  if (!entryId) return;
  const hash = `#/entry/${entryId}`;
  if (location.hash === hash) document.getElementById('panel-heading')?.focus();
  else location.hash = hash;
}
