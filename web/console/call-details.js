// A call's details, in its row of the calls strip and in the detail of the call's entry:
// for a repeat caller the entries of the earlier calls (links to them), and while the
// server still holds the caller's number, the button that writes it into the entry when
// the client agrees. The number itself is never shown here: only the entry's notes carry
// it once recorded.

import { applyEntry, app } from './state.js';
import { h } from './dom.js';
import { applyTranslations, label } from './i18n.js';
import { notify } from './notices.js';
import { callWithHistory, durationText, recordNumber, repeatText } from './call-common.js';
import { formatLong, formatShort } from './time.js';

let count = 0;
/** The details on the page, re-rendered in place when the language changes. */
const shown = new Set();

function earlierEntry(e) {
  return h(
    'li',
    {},
    h(
      'a',
      { href: `#/entry/${e.id}`, class: 'call-earlier-link', 'data-testid': 'call-earlier-entry', dataset: { entryId: e.id } },
      h('time', { datetime: e.occurred_at, text: formatLong(e.occurred_at) }),
      h('span', { 'aria-hidden': 'true', text: ' · ' }),
      h('span', { class: 'call-earlier-summary', text: e.summary || '' }),
    ),
    h(
      'span',
      { class: 'call-earlier-meta muted' },
      h('span', { text: ` ${label('category', e.category)} · ${label('status', e.status)}` }),
      e.claimed_by ? h('span', { text: ` · ${e.claimed_by.name}` }) : null,
    ),
  );
}

/**
 * The details of one call. Returns {element, callId, load()}; the element keeps its place
 * across re-renders of what holds it, and load() fetches the call again (e.g. once it is
 * answered and has an entry). headingLevel: 'h3' in the entry, 'h4' in a strip row;
 * hideWhenEmpty: no section at all when there is neither an earlier call nor a number;
 * showRepeat: say how often the caller called (a strip row says it above already).
 */
export function createCallDetails(callId, { headingLevel = 'h3', id, hideWhenEmpty = false, showRepeat = true } = {}) {
  const headingId = `call-details-h${(count += 1)}`;
  const body = h('div', { class: 'call-details-body' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const element = h(
    'section',
    { class: 'call-details', id, hidden: hideWhenEmpty, 'data-testid': 'call-details', 'aria-labelledby': headingId, dataset: { callId, state: 'loading' } },
    h(headingLevel, { id: headingId, i18n: 'call.details_title' }),
    body,
  );
  applyTranslations(element);
  let token = 0;
  /** What the record button said last (kept when the details are fetched again). */
  let outcome = null;
  /** The call as last fetched. */
  let last = null;

  function show(...children) {
    body.replaceChildren(...children.flat().filter(Boolean));
    applyTranslations(body);
  }

  async function record(button) {
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    try {
      const entry = await recordNumber(callId);
      applyEntry(entry);
      app.render();
      outcome = 'recorded';
      notify('success', 'call.number_recorded');
    } catch (err) {
      if (err.status === 410) outcome = 'gone';
      else if (err.status === 404) outcome = 'no_entry';
      else {
        button.removeAttribute('aria-disabled');
        notify('error', 'error.action_failed', { message: err.message || err.code });
        return;
      }
    }
    const hadFocus = body.contains(document.activeElement);
    await load();
    if (hadFocus) body.querySelector('[data-testid="call-number-status"]')?.focus();
  }

  function numberPart(data) {
    if (outcome) {
      const key = outcome === 'recorded' ? 'call.number_recorded' : outcome === 'gone' ? 'call.number_gone' : 'call.number_no_entry';
      return h('p', { class: `call-number-status${outcome === 'recorded' ? '' : ' muted'}`, 'data-testid': 'call-number-status', dataset: { outcome }, tabindex: '-1', role: 'status', i18n: key });
    }
    if (!data.number_available || !data.call?.entry_id) return null;
    const button = h('button', {
      type: 'button',
      class: 'btn btn-small',
      'data-testid': 'call-record-number',
      i18n: 'call.record_number',
      on: { click: () => record(button) },
    });
    return h('div', { class: 'call-number' }, button, h('p', { class: 'muted call-number-help', i18n: 'call.record_number_help' }));
  }

  async function load() {
    const mine = (token += 1);
    let data;
    try {
      data = await callWithHistory(callId);
    } catch (err) {
      if (mine !== token) return;
      element.dataset.state = 'failed';
      element.hidden = false;
      show(
        h('p', { class: 'muted', i18n: err.status === 404 ? 'call.details_gone' : 'call.details_failed' }),
        err.status === 404 ? null : h('button', { type: 'button', class: 'btn btn-small', i18n: 'common.retry', on: { click: load } }),
      );
      return;
    }
    if (mine !== token) return;
    render(data);
  }

  function render(data) {
    last = data;
    element.dataset.state = 'ready';
    const earlier = data.earlier_entries || [];
    const repeat = data.call?.repeat;
    element.hidden = hideWhenEmpty && !repeat && !earlier.length && !outcome && !(data.number_available && data.call?.entry_id);
    show(
      repeat && showRepeat ? h('p', { class: 'call-repeat-line', text: repeatText(repeat) }) : null,
      earlier.length
        ? [
            h('p', { class: 'call-earlier-title', i18n: 'call.earlier_title' }),
            h('ul', { class: 'call-earlier', 'data-testid': 'call-earlier' }, earlier.map(earlierEntry)),
          ]
        : h('p', { class: 'muted', i18n: repeat ? 'call.earlier_none_logged' : 'call.earlier_none' }),
      numberPart(data),
    );
  }

  const instance = {
    element,
    callId,
    load,
    /** The language changed: the same data, written out again. */
    relabel() {
      if (last) render(last);
    },
  };
  for (const other of shown) if (!other.element.isConnected && other !== kept) shown.delete(other);
  shown.add(instance);
  return instance;
}

/** Dates and labels of every call's details follow a language switch. */
export function callDetailsLanguageChanged() {
  for (const instance of [...shown]) {
    if (instance.element.isConnected) instance.relabel();
    else if (instance !== kept) shown.delete(instance);
  }
}

/** The entry detail's section, kept while the same call's entry is shown (a re-render
 * moves it rather than fetching again); opened afresh, it is fetched again. */
let kept = null;

export function entryCallDetails(call) {
  if (!call?.id) return null;
  if (kept?.callId !== call.id) kept = createCallDetails(call.id, { headingLevel: 'h3', hideWhenEmpty: true });
  if (!kept.element.isConnected) {
    kept.element.classList.add('detail-section');
    kept.load();
  }
  return kept.element;
}

/** The entry detail's "Phone call" line: "answered 03:12 · lasted 12 min 40 s", or "in
 * progress" until the call ends. */
export function entryCallLine(call) {
  return h(
    'span',
    { class: 'entry-call', 'data-testid': 'entry-call', dataset: { callId: call.id, state: Number.isFinite(call.duration_secs) ? 'ended' : 'in_progress' } },
    call.started_at ? [h('span', { i18n: 'call.answered_at', i18nArgs: { time: formatShort(call.started_at) } }), h('span', { 'aria-hidden': 'true', text: ' · ' })] : null,
    Number.isFinite(call.duration_secs)
      ? h('span', { class: 'entry-call-duration', i18n: 'call.lasted', i18nArgs: { duration: durationText(call.duration_secs) } })
      : h('span', { class: 'entry-call-live', i18n: 'call.in_progress' }),
  );
}
