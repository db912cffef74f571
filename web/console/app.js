// The on-call desk console: wiring of session, board, live updates, outbox and panel.
//
// Modules: api.js (HTTP, CSRF, errors) · live.js (websocket, resume, heartbeat) ·
// outbox.js (offline queue, merge of concurrent edits) · state.js (entries, filters,
// drafts) · board.js (rows) · tiles.js (on shift, handovers) · panel.js (side panel
// controller) · entry-form.js · entry-detail.js · handover-desk.js (an entry's handovers) ·
// handovers.js (teams, states, deadlines) · team.js (a daytime team's inbox) ·
// conflict.js (dialog) · notices.js · i18n.js · model.js (keys, field comparison) ·
// shelter-desk.js (the shelter tile and an entry's referral codes) · shelter.js (the shelter
// staff's console, with shelter-form.js, shelter-stay.js, shelter-turned-away.js and
// shelter-stats.js) ·
// time.js (Helsinki time) · dom.js (helpers). The chat desk: chat-desk.js (controller) ·
// chat-queue.js · chat-window.js · chat-common.js · canned.js · risk-alerts.js · alerts.js
// (sound, title, system notifications) · entry-transcript.js (a chat entry's transcript).
// Online reports: report-view.js (a report's section in an entry) · report-alerts.js
// (urgent-report banners, "information added" notices). Phone calls: calls.js (the live
// calls strip) · call-row.js · call-details.js (earlier contacts, recording the number) ·
// call-common.js. Supervision: supervision.js (flags of reads outside own work, for
// supervisors) · access-log-view.js (an entry's access log, the client's access report) ·
// reason-dialog.js (the reason asked before opening a named client's entry outside one's
// own work).

import { accessLogLanguageChanged } from './access-log-view.js';
import * as api from './api.js';
import { ApiError, NetworkError } from './api.js';
import { renderBoard, resetBoard } from './board.js';
import { openConflictDialog, isConflictOpen } from './conflict.js';
import { byTestId, debounce, isTypingTarget } from './dom.js';
import { installGestureUnlock, unlockAudio } from './alerts.js';
import { chatDeskEvent, chatDeskLanguageChanged, chatDeskResynced, startChatDesk, stopChatDesk } from './chat-desk.js';
import { callDeskEvent, callsLanguageChanged, callsResynced, renderCalls, startCalls, stopCalls } from './calls.js';
import { announceHandover } from './handover-desk.js';
import { loadTeams, mergeHandover, teamName } from './handovers.js';
import {
  applyTranslations,
  detectLanguage,
  label,
  language,
  onLanguageChange,
  preloadLanguages,
  setLanguage,
  setText,
  t,
} from './i18n.js';
import { LiveConnection } from './live.js';
import { compareEntries } from './model.js';
import { clearReportAlerts, reportAlertsLanguageChanged, reportDeskEvent } from './report-alerts.js';
import { announce, notify } from './notices.js';
import { Outbox } from './outbox.js';
import * as panel from './panel.js';
import { app, applyEntry, applySummary, drafts, matchesFilters, summaryOfQueued } from './state.js';
import {
  isShelterActive,
  resumeShelterConsole,
  routeShelter,
  shelterLanguageChanged,
  startShelterConsole,
  stopShelterConsole,
} from './shelter.js';
import {
  shelterDeskEvent,
  shelterDeskLanguageChanged,
  shelterDeskResynced,
  startShelterDesk,
  stopShelterDesk,
} from './shelter-desk.js';
import { startSupervision, stopSupervision, supervisionBoardChanged, supervisionLanguageChanged } from './supervision.js';
import {
  isTeamActive,
  renderTeam,
  resumeTeamConsole,
  routeTeam,
  startTeamConsole,
  stopTeamConsole,
  teamHandoverSaved,
  teamLanguageChanged,
} from './team.js';
import { renderHandoverTile, renderPresence } from './tiles.js';

const DESK_ROLES = ['oncall', 'supervisor'];
const SEARCH_DELAY_MS = 300;
const OUTBOX_POLL_MS = 20000;

const els = {};
let timers = [];
let listToken = 0;
let listState = 'loading'; // 'loading' | 'ready' | 'failed'
let presenceSignature = '';
let handoverSignature = '';
let loggedOut = true;

