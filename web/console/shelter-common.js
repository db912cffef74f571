// The shelter (turvakoti), the parts both sides use: the register's value lists, how a
// referral code and the free places are shown, and how long a stay has lasted. The shelter's
// address is never part of anything here (the API has none, and none is ever added).

import { h } from './dom.js';
import { helsinkiParts, now } from './time.js';

/** Forms of violence as THL counts them. */
export const VIOLENCE_FORMS = ['physical', 'psychological', 'sexual', 'economic', 'neglect', 'stalking', 'honour_related', 'other'];
export const REFERRAL_SOURCES = ['oncall_referral', 'self', 'police', 'health_care', 'social_services', 'other'];
export const CHILD_BANDS = ['0_6', '7_12', '13_17'];
export const SEXES = ['female', 'male', 'other', 'unknown'];

/** "48215739" → "4821 5739" (what the worker reads out). */
export function groupCode(code) {
  const digits = String(code || '').replace(/\D/g, '');
  return digits.length === 8 ? `${digits.slice(0, 4)} ${digits.slice(4)}` : digits;
}

/** The digits of a typed code ("4821 5739" → "48215739"); spaces and dashes are dropped. */
export function codeDigits(typed) {
  return String(typed || '').replace(/[\s-]/g, '');
}

/** The free places as two lines: family places big, beds below (the tile and the console). */
export function capacityParts(cap) {
  return [
    h(
      'p',
      { class: 'tile-value' },
      h('span', { class: 'capacity-free', text: String(cap.family_places_free) }),
      ' ',
      h('span', { class: 'tile-unit', i18n: 'shelter.capacity_family', i18nArgs: { total: cap.family_places } }),
    ),
    h('p', { class: 'tile-note', i18n: 'shelter.capacity_beds', i18nArgs: { free: cap.beds_free, total: cap.beds } }),
  ];
}

/** Marks an element with the free places (data-family-free, data-beds-free); null clears them. */
export function markCapacity(el, cap) {
  if (cap) {
    el.dataset.familyFree = String(cap.family_places_free);
    el.dataset.bedsFree = String(cap.beds_free);
  } else {
    delete el.dataset.familyFree;
    delete el.dataset.bedsFree;
  }
}

function helsinkiDayNumber(date) {
  const p = helsinkiParts(date);
  return Date.UTC(p.year, p.month - 1, p.day) / 86400000;
}

/** Days of a stay (Helsinki calendar days, the day of arrival counting as one). */
export function stayDays(stay, reference = now()) {
  const end = stay.departed_at ? new Date(stay.departed_at) : reference;
  return Math.max(1, helsinkiDayNumber(end) - helsinkiDayNumber(new Date(stay.arrived_at)));
}

/** The current year in Helsinki. */
export function helsinkiYear() {
  return helsinkiParts(now()).year;
}

/** The number of persons in a stay (or in form values of the same shape). */
export function personCount(stay) {
  return (stay.adults || 0) + CHILD_BANDS.reduce((sum, band) => sum + (stay.children?.[band] || 0), 0);
}
