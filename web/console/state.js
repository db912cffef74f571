// The console's shared state: who is logged in, the entries as last seen, the filters,
// and the per-user drafts in localStorage.

import { storage } from './dom.js';
import { toSummary } from './model.js';

export const app = {
  /** The logged-in user {id, username, display_name, role, team}. */
  me: null,
  /** Entry summaries by id, each the newest version seen (list or event). */
  entries: new Map(),
  /** Ids the server listed for the current search (used while a search text is active). */
  searchIds: new Set(),
  /** Entries that arrived live since the board was loaded, for a short highlight. */
  newIds: new Set(),
  filters: { status: '', category: '', urgency: '', mine: false, q: '' },
  presence: [],
  /** Every team's handovers as last seen (list or live event), by id; null until loaded. */
  handovers: null,
  live: null,
  outbox: null,
  /** Set by app.js: re-renders the board and tiles on the next frame. */
  render: () => {},
};

/** Keeps the newer of what we have and s. Returns true when s was newer. */
export function applySummary(s) {
  if (!s || !s.id) return false;
  const current = app.entries.get(s.id);
  if (current && current.version >= s.version) return false;
  app.entries.set(s.id, s);
  return true;
}

export function applyEntry(entry) {
  return applySummary(toSummary(entry));
}

/** Whether a summary passes the filters (all but the search text, which the server decides). */
export function matchesFilters(s) {
  const f = app.filters;
  if (f.status === '' && s.status === 'closed') return false;
  if (f.status && f.status !== 'all' && s.status !== f.status) return false;
  if (f.category && s.category !== f.category) return false;
  if (f.urgency && s.urgency !== f.urgency) return false;
  if (f.mine && s.created_by?.id !== app.me?.id && s.claimed_by?.id !== app.me?.id) return false;
  return true;
}

/** A queued create, shaped like a board summary. */
export function summaryOfQueued(op) {
  return {
    ...toSummary({
      ...op.body,
      version: 0,
      status: 'open',
      created_by: { id: app.me?.id, name: app.me?.display_name },
      claimed_by: null,
      updated_at: op.at,
    }),
    occurred_at: op.body.occurred_at || op.at,
  };
}

// ---- Drafts: what is being typed survives a reload ----

function draftKey(name) {
  return `paivystys.draft.${app.me?.id ?? 'anon'}.${name}`;
}

export const drafts = {
  load(name) {
    return storage.get(draftKey(name), null);
  },
  save(name, value) {
    return storage.set(draftKey(name), value);
  },
  remove(name) {
    storage.remove(draftKey(name));
  },
};
