// One live call in the calls strip: what it is (line, repeat caller), how long it has rung
// or lasted, who answered, and its buttons ("I answered", "Open entry", "Details"). The row
// element stays while the call lives; only its top part is rebuilt when the call changes,
// so the details below it (call-details.js) and keyboard focus stay where they were.

import { h } from './dom.js';
import { applyTranslations, language } from './i18n.js';
import { callTitle, clockText, repeatText } from './call-common.js';
import { createCallDetails } from './call-details.js';
import { now } from './time.js';

/** A button rebuilt away gives its focus to its successor. */
const SUCCESSOR = { 'call-claim': 'call-open-entry' };

/** Seconds the call has rung (ringing) or lasted (answered), by the server's clock. */
export function runningSeconds(call) {
  const from = call.state === 'answered' ? call.answered_at || call.ringing_at : call.ringing_at || call.answered_at;
  if (!from) return 0;
  return (now() - new Date(from)) / 1000;
}

function timerKey(call) {
  return call.state === 'answered' ? 'call.talking_for' : call.direction === 'out' ? 'call.dialling_for' : 'call.ringing_for';
}

/** Who answered: the extension's worker, else whoever took the call's entry. */
function answeredBy(call, entry) {
  return call.worker || entry?.claimed_by || null;
}

function mainPart(call, ctx) {
  const { entry, me } = ctx;
  const who = answeredBy(call, entry);
  const answered = call.state === 'answered';
  const titleId = `call-title-${call.id}`;
  return h(
    'div',
    { class: 'call-main' },
    h('span', { class: 'call-icon', 'aria-hidden': 'true', text: call.direction === 'out' ? '↗' : '☎' }),
    h(
      'div',
      { class: 'call-text' },
      h('p', { class: 'call-title', id: titleId }, h('strong', { text: callTitle(call) })),
      h(
        'p',
        { class: 'call-meta' },
        h('span', { class: 'call-timer-label', i18n: timerKey(call) }),
        ' ',
        h('span', { class: 'call-timer', 'data-testid': 'call-timer', text: clockText(runningSeconds(call)) }),
      ),
      call.repeat
        ? h('p', { class: 'call-repeat', 'data-testid': 'call-repeat' }, h('span', { 'aria-hidden': 'true', text: '↻ ' }), h('span', { text: repeatText(call.repeat) }))
        : null,
      answered && who
        ? h(
            'p',
            { class: 'call-worker', 'data-testid': 'call-worker' },
            h('span', { i18n: 'call.answered_by', i18nArgs: { name: who.name } }),
            who.id === me?.id ? [' ', h('span', { class: 'muted', i18n: 'presence.you' })] : null,
          )
        : null,
      answered && !who ? h('p', { class: 'call-worker muted', i18n: 'call.answered_unknown' }) : null,
    ),
    h(
      'div',
      { class: 'call-actions', role: 'group', 'aria-labelledby': titleId },
      answered && !who && call.entry_id
        ? h('button', {
            type: 'button',
            class: 'btn btn-small btn-primary',
            'data-testid': 'call-claim',
            i18n: 'call.claim',
            on: { click: () => ctx.onClaim(call) },
          })
        : null,
      call.entry_id
        ? h('button', {
            type: 'button',
            class: 'btn btn-small',
            'data-testid': 'call-open-entry',
            i18n: 'call.open_entry',
            on: { click: () => ctx.onOpenEntry(call) },
          })
        : null,
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small btn-quiet',
          'data-testid': 'call-details-toggle',
          'aria-expanded': String(Boolean(ctx.expanded)),
          'aria-controls': ctx.expanded ? `call-details-${call.id}` : null,
          on: { click: () => ctx.onToggleDetails(call) },
        },
        h('span', { i18n: 'call.details' }),
        h('span', { class: 'call-chevron', 'aria-hidden': 'true', text: ctx.expanded ? '▴' : '▾' }),
      ),
    ),
  );
}

/** A row for a call seen for the first time: {li, main, details, signature, expanded}. */
export function createCallRow(call) {
  const li = h('li', { class: 'call-row', 'data-testid': 'call-row', dataset: { callId: call.id } });
  return { li, main: null, details: null, signature: '', expanded: false };
}

/** Brings the row up to date with the call; ctx: {me, entry, onClaim, onOpenEntry, onToggleDetails}. */
export function updateCallRow(row, call, ctx) {
  const who = answeredBy(call, ctx.entry);
  const signature = JSON.stringify([language(), call, who?.id, who?.name, row.expanded, ctx.me?.id, ctx.teamsLoaded]);
  if (signature === row.signature) return;
  const previousState = row.li.dataset.state;
  row.signature = signature;
  row.li.dataset.state = call.state;
  row.li.dataset.direction = call.direction || 'in';
  if (call.entry_id) row.li.dataset.entryId = call.entry_id;
  row.li.className = `call-row call-${call.state}${call.repeat ? ' call-is-repeat' : ''}`;
  const active = document.activeElement;
  const focusedId = row.main?.contains(active) ? active.getAttribute('data-testid') : null;
  const main = mainPart(call, { ...ctx, expanded: row.expanded });
  applyTranslations(main);
  if (row.main) row.main.replaceWith(main);
  else row.li.prepend(main);
  row.main = main;
  if (focusedId) {
    const again = [focusedId, SUCCESSOR[focusedId], 'call-details-toggle']
      .map((id) => id && main.querySelector(`[data-testid="${id}"]`))
      .find(Boolean);
    again?.focus({ preventScroll: true });
  }
  // Answered meanwhile: open details learn of the entry (and the number button).
  if (row.details && row.expanded && previousState && previousState !== call.state) row.details.load();
}

/** Shows or hides the row's details (fetched when opened). */
export function toggleCallDetails(row, call) {
  row.expanded = !row.expanded;
  if (!row.details) {
    row.details = createCallDetails(call.id, { headingLevel: 'h3', id: `call-details-${call.id}`, showRepeat: false });
    row.li.append(row.details.element);
  }
  row.details.element.hidden = !row.expanded;
  if (row.expanded) row.details.load();
  row.signature = ''; // the toggle's aria-expanded
}

/** The running counters move on (once a second, without rebuilding anything). */
export function tickCallRow(row, call) {
  const timer = row.main?.querySelector('.call-timer');
  if (timer) timer.textContent = clockText(runningSeconds(call));
}
