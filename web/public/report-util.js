// Small shared pieces of the public report page (/report): text that follows the page
// language, field errors and character counters. HTTP is in http.js.
//
// Nothing here touches any storage: on a shared device the page must leave nothing behind.

import { t, locale } from './i18n.js';

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
export const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

/** The longest description or addition the server takes, in characters after trimming. */
export const MAX_TEXT = 10000;
/** A report or an addition may take a while on a slow phone connection. */
export const SEND_TIMEOUT_MS = 30000;
const HELSINKI = 'Europe/Helsinki';

/** Whole minutes to wait, at least one, from a Retry-After in seconds. */
export function minutesFrom(seconds) {
  return Math.max(1, Math.ceil((seconds ?? 60) / 60));
}

// ---------------------------------------------------------------------------------------
// Text that follows the language: each element shown through here remembers how its text
// is made, and refreshTexts() makes it again after a language switch.

const live = new Map();

/** Sets el's text from make() (now and on every language switch) and shows it. */
export function showText(el, make) {
  live.set(el, make);
  el.textContent = make();
  el.hidden = false;
}

/** Sets el's text from make() without touching its visibility. */
export function bindText(el, make) {
  live.set(el, make);
  el.textContent = make();
}

/** Empties and hides el. */
export function hideText(el) {
  live.delete(el);
  el.textContent = '';
  el.hidden = true;
}

export function refreshTexts() {
  for (const [el, make] of live) {
    const text = make();
    if (el.textContent !== text) el.textContent = text;
  }
}

/** "(required)" or "(optional)" after every label that has a [data-marker]. */
export function refreshMarkers(root = document) {
  for (const marker of $$('[data-marker]', root)) {
    let required = marker.dataset.marker === 'required';
    if (!required) {
      const label = marker.closest('label');
      const control = label && document.getElementById(label.htmlFor);
      required = Boolean(control && control.required);
    }
    marker.textContent = required ? t('report.required') : t('report.optional');
  }
}

// ---------------------------------------------------------------------------------------
// Field errors: the message under the field, aria-invalid, and aria-describedby naming it.

function describedBy(el) {
  return (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
}

/** `target` is an input, or a fieldset of radios (whose describedby names the error already). */
export function setFieldError(target, errorEl, make) {
  showText(errorEl, make);
  if (target.tagName === 'FIELDSET') return;
  target.setAttribute('aria-invalid', 'true');
  const ids = describedBy(target);
  if (!ids.includes(errorEl.id)) target.setAttribute('aria-describedby', [...ids, errorEl.id].join(' '));
}

export function clearFieldError(target, errorEl) {
  hideText(errorEl);
  if (target.tagName === 'FIELDSET') return;
  target.removeAttribute('aria-invalid');
  const ids = describedBy(target).filter((id) => id !== errorEl.id);
  if (ids.length) target.setAttribute('aria-describedby', ids.join(' '));
  else target.removeAttribute('aria-describedby');
}

/**
 * Fills an error summary (a heading and a list of links to the fields) and moves focus to
 * it. errors: [{target, make}], target being the element to focus.
 */
export function showSummary(box, list, errors) {
  list.replaceChildren();
  for (const error of errors) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `#${error.target.id}`;
    bindText(a, error.make);
    a.addEventListener('click', (event) => {
      // Focus the field itself, without a fragment in the URL or a history entry.
      event.preventDefault();
      error.target.focus();
      error.target.scrollIntoView?.({ block: 'center' });
    });
    li.append(a);
    list.append(li);
  }
  box.hidden = false;
  box.focus();
}

export function hideSummary(box, list) {
  for (const a of $$('a', list)) live.delete(a);
  list.replaceChildren();
  box.hidden = true;
}

// ---------------------------------------------------------------------------------------
// Characters, counters, dates

/** Characters as the server counts them: Unicode scalar values, after trimming. */
export function charCount(text) {
  return [...text.trim()].length;
}

export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

/**
 * A live counter under a textarea: the visible count always follows the typing, while
 * screen readers hear only when the text nears the limit (1000 and 100 left) or goes over.
 */
export function wireCounter(textarea, visible, announcer, max = MAX_TEXT) {
  let lastBand = 0;
  const band = (count) => (count > max ? 3 : count > max - 100 ? 2 : count > max - 1000 ? 1 : 0);
  const describe = (count) =>
    count > max
      ? t('report.counter_over', { over: formatNumber(count - max) })
      : t('report.counter_left', { left: formatNumber(max - count) });
  function update({ announce = true } = {}) {
    const count = charCount(textarea.value);
    bindText(visible, () => {
      const base = t('report.counter', { count: formatNumber(count), max: formatNumber(max) });
      return count > max - 1000 ? `${base} – ${describe(count)}` : base;
    });
    visible.classList.toggle('counter-over', count > max);
    const now = band(count);
    if (announce && now !== lastBand && (now > lastBand || now === 2)) {
      bindText(announcer, () => describe(count));
    } else if (now === 0) {
      bindText(announcer, () => '');
    }
    lastBand = now;
  }
  textarea.addEventListener('input', () => update());
  update({ announce: false });
  return update;
}

function inHelsinki(options, at) {
  return new Intl.DateTimeFormat(locale(), { timeZone: HELSINKI, ...options }).format(at);
}

/** E.g. "ma 23.11.2026 klo 16.00": weekday, date and time in Helsinki, in the page language. */
export function formatDateTime(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso ?? '');
  return t('report.datetime', {
    weekday: inHelsinki({ weekday: 'short' }, at),
    date: inHelsinki({ day: 'numeric', month: 'numeric', year: 'numeric' }, at),
    time: inHelsinki({ hour: 'numeric', minute: '2-digit' }, at),
  });
}

/** Today's date in Helsinki as YYYY-MM-DD, the latest birth date there can be. */
export function todayInHelsinki() {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: HELSINKI,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date());
  const get = (type) => parts.find((p) => p.type === type)?.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}