// ---- Views ----

function showView(name) {
  els.bootView.hidden = name !== 'boot';
  els.loginView.hidden = name !== 'login';
  els.noroleView.hidden = name !== 'norole';
  els.consoleView.hidden = name !== 'console';
  els.teamView.hidden = name !== 'team';
  els.shelterView.hidden = name !== 'shelter';
  const signedIn = ['console', 'norole', 'team', 'shelter'].includes(name);
  for (const el of document.querySelectorAll('.session-only')) el.hidden = !signedIn;
  // The connection indicator and outbox belong to the consoles only.
  els.topbarStatus.hidden = !['console', 'team', 'shelter'].includes(name);
  els.skipLink.hidden = name !== 'console';
  els.skipInbox.hidden = name !== 'team';
  els.skipShelter.hidden = name !== 'shelter';
}

function showLogin({ expired = false, unreachable = false } = {}) {
  showView('login');
  els.loginExpired.hidden = !expired;
  const unsent = app.outbox?.count() || 0;
  els.loginUnsent.hidden = unsent === 0;
  if (unsent) setText(els.loginUnsent, 'login.unsent_kept', { count: unsent });
  if (unreachable) showLoginError('login.unreachable');
  else hideLoginError();
  if (app.me && !els.loginUsername.value) els.loginUsername.value = app.me.username;
  (els.loginUsername.value ? els.loginPassword : els.loginUsername).focus();
}

function showLoginError(key) {
  els.loginError.hidden = false;
  setText(els.loginError, key);
  els.loginUsername.setAttribute('aria-invalid', 'true');
  els.loginPassword.setAttribute('aria-invalid', 'true');
}

function hideLoginError() {
  els.loginError.hidden = true;
  els.loginError.textContent = '';
  els.loginUsername.removeAttribute('aria-invalid');
  els.loginPassword.removeAttribute('aria-invalid');
}

function setUserInfo() {
  els.userName.textContent = app.me.display_name;
  setText(els.userRole, ['role', app.me.role].join('.'));
}

// ---- Session ----

async function resumeSession() {
  showView('boot');
  try {
    await startConsole(await api.currentSession());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLogin();
    else showLogin({ unreachable: err instanceof NetworkError || err?.status >= 500 });
  }
}

/** Called whenever the server says 401: back to the login form, keeping everything. */
function sessionLost() {
  if (loggedOut) return;
  loggedOut = true;
  app.live?.stop();
  showLogin({ expired: true });
}

async function startConsole(session) {
  const user = session.user;
  const resuming = Boolean(app.me && app.me.id === user.id && app.outbox);
  const resumingShelter = Boolean(app.me && app.me.id === user.id && isShelterActive());
  if (app.me && app.me.id !== user.id) teardown();
  app.me = user;
  loggedOut = false;
  setUserInfo();
  if (user.role === 'shelter') {
    await startShelter(resumingShelter);
    return;
  }
  if (user.role === 'team' && user.team) {
    await startTeam(resuming);
    return;
  }
  if (!DESK_ROLES.includes(user.role)) {
    setText(els.noroleText, 'norole.text', { role: label('role', user.role) });
    showView('norole');
    return;
  }
  showView('console');
  const active = document.activeElement;
  if (!active || active === document.body || els.loginView.contains(active)) {
    document.getElementById('board-heading').focus();
  }
  if (resuming) {
    app.live.start();
    app.outbox.flush();
    loadList().catch(() => {});
    return;
  }
  app.outbox = new Outbox(user.id, outboxHandlers);
  render();
  restorePanel();
  const head = await loadListUntilLoaded();
  if (loggedOut || app.me?.id !== user.id) return;
  app.live = new LiveConnection('desk', head, liveHandlers);
  app.live.start();
  app.outbox.flush();
  startChatDesk();
  startShelterDesk();
  startCalls();
  startSupervision();
  loadHandovers();
  api.presence().then((online) => {
    if (!app.presence.length) {
      app.presence = online;
      render();
    }
  }).catch(() => {});
  timers.push(setInterval(() => app.outbox?.count() && app.outbox.flush(), OUTBOX_POLL_MS));
  timers.push(setInterval(render, 60000));
  showNextConflict();
}

