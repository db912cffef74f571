// The transcript section of a chat entry's detail (entries of channel chat): the messages
// of the chat, oldest first; a body removed under the retention rule says so.

import * as api from './api.js';
import { h } from './dom.js';
import { applyTranslations } from './i18n.js';
import { messageLine } from './chat-common.js';

let sectionCount = 0;

/** The section for one chat. Returns {element, chatId, destroy}; the element is kept
 * across re-renders of the detail, and loaded once (every read is in the access log). */
export function createTranscriptSection(chatId) {
  const headingId = `transcript-h${(sectionCount += 1)}`;
  const body = h('div', { class: 'entry-transcript-body' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const element = h(
    'section',
    { class: 'detail-section entry-transcript', 'data-testid': 'entry-transcript', 'aria-labelledby': headingId, dataset: { chatId } },
    h('h3', { id: headingId, i18n: 'chat.transcript_title' }),
    body,
  );
  applyTranslations(element);
  let destroyed = false;

  async function load() {
    let messages;
    try {
      messages = await api.chatTranscript(chatId);
    } catch {
      if (destroyed) return;
      body.replaceChildren(
        h('p', { class: 'muted', i18n: 'chat.transcript_failed' }),
        h('button', { type: 'button', class: 'btn btn-small', i18n: 'common.retry', on: { click: load } }),
      );
      applyTranslations(body);
      return;
    }
    if (destroyed) return;
    body.replaceChildren(
      messages.length
        ? h('div', { class: 'chat-transcript is-static' }, h('ol', { class: 'chat-messages' }, messages.map((m) => messageLine(m, 'entry-transcript-message'))))
        : h('p', { class: 'muted', i18n: 'chat.transcript_empty' }),
    );
    applyTranslations(body);
  }

  load();
  return {
    element,
    chatId,
    destroy() {
      destroyed = true;
    },
  };
}
