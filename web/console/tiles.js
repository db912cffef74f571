// The tiles above the board: who is on shift (and what each is handling), and the
// features that are not in use yet.

import { h } from './dom.js';
import { applyTranslations } from './i18n.js';
import { compareEntries } from './model.js';

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