/** The team console: the inbox of the user's daytime team. */
async function startTeam(resuming) {
  showView('team');
  const active = document.activeElement;
  if (!active || active === document.body || els.loginView.contains(active)) {
    document.getElementById('inbox-heading').focus();
  }
  if (resuming && app.live) {
    app.live.start();
    app.outbox.flush();
    resumeTeamConsole();
    return;
  }
  if (resuming) teardown();
  const user = app.me;
  app.outbox = new Outbox(user.id, outboxHandlers);
  render();
  timers.push(setInterval(() => app.outbox?.count() && app.outbox.flush(), OUTBOX_POLL_MS));
  timers.push(setInterval(render, 60000));
  await startTeamConsole({
    setConnection,
    checkSession: liveHandlers.onRepeatedFailure,
    stillCurrent: () => !loggedOut && app.me?.id === user.id,
  });
}

/** The shelter staff's console: the register, kept live over the shelter's own stream. */
async function startShelter(resuming) {
  showView('shelter');
  const active = document.activeElement;
  if (!active || active === document.body || els.loginView.contains(active)) {
    document.getElementById('shelter-heading').focus();
  }
  if (resuming && app.live) {
    app.live.start();
    resumeShelterConsole();
    return;
  }
  if (app.live) teardown();
  const user = app.me;
  await startShelterConsole({
    setConnection,
    checkSession: liveHandlers.onRepeatedFailure,
    stillCurrent: () => !loggedOut && app.me?.id === user.id,
  });
}

/** Every team's open handovers for the tile (live events keep them current). */
async function loadHandovers() {
  try {
    const [list] = await Promise.all([api.allHandovers('open'), loadTeams().catch(() => [])]);
    if (loggedOut || isTeamActive()) return;
    const known = app.handovers || pendingHandoverEvents;
    const fresh = new Map(list.map((x) => [x.id, mergeHandover(known.get(x.id), x)]));
    // What live events told meanwhile (e.g. done, so no longer in the open list) stays.
    for (const [id, x] of known) if (!fresh.has(id)) fresh.set(id, x);
    pendingHandoverEvents.clear();
    app.handovers = fresh;
    render();
  } catch {
    if (!loggedOut) setTimeout(() => app.handovers || loadHandovers(), 5000);
  }
}

/** Handover events that arrived before the tile's list did. */
const pendingHandoverEvents = new Map();

/** A handover event on the desk stream: the tile, and the open entry's section. */
function onHandoverEvent(frame) {
  const summary = frame.data?.handover;
  if (!summary?.id) return;
  const map = app.handovers || pendingHandoverEvents;
  const old = map.get(summary.id);
  const merged = mergeHandover(old, summary);
  if (old && merged === old) return;
  map.set(summary.id, merged);
  render();
  announceHandover(frame.kind, summary, app.entries.get(summary.entry_id));
  panel.handoverChanged(summary);
}

