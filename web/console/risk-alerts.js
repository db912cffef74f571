// The imminent-risk banners: when a chat reaches imminent risk (desk event chat.alert),
// a prominent banner (role=alert) names the signals and who is answering the chat, or that
// it still waits in the queue, with a button to open the chat. Each stays until dismissed.

import { h } from './dom.js';
import { applyTranslations, setText } from './i18n.js';
import { shortCode, signalList } from './chat-common.js';
import { app } from './state.js';

const banners = new Map(); // chat id -> {element, who, state, worker}

function container() {
  return document.getElementById('chat-alerts');
}

function renderWho(banner) {
  const { state, worker } = banner;
  if (state === 'ended') setText(banner.who, 'chat.alert_ended');
  else if (worker && worker.id === app.me?.id) setText(banner.who, 'chat.state_mine');
  else if (worker) setText(banner.who, 'chat.alert_answering', { name: worker.name });
  else setText(banner.who, 'chat.alert_queued');
}

/** data: the chat.alert event's {chat_id, level, signals, state, worker}. onOpen(chatId). */
export function showRiskAlert(data, { onOpen }) {
  const id = data.chat_id;
  const known = banners.get(id);
  if (known) {
    known.element.remove();
    banners.delete(id);
  }
  const who = h('span', { class: 'chat-alert-who' });
  const title = h('strong', { class: 'chat-alert-title', i18n: 'chat.alert_title' });
  const element = h(
    'div',
    { class: 'chat-alert', role: 'alert', 'data-testid': 'chat-alert', dataset: { chatId: id } },
    h('span', { class: 'chat-alert-icon', 'aria-hidden': 'true', text: '⚠' }),
    h(
      'div',
      { class: 'chat-alert-text' },
      h('p', {}, title, ' ', h('span', { i18n: 'chat.code', i18nArgs: { code: shortCode(id) } })),
      signalList(data.signals),
      h('p', {}, who),
    ),
    h(
      'div',
      { class: 'chat-alert-actions' },
      h('button', {
        type: 'button',
        class: 'btn btn-primary',
        'data-testid': 'chat-alert-open',
        i18n: 'chat.alert_open',
        on: { click: () => onOpen(id) },
      }),
      h('button', {
        type: 'button',
        class: 'btn btn-quiet',
        'data-testid': 'chat-alert-dismiss',
        i18n: 'common.dismiss',
        on: { click: () => dismissRiskAlert(id) },
      }),
    ),
  );
  const banner = { element, who, state: data.state, worker: data.worker || null };
  banners.set(id, banner);
  renderWho(banner);
  applyTranslations(element);
  container()?.prepend(element);
}

/** A queue change of the chat: the banner keeps saying who answers it. */
export function updateRiskAlert(summary) {
  const banner = banners.get(summary.id);
  if (!banner) return;
  banner.state = summary.state;
  banner.worker = summary.worker || null;
  renderWho(banner);
}

export function dismissRiskAlert(id) {
  const banner = banners.get(id);
  if (!banner) return;
  const hadFocus = banner.element.contains(document.activeElement);
  banner.element.remove();
  banners.delete(id);
  if (hadFocus) document.getElementById('chat-queue-heading')?.focus();
}

export function clearRiskAlerts() {
  for (const banner of banners.values()) banner.element.remove();
  banners.clear();
}
