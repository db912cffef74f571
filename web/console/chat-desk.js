// The chat desk: keeps the queue and the worker's chat windows current from the desk stream
// and the server, opens a window for every chat the worker answers (accepted, taken next,
// or handed over by a colleague), and raises the alerts for new chats and imminent risk.
// app.js starts it after login and hands it the desk stream's chat.* events.

import * as api from './api.js';
import { debounce } from './dom.js';
import { setText, t } from './i18n.js';
import { announce, notify } from './notices.js';
import * as panel from './panel.js';
import { app } from './state.js';
import { ChatWindow } from './chat-window.js';
import {
  chatQueueLanguageChanged,
  hideNewChatAlert,
  initChatQueue,
  renderChatQueue,
  resetChatQueue,
  showNewChatAlert,
  tickChatQueue,
} from './chat-queue.js';
import { clearRiskAlerts, showRiskAlert, updateRiskAlert } from './risk-alerts.js';
import { callAttention, playSound, resetTitle, setWaiting, systemNotify, titleLanguageChanged } from './alerts.js';
import { languageLabel, riskLabel, shortCode, signalsText } from './chat-common.js';

const REFRESH_DELAY_MS = 250;
const TICK_MS = 15000;

const desk = {
  running: false,
  /** Bumped at every start and stop, so late answers of an earlier session are dropped. */
  token: 0,
  queue: [],
  queueState: 'loading',
  windows: new Map(), // chat id -> ChatWindow
  tick: null,
  taking: false,
};
let els = null;

function collect() {
  els = {
    windows: document.getElementById('chat-windows'),
    windowsEmpty: document.getElementById('chat-windows-empty'),
    tileCount: document.getElementById('tile-chats-count'),
    tileMine: document.getElementById('tile-chats-mine'),
  };
  initChatQueue({ onAccept: (summary) => accept(summary.id), onTakeNext: takeNext });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') for (const win of desk.windows.values()) win.scheduleDelivered();
  });
  window.addEventListener('online', retryAll);
}

// ---- Start and stop ----

/** Starts the desk for app.me (app.live must exist: the windows follow their streams on it). */
export function startChatDesk() {
  if (!els) collect();
  desk.running = true;
  desk.token += 1;
  desk.queueState = 'loading';
  renderQueue();
  loadQueue();
  loadMine();
  clearInterval(desk.tick);
  desk.tick = setInterval(tickChatQueue, TICK_MS);
}

export function stopChatDesk() {
  if (!els) return;
  desk.running = false;
  desk.token += 1;
  clearInterval(desk.tick);
  refreshQueue.cancel();
  for (const win of [...desk.windows.values()]) closeWindow(win, { keepDrafts: true });
  desk.queue = [];
  resetChatQueue();
  clearRiskAlerts();
  resetTitle();
  renderTile();
}

/** The desk stream was (re)subscribed: whatever happened meanwhile is fetched again. */
export function chatDeskResynced() {
  if (!desk.running) return;
  refreshQueue();
  loadMine();
  retryAll();
}

export function chatDeskLanguageChanged() {
  if (!els) return;
  chatQueueLanguageChanged();
  for (const win of desk.windows.values()) win.languageChanged();
  titleLanguageChanged();
  renderTile();
}

function retryAll() {
  for (const win of desk.windows.values()) win.retryNow();
}

// ---- The queue ----

async function loadQueue() {
  const token = desk.token;
  try {
    const list = await api.listChats({ state: 'queued' });
    if (token !== desk.token) return;
    desk.queue = list;
    desk.queueState = 'ready';
  } catch {
    if (token !== desk.token) return;
    if (desk.queueState !== 'ready') desk.queueState = 'failed';
  }
  renderQueue();
}

const refreshQueue = debounce(loadQueue, REFRESH_DELAY_MS);

function renderQueue() {
  renderChatQueue(desk.queue, desk.queueState);
  setWaiting(desk.queue.length);
  renderTile();
}

function renderTile() {
  if (!els.tileCount) return;
  els.tileCount.textContent = desk.running && desk.queueState === 'ready' ? String(desk.queue.length) : '—';
  const mine = [...desk.windows.values()].filter((win) => win.isMine()).length;
  setText(els.tileMine, 'tiles.chats_mine', { count: mine });
}

/** The chats I answer: a window each (on start and after every reconnect). */
async function loadMine() {
  const token = desk.token;
  let mine;
  try {
    mine = await api.listChats({ state: 'active', mine: true });
  } catch {
    return; // tried again at the next reconnect
  }
  if (token !== desk.token) return;
  for (const summary of mine) openWindow(summary);
  // A window of mine the server no longer lists changed while we were away: ask for it.
  for (const win of desk.windows.values()) {
    if (win.isMine() && !mine.some((s) => s.id === win.id)) {
      api.getChat(win.id).then((s) => token === desk.token && applySummary(s, 'reload')).catch(() => {});
    }
  }
}

// ---- Desk events ----

/** A chat.* event of the desk stream. */
export function chatDeskEvent(frame) {
  if (!desk.running) return;
  if (frame.kind === 'chat.alert') {
    onImminent(frame.data || {});
    return;
  }
  const summary = frame.data?.chat;
  if (!summary?.id) return;
  refreshQueue();
  updateRiskAlert(summary);
  if (frame.kind === 'chat.queued') onQueued(summary);
  applySummary(summary, frame.kind);
}