/** The first list load decides where the live stream starts, so it is retried until it works. */
async function loadListUntilLoaded() {
  let delay = 1000;
  for (;;) {
    try {
      return await loadList();
    } catch (err) {
      if (loggedOut) throw err;
      setConnection('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(10000, delay * 2);
    }
  }
}

function restorePanel() {
  if (route()) return;
  if (panel.hasNewDraft()) panel.openNew();
}

function teardown() {
  stopChatDesk();
  stopShelterDesk();
  stopShelterConsole();
  stopCalls();
  stopSupervision();
  clearReportAlerts();
  app.live?.stop();
  app.outbox?.stop();
  app.live = null;
  app.outbox = null;
  for (const timer of timers) clearInterval(timer);
  timers = [];
  stopTeamConsole();
  app.entries.clear();
  app.searchIds.clear();
  app.newIds.clear();
  app.presence = [];
  app.handovers = null;
  pendingHandoverEvents.clear();
  presenceSignature = '';
  handoverSignature = '';
  listState = 'loading';
  panel.closePanel();
  resetBoard(els.board);
}

async function onLogin(event) {
  event.preventDefault();
  unlockAudio(); // a user gesture: browsers allow the chat alert sounds from now on
  hideLoginError();
  const username = els.loginUsername.value.trim();
  const password = els.loginPassword.value;
  if (!username || !password) {
    showLoginError('login.missing');
    (username ? els.loginPassword : els.loginUsername).focus();
    return;
  }
  els.loginSubmit.disabled = true;
  try {
    const session = await api.login(username, password);
    els.loginPassword.value = '';
    await startConsole(session);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLoginError('login.invalid');
    else if (err instanceof NetworkError) showLoginError('login.unreachable');
    else showLoginError('login.failed');
    els.loginPassword.value = '';
    els.loginPassword.focus();
  } finally {
    els.loginSubmit.disabled = false;
  }
}

async function onLogout() {
  // Unsent writes stay in this browser's outbox (per user) and go out at the next login.
  const unsent = app.outbox?.count() || 0;
  try {
    await api.logout();
  } catch {
    /* the cookie may already be gone; log out locally anyway */
  }
  loggedOut = true;
  teardown();
  app.me = null;
  els.loginUsername.value = '';
  showLogin();
  if (unsent) {
    els.loginUnsent.hidden = false;
    setText(els.loginUnsent, 'login.unsent_kept', { count: unsent });
  }
}

// ---- Board ----

function currentQuery() {
  return app.filters.q.trim();
}

/** Loads the board with the current filters; resolves to the stream head read before it. */
async function loadList() {
  const token = (listToken += 1);
  const f = app.filters;
  els.board.setAttribute('aria-busy', 'true');
  try {
    const { entries, head } = await api.listEntries({
      status: f.status,
      category: f.category,
      urgency: f.urgency,
      mine: f.mine ? 'true' : '',
      q: currentQuery(),
      limit: 500,
    });
    if (token === listToken) {
      for (const s of entries) applySummary(s);
      app.searchIds = new Set(entries.map((e) => e.id));
      listState = 'ready';
      render();
    }
    return head;
  } catch (err) {
    if (token === listToken) {
      listState = listState === 'ready' ? 'ready' : 'failed';
      if (err instanceof ApiError && err.status === 422) notify('error', 'error.filter_invalid');
      render();
    }
    throw err;
  } finally {
    if (token === listToken) els.board.removeAttribute('aria-busy');
  }
}

const refreshSearch = debounce(() => loadList().catch(() => {}), 500);

let renderQueued = false;
function render() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    if (app.me) renderNow();
  });
}
app.render = render;

function renderOutboxIndicator(stored) {
  const unsent = stored.ops.length;
  els.outboxCount.textContent = String(unsent);
  els.outboxIndicator.hidden = unsent === 0;
}

