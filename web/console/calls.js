// The calls strip on the desk: the phone calls ringing and in progress, live. Loaded from
// GET /api/v1/calls at start and after every reconnect, and kept current by the desk
// stream's call.ringing / call.answered / call.ended events (app.js hands them over). Rows
// are keyed by call id and a call only moves on (ringing < answered < ended), so replayed or
// overtaken events never double a row or bring an ended call back. A new incoming call
// chimes, is announced to screen readers, and raises a system notification (alerts.js);
// an unanswered one that ends leaves a short notice.

import * as api from './api.js';
import { byTestId } from './dom.js';
import { setText, t } from './i18n.js';
import { announce, notify } from './notices.js';
import { app, applyEntry } from './state.js';
import { playSound, systemNotify } from './alerts.js';
import { loadTeams } from './handovers.js';
import { callTitle, isNewer, lineName, liveCalls, openEntry, repeatText, stateRank } from './call-common.js';
import { callDetailsLanguageChanged } from './call-details.js';
import { createCallRow, tickCallRow, toggleCallDetails, updateCallRow } from './call-row.js';

const TICK_MS = 1000;
/** Ended calls remembered, so a late event of one never shows it again. */
const ENDED_KEEP = 500;

const desk = {
  running: false,
  /** Bumped at every start and stop, so late answers of an earlier session are dropped. */
  token: 0,
  calls: new Map(), // id -> {call, seq}
  ended: new Set(),
  rows: new Map(), // id -> row (call-row.js)
  tick: null,
  teamsLoaded: false,
  claiming: new Set(),
  /** New ringing calls heard of while the stream replayed what was missed. */
  pendingAlerts: new Set(),
};
let els = null;

function collect() {
  els = {
    strip: byTestId('calls'),
    list: document.getElementById('calls-list'),
    count: document.getElementById('calls-count'),
  };
}

// ---- Start and stop ----

/** Starts the strip for app.me (desk roles); the desk stream's events follow. */
export function startCalls() {
  if (!els) collect();
  if (!els.strip) return;
  desk.running = true;
  desk.token += 1;
  loadTeams()
    .then(() => {
      desk.teamsLoaded = true;
      renderCalls();
    })
    .catch(() => {});
  load();
}

export function stopCalls() {
  if (!els?.strip) return;
  desk.running = false;
  desk.token += 1;
  desk.calls.clear();
  desk.ended.clear();
  desk.claiming.clear();
  desk.pendingAlerts.clear();
  for (const row of desk.rows.values()) row.li.remove();
  desk.rows.clear();
  renderCalls();
}

/** The desk stream was (re)subscribed: what rang or ended meanwhile is fetched again, and
 * the calls heard of in the replay that still ring now alert (the ones that ended
 * meanwhile stay quiet). */
export function callsResynced() {
  if (!desk.running) return;
  for (const id of desk.pendingAlerts) {
    const known = desk.calls.get(id);
    if (known?.call.state === 'ringing') ringing(known.call);
  }
  desk.pendingAlerts.clear();
  load();
}

export function callsLanguageChanged() {
  renderCalls();
  callDetailsLanguageChanged();
}

async function load() {
  const token = desk.token;
  let list;
  try {
    list = await liveCalls();
  } catch {
    return; // tried again at the next reconnect
  }
  if (token !== desk.token) return;
  const listed = new Set(list.calls.map((c) => c.id));
  for (const call of list.calls) apply(call, list.head, { fromList: true });
  // Live here but no longer listed, and nothing newer heard of it since: it ended meanwhile.
  for (const [id, known] of desk.calls) {
    if (!listed.has(id) && known.seq <= list.head) forget(id);
  }
  renderCalls();
}

// ---- Events ----

/** A call.* event of the desk stream; replay: it was missed and is being caught up on. */
export function callDeskEvent(frame, { replay = false } = {}) {
  if (!desk.running) return;
  const call = frame.data?.call;
  if (!call?.id) return;
  apply(call, frame.seq ?? 0, { fromList: false, replay });
  renderCalls();
}

/** Takes in a call as the server last told it; returns whether anything changed. */
function apply(call, seq, { fromList, replay = false }) {
  if (desk.ended.has(call.id)) return false;
  const known = desk.calls.get(call.id);
  if (known && !isNewer(call, known.call)) return false;
  if (call.state === 'ended') {
    if (known) endedNotice(call);
    forget(call.id);
    return true;
  }
  desk.calls.set(call.id, { call, seq: Math.max(seq, known?.seq ?? 0) });
  if (!known && !fromList && call.state === 'ringing' && call.direction !== 'out') {
    if (replay) desk.pendingAlerts.add(call.id);
    else ringing(call);
  }
  return true;
}