function onQueued(summary) {
  if (!desk.queue.some((c) => c.id === summary.id)) {
    desk.queue = [...desk.queue, summary];
    if (desk.queueState !== 'ready') desk.queueState = 'ready';
    renderQueue();
  }
  showNewChatAlert(summary);
  playSound('new');
  callAttention();
  const args = { risk: riskLabel(summary.risk?.level), language: languageLabel(summary.language) };
  announce(t('chat.new_alert', args));
  systemNotify(t('chat.notify_new_title'), t('chat.new_alert', args), { tag: `chat-${summary.id}` });
}

function onImminent(data) {
  if (!data.chat_id) return;
  showRiskAlert(data, { onOpen: openFromAlert });
  playSound('imminent');
  const code = shortCode(data.chat_id);
  systemNotify(t('chat.alert_title'), `${t('chat.code', { code })}: ${signalsText(data.signals)}`, {
    tag: `alert-${data.chat_id}`,
    urgent: true,
    onClick: () => openFromAlert(data.chat_id),
  });
}

/** A newer summary of a chat: its window follows, or one opens when the chat became mine. */
function applySummary(summary, kind) {
  const code = shortCode(summary.id);
  const win = desk.windows.get(summary.id);
  const mineNow = summary.state === 'active' && summary.worker?.id === app.me?.id;
  if (win) {
    const wasMine = win.isMine();
    win.update(summary);
    if (wasMine && !win.isMine() && summary.state === 'active') {
      // Handed on from another tab, or by a supervisor (our own transfer says so itself).
      if (!win.transferring) notify('info', 'chat.transferred_away', { code, name: summary.worker?.name || '' });
      closeWindow(win, { focus: true });
    } else if (wasMine && kind === 'chat.ended' && summary.end_reason !== 'worker') {
      notify('info', ['chat_end', summary.end_reason].join('.'), undefined, t('chat.code', { code }));
    }
    renderTile();
    return;
  }
  if (!mineNow || !['chat.accepted', 'chat.transferred', 'reload'].includes(kind)) return;
  openWindow(summary);
  if (kind === 'chat.transferred') {
    const from = summary.transfers?.at(-1)?.from?.name || '';
    notify('info', 'chat.transferred_in', { code, name: from });
    announce(t('chat.transferred_in', { code, name: from }));
    playSound('new');
    systemNotify(t('chat.transferred_in', { code, name: from }), summary.transfers?.at(-1)?.note || '', { tag: `chat-${summary.id}` });
  }
}

// ---- Windows ----

const windowHooks = {
  onAccept: (id) => accept(id),
  onOpenEntry: (entryId) => openEntry(entryId),
  onClose: (win) => closeWindow(win, { focus: true }),
  onTransferred(summary) {
    const win = desk.windows.get(summary.id);
    if (win) closeWindow(win, { focus: true });
    notify('success', 'chat.transferred_done', { code: shortCode(summary.id), name: summary.worker?.name || '' });
    refreshQueue();
  },
};

function openWindow(summary, { focus = false } = {}) {
  let win = desk.windows.get(summary.id);
  if (win) {
    win.update(summary);
  } else {
    win = new ChatWindow(summary, windowHooks);
    desk.windows.set(summary.id, win);
    els.windows.append(win.element);
    app.live?.follow(win.stream, 0, win.feed);
  }
  renderWindowsArea();
  if (focus) {
    win.element.scrollIntoView({ block: 'nearest' });
    win.focusReply();
  }
  return win;
}

function closeWindow(win, { focus = false, keepDrafts = false } = {}) {
  const hadFocus = win.element.contains(document.activeElement);
  app.live?.unfollow(win.stream);
  win.destroy();
  if (!keepDrafts && !win.isMine()) win.forgetDrafts();
  desk.windows.delete(win.id);
  renderWindowsArea();
  if (focus && hadFocus) document.getElementById('chat-windows-heading')?.focus();
}

function renderWindowsArea() {
  els.windowsEmpty.hidden = desk.windows.size > 0;
  renderTile();
}

async function openFromAlert(id) {
  let win = desk.windows.get(id);
  if (!win) {
    try {
      win = openWindow(await api.getChat(id));
    } catch (err) {
      notify('error', 'error.action_failed', { message: err.message || err.code });
      return;
    }
  }
  win.element.scrollIntoView({ block: 'nearest' });
  win.focusReply();
}

// ---- Accept, take next, open the entry ----

async function accept(id) {
  try {
    const summary = await api.chatAction(id, 'accept');
    hideNewChatAlert();
    openWindow(summary, { focus: true });
  } catch (err) {
    if (err.status === 409) notify('info', 'chat.accept_conflict', { code: shortCode(id) });
    else notify('error', 'error.action_failed', { message: err.message || err.code });
  }
  refreshQueue();
}

async function takeNext() {
  if (desk.taking) return;
  desk.taking = true;
  try {
    const summary = await api.takeNextChat();
    if (!summary) {
      notify('info', 'chat.nobody_waiting');
      return;
    }
    hideNewChatAlert();
    openWindow(summary, { focus: true });
  } catch (err) {
    notify('error', 'error.action_failed', { message: err.message || err.code });
  } finally {
    desk.taking = false;
    refreshQueue();
  }
}

/** The chat's live-log entry in the side panel, to be completed as for a call. */
function openEntry(entryId) {
  if (!entryId) return;
  const hash = `#/entry/${entryId}`;
  if (location.hash !== hash) history.pushState(history.state, '', hash);
  panel.openDetail(entryId);
  document.getElementById('panel')?.scrollIntoView({ block: 'nearest' });
}
