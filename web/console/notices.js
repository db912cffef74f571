// Short visible notices (saved, refused, …) and a polite screen-reader announcer.

import { h } from './dom.js';
import { applyTranslations } from './i18n.js';

const KEEP_MS = 7000;

/**
 * Shows a notice. kind: 'info' | 'success' | 'error'. key/args: a message; detail: extra
 * text (e.g. a summary) shown after it. Errors stay until dismissed.
 */
export function notify(kind, key, args, detail) {
  const area = document.getElementById('notices');
  if (!area) return;
  const close = h('button', {
    type: 'button',
    class: 'notice-close',
    i18nAttr: 'aria-label:common.dismiss;title:common.dismiss',
    text: '×',
  });
  const item = h(
    'div',
    { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null },
    h('span', { class: 'notice-text', i18n: key, i18nArgs: args }),
    detail ? h('span', { class: 'notice-detail', text: detail }) : null,
    close,
  );
  applyTranslations(item);
  close.addEventListener('click', () => item.remove());
  area.appendChild(item);
  while (area.children.length > 4) area.firstElementChild.remove();
  if (kind !== 'error') setTimeout(() => item.remove(), KEEP_MS);
}

let announceTimer = null;
const queue = [];

/** Reads text out politely (new entries and the like), without showing anything. */
export function announce(text) {
  const region = document.getElementById('live-region');
  if (!region || !text) return;
  queue.push(text);
  clearTimeout(announceTimer);
  // Batch what arrives together so a replay of many events is one short message.
  announceTimer = setTimeout(() => {
    const lines = queue.splice(0, queue.length);
    region.textContent = '';
    const shown = lines.slice(-3);
    setTimeout(() => {
      region.textContent = shown.join('. ');
    }, 50);
  }, 400);
}