function forget(id) {
  desk.calls.delete(id);
  desk.ended.add(id);
  if (desk.ended.size > ENDED_KEEP) desk.ended.delete(desk.ended.values().next().value);
}

/** A new incoming call: a chime, a screen-reader announcement, a system notification. */
function ringing(call) {
  const title = callTitle(call);
  const text = call.repeat ? `${title}. ${repeatText(call.repeat)}` : title;
  playSound('new');
  announce(text);
  systemNotify(t('call.notify_title'), text, { tag: `call-${call.id}`, onClick: () => focusRow(call.id) });
}

/** A call that was on the strip ended unanswered: a short notice names its line. */
function endedNotice(call) {
  if (call.direction === 'out' || call.outcome === 'answered' || call.answered_at) return;
  const key = call.outcome === 'missed' ? 'call.missed_notice' : 'call.abandoned_notice';
  notify('info', key, undefined, call.line ? lineName(call.line) : undefined);
}

function focusRow(id) {
  const row = desk.rows.get(id);
  const target = row?.main?.querySelector('button');
  if (target) {
    target.scrollIntoView({ block: 'nearest' });
    target.focus();
  }
}

// ---- Actions ----

/** "I answered": the call's entry becomes mine, and opens. */
async function claim(call) {
  if (!call.entry_id || desk.claiming.has(call.id)) return;
  desk.claiming.add(call.id);
  try {
    const entry = await api.claimEntry(call.entry_id);
    applyEntry(entry);
    app.render();
    openEntry(call.entry_id);
  } catch (err) {
    let current = null;
    if (err.status === 409) current = await api.getEntry(call.entry_id).catch(() => null);
    if (current) {
      applyEntry(current);
      app.render();
    }
    if (current?.claimed_by && current.claimed_by.id !== app.me?.id) {
      notify('error', 'detail.claimed_by_other', { name: current.claimed_by.name });
    } else if (!current?.claimed_by) {
      notify('error', 'error.action_failed', { message: err.message || err.code });
    }
  } finally {
    desk.claiming.delete(call.id);
  }
}

const rowHooks = {
  onClaim: (call) => claim(call),
  onOpenEntry: (call) => openEntry(call.entry_id),
  onToggleDetails(call) {
    const row = desk.rows.get(call.id);
    if (!row) return;
    toggleCallDetails(row, call);
    renderCalls();
  },
};

// ---- Rendering ----

function order(a, b) {
  const rank = stateRank(a.call) - stateRank(b.call);
  if (rank) return rank;
  const at = (c) => Date.parse(c.ringing_at || c.answered_at || '') || 0;
  return at(a.call) - at(b.call) || String(a.call.id).localeCompare(String(b.call.id));
}

/** Brings the strip up to date (cheap when nothing changed; app.js calls it on its renders,
 * so a call's row also follows its entry, e.g. who took it). */
export function renderCalls() {
  if (!els?.strip) return;
  const live = desk.running ? [...desk.calls.values()].sort(order) : [];
  const wanted = new Set(live.map((x) => x.call.id));
  let focusLost = false;
  for (const [id, row] of desk.rows) {
    if (wanted.has(id)) continue;
    focusLost ||= row.li.contains(document.activeElement);
    row.li.remove();
    desk.rows.delete(id);
  }
  let previous = null;
  for (const { call } of live) {
    let row = desk.rows.get(call.id);
    if (!row) {
      row = createCallRow(call);
      desk.rows.set(call.id, row);
    }
    updateCallRow(row, call, {
      me: app.me,
      entry: call.entry_id ? app.entries.get(call.entry_id) : null,
      teamsLoaded: desk.teamsLoaded,
      ...rowHooks,
    });
    const expectedNext = previous ? previous.nextSibling : els.list.firstChild;
    if (expectedNext !== row.li) els.list.insertBefore(row.li, expectedNext);
    previous = row.li;
  }
  els.strip.hidden = live.length === 0;
  // The row with the focus went away (the call ended): the strip, or the board, takes it.
  if (focusLost) document.getElementById(live.length ? 'calls-heading' : 'board-heading')?.focus();
  els.strip.dataset.count = String(live.length);
  setText(els.count, 'call.count', { count: live.length });
  if (live.length && !desk.tick) desk.tick = setInterval(tick, TICK_MS);
  if (!live.length && desk.tick) {
    clearInterval(desk.tick);
    desk.tick = null;
  }
}

function tick() {
  for (const [id, row] of desk.rows) {
    const known = desk.calls.get(id);
    if (known) tickCallRow(row, known.call);
  }
}
