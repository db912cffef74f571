// Times are stored in UTC and shown in Helsinki time, whatever the computer's own zone.

import { locale } from './i18n.js';

export const TIME_ZONE = 'Europe/Helsinki';

/** How far the server's clock is ahead of this computer's (from HTTP Date headers). */
let clockOffsetMs = 0;

/** Records the server's time from a Date header; a workstation with a wrong clock would
 * otherwise log "now" as a time in the future (or more than 7 days back). */
export function noteServerDate(httpDate) {
  const server = Date.parse(httpDate || '');
  if (Number.isNaN(server)) return;
  const offset = server - Date.now();
  // Date headers have whole seconds: ignore differences that small.
  clockOffsetMs = Math.abs(offset) < 2000 ? 0 : offset;
}

/** The current time, corrected by the server's clock. */
export function now() {
  return new Date(Date.now() + clockOffsetMs);
}

const partsFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** Helsinki wall-clock fields of an instant, as numbers. */
export function helsinkiParts(date) {
  const out = {};
  for (const part of partsFormat.formatToParts(date)) {
    if (part.type !== 'literal') out[part.type] = Number.parseInt(part.value, 10);
  }
  if (out.hour === 24) out.hour = 0;
  return out;
}

/** Helsinki's offset from UTC at an instant, in milliseconds (+2 h or +3 h). */
function offsetAt(ms) {
  const p = helsinkiParts(new Date(ms));
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** The value for an <input type="datetime-local">: "YYYY-MM-DDTHH:MM" in Helsinki time. */
export function toLocalInput(date) {
  const p = helsinkiParts(date);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** Parses a datetime-local value as Helsinki time; null when it is not a valid value. */
export function fromLocalInput(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value || '');
  if (!m) return null;
  const [, y, mo, d, hh, mi, ss] = m.map((v) => (v === undefined ? 0 : Number(v)));
  const wall = Date.UTC(y, mo - 1, d, hh, mi, ss || 0);
  if (Number.isNaN(wall)) return null;
  // Guess with the offset at the wall time, then correct once with the offset there.
  let ms = wall - offsetAt(wall);
  ms = wall - offsetAt(ms);
  return new Date(ms);
}

/** RFC 3339 in UTC without milliseconds, e.g. 2026-11-22T01:12:00Z. */
export function toRfc3339(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sameHelsinkiDay(a, b) {
  const pa = helsinkiParts(a);
  const pb = helsinkiParts(b);
  return pa.year === pb.year && pa.month === pb.month && pa.day === pb.day;
}

function clock(date) {
  const p = helsinkiParts(date);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

function dayMonth(date, withYear) {
  const options = { timeZone: TIME_ZONE, day: 'numeric', month: locale() === 'en-GB' ? 'short' : 'numeric' };
  if (withYear) options.year = 'numeric';
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

/** Board time: HH:MM today, else the date and HH:MM (all in Helsinki time). */
export function formatShort(iso, reference = now()) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  if (sameHelsinkiDay(date, reference)) return clock(date);
  const withYear = helsinkiParts(date).year !== helsinkiParts(reference).year;
  return `${dayMonth(date, withYear)} ${clock(date)}`;
}

/** A full date and time for details and history. */
export function formatLong(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return `${dayMonth(date, true)} ${clock(date)}`;
}

/** A deadline: weekday, date and HH:MM in Helsinki time (e.g. "ma 23.11.2026 16:00"), so
 * "next working day" reads at a glance. */
export function formatDue(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const weekday = new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, weekday: 'short' }).format(date);
  return `${weekday} ${dayMonth(date, true)} ${clock(date)}`;
}

/** A date-only value (birth date "YYYY-MM-DD") in the current language. */
export function formatDate(isoDate) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate || '');
  if (!m) return isoDate || '';
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12));
  return new Intl.DateTimeFormat(locale(), { timeZone: 'UTC', day: 'numeric', month: 'numeric', year: 'numeric' }).format(date);
}

/** Today's date in Helsinki as "YYYY-MM-DD" (for max= on date inputs). */
export function helsinkiToday() {
  const p = helsinkiParts(now());
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}
