// What the chat queue, the chat windows, the risk alerts and the entry transcript share:
// a chat's short code, its risk badge and signals, its language, and one message line.

import { h } from './dom.js';
import { t } from './i18n.js';
import { formatShort, formatLong } from './time.js';

export const RISK_LEVELS = ['none', 'elevated', 'high', 'imminent'];
/** The levels a worker may assess (an assessment only raises). */
export const ASSESSABLE_LEVELS = ['elevated', 'high', 'imminent'];

/** "ABC123": the first six hex digits, as the chat's live-log entry names it. */
export function shortCode(id) {
  return String(id || '').replace(/-/g, '').slice(0, 6).toUpperCase();
}

export function stream(id) {
  return `chat:${id}`;
}

export function riskLabel(level) {
  return t(['chat_risk', level || 'none'].join('.'));
}

/** The risk as text and colour (never colour alone). */
export function riskBadge(level) {
  const value = RISK_LEVELS.includes(level) ? level : 'none';
  return h(
    'span',
    { class: `risk-badge risk-${value}` },
    value === 'high' || value === 'imminent' ? h('span', { 'aria-hidden': 'true', text: '⚠ ' }) : null,
    h('span', { i18n: 'chat.risk_prefix' }),
    ' ',
    h('span', { i18n: ['chat_risk', value].join('.') }),
  );
}

/** The phrase lists' signals, translated; null when there are none. */
export function signalList(signals) {
  if (!signals?.length) return null;
  return h(
    'ul',
    { class: 'chat-signals' },
    signals.map((signal) => h('li', { class: 'chat-signal', i18n: ['chat_signal', signal].join('.') })),
  );
}

export function signalsText(signals) {
  return (signals || []).map((signal) => t(['chat_signal', signal].join('.'))).join(', ');
}

/** The language's own name, e.g. "svenska". */
export function languageName(code) {
  return t(['lang', `${code}_name`].join('.'));
}

/** The language's name and code, e.g. "svenska (sv)". */
export function languageLabel(code) {
  return `${languageName(code)} (${code})`;
}

/** The heading of a chat: "Chat ABC123 · fi · risk: high". */
export function chatTitle(summary) {
  return t('chat.window_title', {
    code: shortCode(summary.id),
    language: summary.language,
    risk: riskLabel(summary.risk?.level),
  });
}

/**
 * One message: who wrote it, when, and the text (or a note that the retention rule removed
 * it). message: {seq, from, body|null, at, by?}; `by` (the desk's transcript only) names the
 * worker who wrote it. testid names the element for the tests.
 */
export function messageLine(message, testid) {
  const purged = message.body === null || message.body === undefined;
  return h(
    'li',
    {
      class: `chat-msg from-${message.from}${purged ? ' is-purged' : ''}`,
      'data-testid': testid,
      dataset: { from: message.from, seq: message.seq, clientId: message.client_id },
    },
    h(
      'p',
      { class: 'chat-msg-head' },
      h('span', { class: 'chat-msg-from', i18n: ['chat_from', message.from].join('.') }),
      message.by ? h('span', { class: 'chat-msg-by', text: `(${message.by})` }) : null,
      message.at ? h('time', { class: 'chat-msg-time', datetime: message.at, title: formatLong(message.at), text: formatShort(message.at) }) : null,
    ),
    purged
      ? h('p', { class: 'chat-msg-body muted', i18n: 'chat.message_purged' })
      : h('p', { class: 'chat-msg-body prewrap', text: message.body }),
  );
}