function renderNow() {
  const stored = app.outbox ? app.outbox.read() : { ops: [], returned: [], conflicts: [] };
  if (isShelterActive()) {
    renderOutboxIndicator(stored);
    return;
  }
  if (isTeamActive()) {
    renderOutboxIndicator(stored);
    renderTeam();
    return;
  }
  const busy = new Set(stored.ops.map((op) => op.entryId));
  const q = currentQuery();
  const items = [];
  for (const r of stored.returned) {
    if (r.op.kind !== 'create') continue;
    items.push({ key: `returned-${r.id}`, entry: summaryOfQueued(r.op), href: `#/returned/${r.id}`, returned: true, version: 0 });
  }
  for (const op of stored.ops) {
    if (op.kind !== 'create' || app.entries.has(op.entryId)) continue;
    const s = summaryOfQueued(op);
    if (matchesFilters(s)) items.push({ key: op.entryId, entry: s, href: `#/entry/${op.entryId}`, pendingCreate: true, version: 0 });
  }
  for (const s of app.entries.values()) {
    if (!matchesFilters(s)) continue;
    if (q && !app.searchIds.has(s.id)) continue;
    items.push({ key: s.id, entry: s, href: `#/entry/${s.id}`, unsent: busy.has(s.id), isNew: app.newIds.has(s.id) });
  }
  items.sort((a, b) => Number(Boolean(b.returned)) - Number(Boolean(a.returned)) || compareEntries(a.entry, b.entry));
  renderBoard(els.board, items, { meId: app.me.id });
  renderCalls(); // a call's row follows its entry (who took it)
  supervisionBoardChanged(); // flags show the summaries of entries the board knows

  const emptyKey = listState === 'failed' ? 'board.load_failed' : listState === 'loading' ? 'common.loading' : 'board.empty';
  els.boardEmpty.hidden = items.length > 0 && listState !== 'failed';
  if (!els.boardEmpty.hidden) setText(els.boardEmpty, items.length ? 'board.load_failed_stale' : emptyKey);
  setText(els.boardCount, 'board.count', { count: items.length });

  renderOutboxIndicator(stored);

  els.conflictBanner.hidden = stored.conflicts.length === 0;
  if (stored.conflicts.length) setText(els.conflictBanner.querySelector('span'), 'conflict.banner', { count: stored.conflicts.length });

  const handling = [...app.entries.values()]
    .filter((e) => e.claimed_by && e.status !== 'closed')
    .map((e) => [e.id, e.version]);
  const signature = JSON.stringify([language(), app.presence, handling]);
  if (signature !== presenceSignature) {
    presenceSignature = signature;
    renderPresence(els.presence, app.presence, [...app.entries.values()], app.me.id);
  }
  const handovers = app.handovers ? [...app.handovers.values()] : null;
  const tileSignature = JSON.stringify([
    language(),
    handovers?.map((x) => [x.id, x.version, x.state, x.overdue_at]),
    handovers?.filter((x) => x.state === 'returned').map((x) => app.entries.get(x.entry_id)?.summary),
  ]);
  if (tileSignature !== handoverSignature) {
    handoverSignature = tileSignature;
    renderHandoverTile(els.handoverTile, handovers, app.entries);
  }
  panel.updateNewButton();
}

// ---- Live updates ----

function setConnection(state) {
  els.connection.dataset.state = state;
  setText(els.connection.querySelector('.conn-text'), ['conn', state].join('.'));
}

const liveHandlers = {
  onState(state) {
    setConnection(state);
    if (state === 'live') app.outbox?.flush();
  },
  onEvent(frame, meta) {
    if (String(frame.kind || '').startsWith('call.')) {
      callDeskEvent(frame, meta);
      return;
    }
    if (String(frame.kind || '').startsWith('handover.')) {
      onHandoverEvent(frame);
      return;
    }
    if (String(frame.kind || '').startsWith('chat.')) {
      chatDeskEvent(frame);
      return;
    }
    if (String(frame.kind || '').startsWith('shelter.')) {
      shelterDeskEvent(frame);
      return;
    }
    if (String(frame.kind || '').startsWith('report.')) {
      reportDeskEvent(frame);
      return;
    }
    const s = frame.data?.entry;
    if (!s || !applySummary(s)) return;
    if (frame.kind === 'entry.created' && s.created_by?.id !== app.me.id) {
      app.newIds.add(s.id);
      setTimeout(() => {
        app.newIds.delete(s.id);
      }, 10000);
      announce(
        t('announce.new_entry', {
          urgency: label('urgency', s.urgency),
          category: label('category', s.category),
          summary: s.summary,
        }),
      );
    }
    if (currentQuery()) refreshSearch();
    panel.entryChanged(s);
    render();
  },
  onSubscribed() {
    app.outbox?.flush();
    chatDeskResynced();
    callsResynced();
    // Free places and referral statuses may have changed while the socket was away.
    shelterDeskResynced();
  },
  onPresence(online) {
    app.presence = online;
    render();
  },
  async onResyncNeeded() {
    const head = await loadList();
    app.handovers = null;
    loadHandovers();
    return head;
  },
  async onRepeatedFailure() {
    try {
      await api.currentSession();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) sessionLost();
    }
  },
};

// ---- Outbox ----

