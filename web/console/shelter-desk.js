// The shelter on the desk's side: the free places on the tile, the referrals of the last day
// (the tile's expanded part), and the entry detail's "Refer to the shelter" section that
// gives a client a one-time code. Only numbers and statuses cross from the shelter: never a
// name, never an address. Kept live by the desk stream (shelter.capacity, shelter.referral)
// and read again after every reconnect.

import * as api from './api.js';
import { fill, h } from './dom.js';
import { applyTranslations, t } from './i18n.js';
import { announce, notify } from './notices.js';
import { app } from './state.js';
import { capacityParts, groupCode, markCapacity } from './shelter-common.js';
import { formatShort } from './time.js';

const RECENT_MS = 24 * 60 * 60 * 1000;

const desk = {
  active: false,
  capacity: null,
  capacityState: 'loading', // 'loading' | 'ready' | 'failed'
  /** The desk's referrals by code, each the newest seen (list or live event). */
  referrals: new Map(),
  /** The entry sections open now (re-rendered when a referral changes). */
  sections: new Set(),
  loadToken: 0,
};

let tile = null;

function collect() {
  const get = (id) => document.getElementById(id);
  tile = {
    article: document.querySelector('[data-testid="tile-shelter"]'),
    body: get('tile-shelter-body'),
    details: get('tile-referrals'),
    count: get('tile-referrals-count'),
    list: get('tile-referrals-list'),
    empty: get('tile-referrals-empty'),
  };
}

export function startShelterDesk() {
  if (!tile) collect();
  desk.active = true;
  renderTile();
  shelterDeskResynced();
}

export function stopShelterDesk() {
  desk.active = false;
  desk.capacity = null;
  desk.capacityState = 'loading';
  desk.referrals.clear();
  desk.loadToken += 1;
  if (tile) renderTile();
}

/** (Re)reads the free places and the referrals: at the start and after every reconnect. */
export async function shelterDeskResynced() {
  if (!desk.active) return;
  const token = (desk.loadToken += 1);
  const [capacity, list] = await Promise.allSettled([api.shelterCapacity(), api.referrals()]);
  if (token !== desk.loadToken || !desk.active) return;
  if (capacity.status === 'fulfilled' && capacity.value) {
    desk.capacity = capacity.value;
    desk.capacityState = 'ready';
  } else if (!desk.capacity) {
    desk.capacityState = 'failed';
  }
  if (list.status === 'fulfilled') {
    for (const referral of list.value) mergeReferral(referral);
  }
  renderAll();
}

function mergeReferral(next) {
  if (!next?.code) return null;
  const old = desk.referrals.get(next.code);
  // Statuses only move forward (issued → arrived | expired); a late list never undoes one.
  if (old && old.status !== 'issued' && next.status === 'issued') return old;
  const merged = { ...old, ...next };
  if (!merged.issued_at && merged.status === 'issued') merged.issued_at = merged.status_at;
  desk.referrals.set(next.code, merged);
  return merged;
}

/** A shelter event on the desk stream. */
export function shelterDeskEvent(frame) {
  if (frame.kind === 'shelter.capacity' && frame.data) {
    desk.capacity = frame.data;
    desk.capacityState = 'ready';
    renderAll();
    return;
  }
  if (frame.kind !== 'shelter.referral' || !frame.data?.code) return;
  const before = desk.referrals.get(frame.data.code)?.status;
  const referral = mergeReferral(frame.data);
  renderAll();
  if (referral && before !== 'arrived' && referral.status === 'arrived') {
    const args = { code: groupCode(referral.code), time: formatShort(referral.status_at) };
    announce(t('referral.announce_arrived', args));
    if (referral.issued_by?.id === app.me?.id) notify('success', 'referral.announce_arrived', args);
  }
}

export function shelterDeskLanguageChanged() {
  renderAll();
}

function renderAll() {
  renderTile();
  for (const section of desk.sections) section.render();
}

// ---- Showing a referral ----

function byNewest(a, b) {
  return String(b.issued_at || b.status_at || '').localeCompare(String(a.issued_at || a.status_at || ''));
}

/** The status as a badge that says it in words ("Arrived 02:14"), and an issued code's expiry. */
function statusParts(referral) {
  const badge =
    referral.status === 'arrived'
      ? h('span', { class: 'rstate rstate-arrived', i18n: 'referral.arrived_at', i18nArgs: { time: formatShort(referral.status_at) } })
      : h('span', { class: `rstate rstate-${referral.status}`, i18n: ['referral_status', referral.status].join('.') });
  const until =
    referral.status === 'issued'
      ? h('span', { class: 'referral-when', i18n: 'referral.valid_until', i18nArgs: { time: formatShort(referral.expires_at) } })
      : null;
  return [badge, until ? [' ', until] : null];
}

/** One referral: its code, its status and, on the tile, a link to its entry. */
function referralItem(referral, { testid, withEntry }) {
  const summary = withEntry && referral.entry_id ? app.entries.get(referral.entry_id)?.summary : null;
  return h(
    'li',
    {
      class: `referral-item rstatus-${referral.status}`,
      'data-testid': testid,
      dataset: { code: referral.code, status: referral.status },
    },
    h('span', { class: 'referral-code-small', text: groupCode(referral.code) }),
    ' ',
    statusParts(referral),
    summary ? h('a', { class: 'referral-entry', href: `#/entry/${referral.entry_id}`, text: summary }) : null,
  );
}

