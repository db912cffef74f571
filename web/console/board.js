// The board: one row per entry, most urgent first. Rows are kept by key and updated in
// place, so a live update never steals keyboard focus or scroll position.

import { h } from './dom.js';
import { applyTranslations, language } from './i18n.js';
import { subjectLabel } from './model.js';
import { formatLong, formatShort } from './time.js';

const rows = new Map(); // key -> {li, link, signature}

/** Builds the inner parts of a row from an entry-shaped object. */
function rowParts(e, extra) {
  const { meId, unsent, pendingCreate, returned } = extra;
  const handler = e.claimed_by
    ? e.claimed_by.id === meId
      ? h('span', { class: 'row-handler is-me', i18n: 'board.handled_by_you' })
      : h('span', { class: 'row-handler', i18n: 'board.handled_by', i18nArgs: { name: e.claimed_by.name } })
    : h('span', { class: 'row-handler is-none', i18n: 'board.not_handled' });
  const subject = subjectLabel(e.subject);
  const flags = [];
  if (e.risk) {
    flags.push(
      h('span', { class: 'flag flag-risk' }, h('span', { 'aria-hidden': 'true', text: '⚠ ' }), h('span', { i18n: 'board.flag_risk' })),
    );
  }
  if (e.follow_up) flags.push(h('span', { class: 'flag flag-follow', i18n: 'board.flag_follow_up' }));
  if (pendingCreate) flags.push(h('span', { class: 'flag flag-unsent', i18n: 'board.not_sent' }));
  else if (unsent) flags.push(h('span', { class: 'flag flag-unsent', i18n: 'board.unsent_changes' }));
  if (returned) flags.push(h('span', { class: 'flag flag-returned', i18n: 'board.returned' }));

  return [
    h(
      'span',
      { class: 'row-top' },
      h('span', { class: `badge badge-${e.urgency}`, i18n: ['urgency', e.urgency].join('.') }),
      h('time', { class: 'row-time', datetime: e.occurred_at, title: formatLong(e.occurred_at), text: formatShort(e.occurred_at) }),
      h('span', { class: 'row-summary', text: e.summary || '' }),
      flags.length ? h('span', { class: 'row-flags' }, flags) : null,
    ),
    h(
      'span',
      { class: 'row-bottom' },
      h('span', { class: 'row-meta' }, h('span', { i18n: ['channel', e.channel].join('.') }), h('span', { class: 'sep', 'aria-hidden': 'true', text: ' · ' }), h('span', { i18n: ['category', e.category].join('.') })),
      subject
        ? h('span', { class: 'row-subject' }, h('span', { class: 'row-subject-label', i18n: 'board.subject_prefix' }), ' ', h('span', { class: 'row-subject-name', text: subject }))
        : null,
      h('span', { class: `status status-${e.status}`, i18n: ['status', e.status].join('.') }),
      handler,
    ),
  ];
}

/**
 * Renders the board. items: [{key, entry (summary-shaped), href, version, pendingCreate,
 * unsent, returned, isNew}] in display order.
 */
export function renderBoard(list, items, { meId }) {
  const active = document.activeElement;
  const activeKey = active?.closest?.('[data-row-key]')?.dataset.rowKey;
  const lang = language();
  const wanted = new Set(items.map((item) => item.key));

  for (const [key, row] of rows) {
    if (!wanted.has(key)) {
      row.li.remove();
      rows.delete(key);
    }
  }

  let previous = null;
  for (const item of items) {
    const e = item.entry;
    let row = rows.get(item.key);
    if (!row) {
      const link = h('a', { class: 'entry-row', 'data-testid': 'entry-row' });
      const li = h('li', { class: 'board-item', dataset: { rowKey: item.key } }, link);
      row = { li, link, signature: '' };
      rows.set(item.key, row);
    }
    const signature = JSON.stringify([lang, e, item.pendingCreate, item.unsent, item.returned, meId, formatShort(e.occurred_at)]);
    if (signature !== row.signature) {
      row.signature = signature;
      const link = row.link;
      link.href = item.href;
      link.dataset.entryId = e.id;
      link.dataset.version = String(item.version ?? e.version ?? 0);
      link.dataset.status = e.status;
      link.dataset.urgency = e.urgency;
      if (item.pendingCreate) link.dataset.pending = 'true';
      else delete link.dataset.pending;
      if (item.returned) link.dataset.returned = 'true';
      else delete link.dataset.returned;
      row.li.className = `board-item urgency-${e.urgency}${item.pendingCreate ? ' is-pending' : ''}${item.returned ? ' is-returned' : ''}${e.status === 'closed' ? ' is-closed' : ''}`;
      link.replaceChildren(...rowParts(e, { meId, unsent: item.unsent, pendingCreate: item.pendingCreate, returned: item.returned }));
      applyTranslations(link);
    }
    if (item.isNew && !row.li.classList.contains('is-new')) {
      row.li.classList.add('is-new');
      setTimeout(() => row.li.classList.remove('is-new'), 8000);
    }
    const expectedNext = previous ? previous.nextSibling : list.firstChild;
    if (expectedNext !== row.li) list.insertBefore(row.li, expectedNext);
    previous = row.li;
  }

  if (activeKey && document.activeElement !== active && rows.has(activeKey)) {
    rows.get(activeKey).link.focus({ preventScroll: true });
  }
}

/** The row link of an entry, for returning focus to it. */
export function rowLink(key) {
  return rows.get(key)?.link || null;
}

export function resetBoard(list) {
  rows.clear();
  list.replaceChildren();
}