const outboxHandlers = {
  onChange() {
    render();
    panel.refreshDetail();
  },
  onDone(op, entry, waited, outcome) {
    if (op.kind === 'handover' || op.kind === 'handover-act') {
      const handover = outcome?.handover;
      if (handover) {
        const map = app.handovers || pendingHandoverEvents;
        if (!isTeamActive()) map.set(handover.id, mergeHandover(map.get(handover.id), handover));
        panel.handoverSaved(handover);
        teamHandoverSaved(handover);
        render();
      }
      if (!waited) {
        if (op.kind === 'handover') notify('success', 'handover.sent_later', { team: teamName(op.body.team) });
        else notify('success', 'notice.change_sent');
      }
      return;
    }
    if (entry) {
      applyEntry(entry);
      panel.entryChanged({ id: entry.id, version: entry.version });
      render();
    }
    if (!waited) {
      if (op.kind === 'create') notify('success', 'notice.sent_later', { summary: op.body.summary });
      else notify('success', 'notice.change_sent');
    }
  },
  onRejected(op, error, waited) {
    if (waited) return;
    if (op.kind === 'handover') {
      // Nothing typed is lost: the note goes back to the entry's handover form.
      const draftName = `handover.${op.handoverEntryId}`;
      if (!drafts.load(draftName)) {
        const b = op.body;
        drafts.save(draftName, { values: { id: b.id, team: b.team, note: b.note, urgent: b.urgent, legal_basis: b.legal_basis || '' } });
      }
      notify('error', 'handover.rejected_kept', { team: teamName(op.body.team) });
      panel.refreshDetail();
      return;
    }
    if (op.kind === 'handover-act') {
      notify('error', 'error.action_failed', { message: error.message || error.code });
      return;
    }
    if (op.kind === 'create') notify('error', 'notice.create_returned', { summary: op.body.summary });
    else if (op.form) notify('error', 'notice.edit_returned');
    else if (op.kind === 'claim' && error.code === 'conflict') {
      // Claimed offline, but a colleague took it first: say who.
      api
        .getEntry(op.entryId)
        .then((entry) => {
          applyEntry(entry);
          render();
          if (entry.claimed_by) notify('error', 'detail.claimed_by_other', { name: entry.claimed_by.name }, entry.summary);
          else notify('error', 'error.action_failed', { message: error.message || error.code });
        })
        .catch(() => notify('error', 'error.action_failed', { message: error.message || error.code }));
    } else notify('error', 'error.action_failed', { message: error.message || error.code });
    panel.refreshDetail();
  },
  onConflict() {
    showNextConflict();
  },
  onAuthRequired() {
    sessionLost();
  },
};

function showNextConflict() {
  if (!app.outbox || isConflictOpen()) return;
  const conflict = app.outbox.conflicts[0];
  if (!conflict) return;
  const resolve = (choice) => () => {
    const op = app.outbox.resolveConflict(conflict.id, choice);
    if (!op && panel.currentEntryId() === conflict.entryId) panel.openDetail(conflict.entryId);
    setTimeout(showNextConflict, 0);
  };
  openConflictDialog(conflict, {
    onKeepMine: resolve('mine'),
    onTakeTheirs: resolve('theirs'),
    onLater: () => render(),
  });
}

// ---- Routing and keyboard ----

/** Opens what the URL's hash names; returns whether it named something. */
function route() {
  const match = /^#\/(entry|returned)\/([0-9a-zA-Z-]+)$/.exec(location.hash);
  if (!match || !app.me || els.consoleView.hidden) return false;
  if (match[1] === 'entry') panel.openDetail(match[2]);
  else panel.openFix(match[2]);
  return true;
}