// ---- The tile ----

function renderTile() {
  if (!tile?.article) return;
  const cap = desk.capacity;
  markCapacity(tile.article, desk.active && cap ? cap : null);
  if (desk.capacityState === 'ready' && cap) {
    fill(
      tile.body,
      capacityParts(cap),
      cap.family_places_free === 0 ? h('p', { class: 'tile-note tile-overdue', i18n: 'referral.no_free_places' }) : null,
    );
  } else {
    fill(
      tile.body,
      h('p', { class: 'tile-value', 'aria-hidden': 'true', text: '—' }),
      h('p', { class: 'tile-note', i18n: desk.capacityState === 'failed' ? 'tiles.shelter_unavailable' : 'common.loading' }),
    );
  }
  const since = Date.now() - RECENT_MS;
  const recent = [...desk.referrals.values()]
    .filter((r) => Date.parse(r.issued_at || r.status_at || 0) >= since || r.status === 'issued')
    .sort(byNewest);
  tile.details.hidden = !desk.active;
  tile.count.textContent = `(${recent.length})`;
  tile.list.replaceChildren(...recent.map((r) => referralItem(r, { testid: 'referral-recent', withEntry: true })));
  tile.empty.hidden = recent.length > 0;
  applyTranslations(tile.article);
}

// ---- The entry detail's section ----

let sectionCount = 0;

/** The section for one entry. Returns {element, entryId, destroy}; kept across re-renders. */
export function createReferralSection(entry) {
  const entryId = entry.id;
  const headingId = `referral-h${(sectionCount += 1)}`;
  const listHeadingId = `${headingId}-list`;
  /** The code this section issued last (shown large until the entry is closed). */
  let issued = null;
  let busy = false;
  let error = null;
  /** What the status region shows now: it is refilled only when that changes (so a live
   * update elsewhere is not read out again). */
  let shownKey = '';

  const button = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'refer-shelter', i18n: 'referral.refer' });
  const capacityLine = h('p', { class: 'muted referral-capacity' });
  const shown = h('div', { class: 'referral-shown', role: 'status' });
  const list = h('ul', { class: 'referral-list', 'aria-labelledby': listHeadingId });
  const none = h('p', { class: 'muted', i18n: 'referral.none' });
  const element = h(
    'section',
    { class: 'detail-section referral-section', 'data-testid': 'shelter-referral', 'aria-labelledby': headingId },
    h('h3', { id: headingId, i18n: 'referral.title' }),
    capacityLine,
    h('p', { class: 'field-hint', i18n: 'referral.hint' }),
    button,
    shown,
    h('h4', { id: listHeadingId, i18n: 'referral.list_title' }),
    list,
    none,
  );

  async function refer() {
    if (busy) return;
    busy = true;
    error = null;
    render();
    try {
      const referral = await api.createReferral(entryId);
      issued = mergeReferral({ ...referral, issued_by: referral.issued_by || { id: app.me?.id, name: app.me?.display_name } });
    } catch (err) {
      error = err;
    }
    busy = false;
    renderAll();
  }
  button.addEventListener('click', refer);

  function render() {
    const cap = desk.capacity;
    if (cap) {
      capacityLine.hidden = false;
      capacityLine.setAttribute('data-i18n-fmt', 'referral.capacity_line');
      capacityLine.setAttribute('data-i18n-args', JSON.stringify({ family: cap.family_places_free, beds: cap.beds_free }));
    } else {
      capacityLine.hidden = true;
    }
    button.setAttribute('aria-disabled', busy ? 'true' : 'false');
    button.setAttribute('data-i18n', busy ? 'referral.creating' : 'referral.refer');
    const key = JSON.stringify([error?.message || error?.code || null, issued?.code || null]);
    if (key !== shownKey) {
      shownKey = key;
      if (error) {
        fill(shown, h('p', { class: 'banner banner-error', i18n: 'referral.failed', i18nArgs: { message: error.message || error.code } }));
      } else if (issued) {
        fill(
          shown,
          h(
            'div',
            { class: 'referral-code-box' },
            h('p', { class: 'referral-code-label', i18n: 'referral.code_label' }),
            h(
              'p',
              { class: 'referral-code' },
              h('span', { 'aria-hidden': 'true', 'data-testid': 'referral-code', dataset: { code: issued.code }, text: groupCode(issued.code) }),
              // Read out digit by digit, as the worker says it.
              h('span', { class: 'sr-only', text: [...issued.code].join(' ') }),
            ),
            h('p', { i18n: 'referral.say_code', i18nArgs: { time: formatShort(issued.expires_at) } }),
            h('p', { class: 'field-hint', i18n: 'referral.one_time' }),
          ),
        );
      } else {
        shown.replaceChildren();
      }
    }
    const mine = [...desk.referrals.values()].filter((r) => r.entry_id === entryId).sort(byNewest);
    list.replaceChildren(...mine.map((r) => referralItem(r, { testid: 'referral-status', withEntry: false })));
    none.hidden = mine.length > 0;
    applyTranslations(element);
  }

  const section = { render };
  desk.sections.add(section);
  render();
  return {
    element,
    entryId,
    destroy() {
      desk.sections.delete(section);
    },
  };
}
