// The tiles above the board: who is on shift (and what each is handling) and the handovers
// waiting for the daytime teams. The shelter's tile is shelter-desk.js's.

import { h } from './dom.js';
import { applyTranslations } from './i18n.js';
import { compareEntries } from './model.js';
import { compareHandovers, isOpen, isOverdue, teamNameEl } from './handovers.js';

/** online: [{id, name, role, since}]; entries: board summaries (claimed_by tells who). */
export function renderPresence(list, online, entries, meId) {
  const handling = new Map();
  for (const e of entries) {
    if (!e.claimed_by || e.status === 'closed') continue;
    if (!handling.has(e.claimed_by.id)) handling.set(e.claimed_by.id, []);
    handling.get(e.claimed_by.id).push(e);
  }
  const items = online.map((person) => {
    const theirs = (handling.get(person.id) || []).sort(compareEntries);
    return h(
      'li',
      { class: 'presence-person', dataset: { userId: person.id } },
      h(
        'p',
        { class: 'presence-name' },
        h('span', { class: 'presence-dot', 'aria-hidden': 'true' }),
        h('span', { class: 'presence-person-name', text: person.name }),
        person.id === meId ? [' ', h('span', { class: 'muted', i18n: 'presence.you' })] : null,
        ' ',
        h('span', { class: 'presence-role', i18n: ['role', person.role].join('.') }),
      ),
      theirs.length
        ? h(
            'ul',
            { class: 'presence-entries', 'aria-label': person.name },
            theirs.map((e) =>
              h(
                'li',
                {},
                h(
                  'a',
                  { href: `#/entry/${e.id}`, class: 'presence-entry' },
                  h('span', { class: `mini-badge badge-${e.urgency}`, i18n: ['urgency', e.urgency].join('.') }),
                  h('span', { text: ` ${e.summary}` }),
                ),
              ),
            ),
          )
        : h('p', { class: 'presence-idle muted', i18n: 'presence.idle' }),
    );
  });
  if (!items.length) items.push(h('li', { class: 'muted', i18n: 'presence.nobody' }));
  list.replaceChildren(...items);
  applyTranslations(list);
}

/**
 * The "Handovers pending" tile: how many handovers are open, how many of them overdue, and
 * the ones a team returned with a question (links to their entries, for the desk to answer).
 * handovers: null while not loaded, else every handover seen (full or live summary);
 * entries: id -> board summary.
 */
export function renderHandoverTile(body, handovers, entries) {
  if (!handovers) {
    body.replaceChildren(
      h('p', { class: 'tile-value', 'aria-hidden': 'true', text: '—' }),
      h('p', { class: 'tile-note', i18n: 'common.loading' }),
    );
    applyTranslations(body);
    return;
  }
  const open = handovers.filter(isOpen);
  const overdue = open.filter(isOverdue);
  const returned = open.filter((x) => x.state === 'returned').sort(compareHandovers);
  const parts = [
    h(
      'p',
      { class: 'tile-value' },
      h('span', { 'data-testid': 'handovers-open-count', text: String(open.length) }),
      ' ',
      h('span', { class: 'tile-unit', i18n: 'tiles.handovers_open' }),
    ),
    overdue.length
      ? h(
          'p',
          { class: 'tile-note tile-overdue', 'data-testid': 'handovers-overdue', dataset: { count: overdue.length } },
          h('span', { 'aria-hidden': 'true', text: '⚠ ' }),
          h('span', { i18n: 'tiles.handovers_overdue', i18nArgs: { count: overdue.length } }),
        )
      : h('p', { class: 'tile-note', 'data-testid': 'handovers-overdue', dataset: { count: 0 }, i18n: 'tiles.handovers_none_overdue' }),
    returned.length
      ? h('p', { class: 'tile-note tile-returned', i18n: 'tiles.handovers_returned', i18nArgs: { count: returned.length } })
      : null,
    returned.length
      ? h(
          'ul',
          { class: 'tile-links' },
          returned.slice(0, 5).map((x) =>
            h(
              'li',
              {},
              h(
                'a',
                { href: `#/entry/${x.entry_id}`, 'data-testid': 'tile-returned-handover', dataset: { handoverId: x.id } },
                teamNameEl('span', x.team),
                entries.get(x.entry_id)?.summary ? h('span', { text: `: ${entries.get(x.entry_id).summary}` }) : null,
              ),
            ),
          ),
        )
      : null,
  ];
  body.replaceChildren(...parts.filter(Boolean));
  applyTranslations(body);
}