function onKeyDown(event) {
  if (event.defaultPrevented || els.consoleView.hidden) return;
  if (event.key === 'Escape') {
    if (isConflictOpen()) return; // the dialog handles its own Esc
    if (panel.isOpen()) {
      event.preventDefault();
      panel.closePanel();
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || isConflictOpen()) return;
  if (isTypingTarget(event.target)) return;
  if (event.key === 'n' || event.key === 'N') {
    event.preventDefault();
    panel.openNew();
  } else if (event.key === '/') {
    event.preventDefault();
    els.search.focus();
    els.search.select();
  }
}

// ---- Wiring ----

function collectElements() {
  const get = (id) => document.getElementById(id);
  Object.assign(els, {
    bootView: get('boot-view'),
    loginView: get('login-view'),
    noroleView: get('norole-view'),
    noroleText: get('norole-text'),
    consoleView: get('console-view'),
    teamView: get('team-view'),
    shelterView: get('shelter-view'),
    topbarStatus: document.querySelector('.topbar-status'),
    skipLink: get('skip-board'),
    skipInbox: get('skip-inbox'),
    skipShelter: get('skip-shelter'),
    handoverTile: get('tile-handovers-body'),
    loginForm: get('login-form'),
    loginUsername: get('login-username'),
    loginPassword: get('login-password'),
    loginSubmit: byTestId('login-submit'),
    loginError: get('login-error'),
    loginExpired: get('login-expired'),
    loginUnsent: get('login-unsent'),
    userName: get('user-name'),
    userRole: get('user-role'),
    connection: byTestId('connection-state'),
    outboxIndicator: get('outbox-indicator'),
    outboxCount: byTestId('outbox-count'),
    logout: byTestId('logout'),
    newEntry: byTestId('new-entry'),
    board: byTestId('board'),
    boardEmpty: get('board-empty'),
    boardCount: get('board-count'),
    presence: byTestId('presence'),
    filterStatus: get('filter-status'),
    filterCategory: get('filter-category'),
    filterUrgency: get('filter-urgency'),
    filterMine: get('filter-mine'),
    search: get('search'),
    filters: get('filters'),
    conflictBanner: get('conflict-banner'),
    conflictOpen: get('conflict-open'),
    panelClose: byTestId('panel-close'),
  });
}

function markLanguage() {
  for (const button of document.querySelectorAll('.lang-btn')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === language()));
  }
}

function wire() {
  els.loginForm.addEventListener('submit', onLogin);
  els.logout.addEventListener('click', onLogout);
  els.newEntry.addEventListener('click', () => panel.openNew());
  els.panelClose.addEventListener('click', () => panel.closePanel());
  els.conflictOpen.addEventListener('click', showNextConflict);
  // A row whose detail is already open: just move focus into the panel.
  els.board.addEventListener('click', (event) => {
    const link = event.target.closest('a.entry-row');
    if (link && link.hash && link.hash === location.hash && panel.isOpen()) {
      event.preventDefault();
      document.getElementById('panel-heading')?.focus();
    }
  });
  for (const button of document.querySelectorAll('.lang-btn')) {
    button.addEventListener('click', () => setLanguage(button.dataset.lang, { remember: true }));
  }
  const onFilter = () => {
    app.filters.status = els.filterStatus.value;
    app.filters.category = els.filterCategory.value;
    app.filters.urgency = els.filterUrgency.value;
    app.filters.mine = els.filterMine.checked;
    render();
    loadList().catch(() => {});
  };
  for (const el of [els.filterStatus, els.filterCategory, els.filterUrgency, els.filterMine]) {
    el.addEventListener('change', onFilter);
  }
  const onSearch = debounce(() => {
    if (app.filters.q === els.search.value) return;
    app.filters.q = els.search.value;
    loadList().catch(() => {});
  }, SEARCH_DELAY_MS);
  els.search.addEventListener('input', onSearch);
  els.filters.addEventListener('submit', (event) => {
    event.preventDefault();
    onSearch.flush();
  });
  window.addEventListener('hashchange', () => {
    if (isShelterActive()) {
      routeShelter();
      return;
    }
    if (isTeamActive()) {
      routeTeam();
      return;
    }
    if (!route() && panel.currentEntryId()) panel.closePanel();
  });
  window.addEventListener('online', () => app.outbox?.flush());
  document.addEventListener('keydown', onKeyDown);
  onLanguageChange(() => {
    markLanguage();
    presenceSignature = '';
    handoverSignature = '';
    render();
    panel.onLanguageChanged();
    teamLanguageChanged();
    chatDeskLanguageChanged();
    shelterDeskLanguageChanged();
    shelterLanguageChanged();
    reportAlertsLanguageChanged();
    callsLanguageChanged();
    supervisionLanguageChanged();
    accessLogLanguageChanged();
  });
  api.onUnauthorized(() => sessionLost());
  installGestureUnlock();
}

async function boot() {
  collectElements();
  try {
    await setLanguage(detectLanguage());
  } catch (err) {
    console.error(err);
  }
  preloadLanguages();
  markLanguage();
  wire();
  applyTranslations(document);
  await resumeSession();
}

boot();
