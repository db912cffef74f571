// The chat queue on the desk: the waiting chats in the server's order (highest risk first,
// then longest waiting), each with its risk, signals, language, live waiting time, number of
// client messages and an Accept button; "Take next"; the visible new-chat alert; and the
// switches for system notifications and the new-chat sound.

import { byTestId, h } from './dom.js';
import { applyTranslations, setText, t } from './i18n.js';
import { languageLabel, riskBadge, riskLabel, shortCode, signalList } from './chat-common.js';
import {
  isMuted,
  notificationPermission,
  notificationsSupported,
  requestNotifications,
  setMuted,
} from './alerts.js';
import { now } from './time.js';

const els = {};
let handlers = null;
let chats = [];
let newCount = 0;
let lastNew = null;

/** handlers: onAccept(summary), onTakeNext(). Wires the static parts once. */
export function initChatQueue(h0) {
  handlers = h0;
  if (els.list) return;
  Object.assign(els, {
    section: byTestId('chat-queue'),
    list: document.getElementById('chat-queue-list'),
    empty: byTestId('chat-queue-empty'),
    count: document.getElementById('chat-queue-count'),
    takeNext: byTestId('chat-take-next'),
    notifications: byTestId('chat-notifications'),
    mute: byTestId('chat-mute'),
    alert: byTestId('new-chat-alert'),
    alertText: document.getElementById('new-chat-alert-text'),
    alertDismiss: document.getElementById('new-chat-alert-dismiss'),
  });
  els.takeNext.addEventListener('click', () => handlers.onTakeNext());
  els.mute.addEventListener('click', () => {
    setMuted(!isMuted());
    renderSwitches();
  });
  els.notifications.addEventListener('click', async () => {
    await requestNotifications();
    renderSwitches();
  });
  els.alertDismiss.addEventListener('click', () => hideNewChatAlert({ focus: true }));
  renderSwitches();
}

function renderSwitches() {
  els.mute.setAttribute('aria-pressed', String(isMuted()));
  const permission = notificationPermission();
  els.notifications.hidden = !notificationsSupported();
  const key = permission === 'granted' ? 'chat.notifications_on' : permission === 'denied' ? 'chat.notifications_blocked' : 'chat.notifications_enable';
  setText(els.notifications, key);
  if (permission === 'default') els.notifications.removeAttribute('aria-disabled');
  else els.notifications.setAttribute('aria-disabled', 'true');
}

/** "waiting 4 min" from the moment the chat opened. */
function waitingText(openedAt) {
  const minutes = Math.max(0, Math.floor((now() - new Date(openedAt)) / 60000));
  if (minutes < 1) return t('chat.waiting_under_minute');
  if (minutes < 60) return t('chat.waiting_minutes', { minutes });
  return t('chat.waiting_hours', { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
}

function row(chat) {
  const code = shortCode(chat.id);
  return h(
    'li',
    { class: `chat-row risk-${chat.risk?.level || 'none'}`, 'data-testid': 'chat-queue-row', dataset: { chatId: chat.id, risk: chat.risk?.level || 'none' } },
    h(
      'div',
      { class: 'chat-row-top' },
      riskBadge(chat.risk?.level),
      h('span', { class: 'chat-row-code', i18n: 'chat.code', i18nArgs: { code } }),
      h('span', { class: 'chat-row-lang', text: languageLabel(chat.language) }),
    ),
    signalList(chat.risk?.signals),
    h(
      'p',
      { class: 'chat-row-meta' },
      h('span', { class: 'chat-wait', dataset: { openedAt: chat.opened_at }, text: waitingText(chat.opened_at) }),
      h('span', { 'aria-hidden': 'true', text: ' · ' }),
      h('span', { i18n: 'chat.client_messages', i18nArgs: { count: chat.client_messages } }),
    ),
    h('button', {
      type: 'button',
      class: 'btn btn-small btn-primary chat-accept',
      'data-testid': 'chat-accept',
      i18n: 'chat.accept',
      i18nAttr: 'aria-label:chat.accept_named',
      i18nArgs: { code },
      on: { click: () => handlers.onAccept(chat) },
    }),
  );
}

/** Renders the queue. list: ChatSummaries in the server's order; state: 'loading' | 'ready' | 'failed'. */
export function renderChatQueue(list, state = 'ready') {
  chats = list;
  const focusedId = document.activeElement?.closest?.('[data-testid="chat-queue-row"]')?.dataset.chatId;
  const rows = list.map(row);
  els.list.replaceChildren(...rows);
  applyTranslations(els.list);
  if (focusedId) {
    const again = els.list.querySelector(`[data-chat-id="${focusedId}"] .chat-accept`);
    (again || els.takeNext).focus({ preventScroll: true });
  }
  els.empty.hidden = list.length > 0 && state !== 'failed';
  setText(els.empty, state === 'failed' ? 'chat.queue_failed' : state === 'loading' ? 'common.loading' : 'chat.queue_empty');
  setText(els.count, 'chat.waiting_count', { count: list.length });
  if (!list.length) {
    hideNewChatAlert();
  } else if (lastNew) {
    // The risk is known once the client has written: the alert names the newest picture.
    lastNew = list.find((c) => c.id === lastNew.id) || lastNew;
    renderNewChatAlert();
  }
}

/** The waiting times move on by themselves. */
export function tickChatQueue() {
  for (const el of els.list?.querySelectorAll('.chat-wait') || []) el.textContent = waitingText(el.dataset.openedAt);
}

function renderNewChatAlert() {
  const args = { risk: riskLabel(lastNew.risk?.level), language: languageLabel(lastNew.language) };
  if (newCount > 1) setText(els.alertText, 'chat.new_alert_many', { count: newCount, ...args });
  else setText(els.alertText, 'chat.new_alert', args);
  els.alert.dataset.chatId = lastNew.id;
  els.alert.dataset.risk = lastNew.risk?.level || 'none';
}

/** A chat joined the queue: the visible alert names it (and counts the ones before it). */
export function showNewChatAlert(summary) {
  newCount += 1;
  lastNew = summary;
  renderNewChatAlert();
  els.alert.hidden = false;
}

export function hideNewChatAlert({ focus = false } = {}) {
  if (!els.alert) return;
  newCount = 0;
  lastNew = null;
  const hadFocus = els.alert.contains(document.activeElement);
  els.alert.hidden = true;
  if (focus || hadFocus) els.takeNext.focus();
}

export function chatQueueLanguageChanged() {
  if (!els.list) return;
  renderSwitches();
  renderChatQueue(chats);
}

export function resetChatQueue() {
  if (!els.list) return;
  chats = [];
  hideNewChatAlert();
  renderChatQueue([], 'loading');
}
