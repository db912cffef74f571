// The offline outbox: every write is stored in localStorage (per user) before it is sent,
// and sent in order, once, when the server can be reached. Nothing typed is ever lost:
// a write the server refuses comes back for correction, and an edit that collides with a
// colleague's becomes a conflict for the worker to decide.
//
// Stored state: { ops: [...queued writes, oldest first], returned: [...refused writes],
//                 conflicts: [...edits waiting for the worker's decision] }
// op kinds: create {entryId, body, form}, patch {entryId, baseVersion, base, changes, form,
//           action}, claim {entryId}, release {entryId},
//           handover {handoverEntryId, handoverId, body} (a handover with a client id, so a
//           resend returns the same handover), handover-act {handoverId, action, body}
//           (ack, done, forward, return, answer). Handover ops carry no entryId: they do not
//           hold up the entry's own actions.

import * as api from './api.js';
import { ApiError, NetworkError } from './api.js';
import { sameValue } from './model.js';
import { storage, uuid } from './dom.js';

const RETRY_START_MS = 2000;
const RETRY_MAX_MS = 30000;
const MAX_REBASES = 5;

function emptyState() {
  return { ops: [], returned: [], conflicts: [] };
}

function errorInfo(err) {
  return {
    status: err.status ?? 0,
    code: err.code ?? 'network',
    message: err.message ?? '',
    field: err.field ?? null,
  };
}

function pick(entry, fields) {
  const out = {};
  for (const field of fields) out[field] = entry[field] ?? null;
  return out;
}

/** Whether a handover already shows the effect of op (sent before, answer lost). */
function handoverActionApplied(op, handover) {
  switch (op.action) {
    case 'ack':
      return handover.state === 'acknowledged' || handover.state === 'done';
    case 'done':
      return handover.state === 'done';
    case 'forward':
      return handover.state === 'forwarded' && handover.forwarded_to === op.body?.team;
    case 'return':
      return handover.state === 'returned';
    case 'answer':
      return handover.state !== 'returned' && String(handover.note || '').includes(String(op.body?.note || '').trim());
    default:
      return false;
  }
}

export class Outbox {
  /**
   * handlers: onChange(), onDone(op, entry, waited, outcome), onRejected(op, error, waited),
   * onConflict(conflict), onAuthRequired(), onBlocked(error)
   */
  constructor(userId, handlers = {}) {
    this.key = `paivystys.outbox.${userId}`;
    this.handlers = handlers;
    this.waiters = new Map();
    this.flushing = null;
    this.again = false;
    this.stopped = false;
    this.retryTimer = null;
    this.retryDelay = RETRY_START_MS;
    this.inFlight = null;
    this.onStorage = (event) => {
      if (event.key === this.key) this.handlers.onChange?.();
    };
    window.addEventListener('storage', this.onStorage);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    window.removeEventListener('storage', this.onStorage);
    for (const [, waiter] of this.waiters) waiter.resolve({ status: 'pending' });
    this.waiters.clear();
  }

  read() {
    const state = storage.get(this.key, null);
    if (!state || !Array.isArray(state.ops)) return emptyState();
    state.returned = Array.isArray(state.returned) ? state.returned : [];
    state.conflicts = Array.isArray(state.conflicts) ? state.conflicts : [];
    return state;
  }

  /** Read, change and write back in one step. */
  mutate(fn) {
    const state = this.read();
    const result = fn(state);
    if (!storage.set(this.key, state)) {
      throw new Error('local storage is full or unavailable');
    }
    this.handlers.onChange?.();
    return result;
  }

  get ops() {
    return this.read().ops;
  }

  get returned() {
    return this.read().returned;
  }

  get conflicts() {
    return this.read().conflicts;
  }

  count() {
    return this.read().ops.length;
  }

  /** Entry ids with a queued write. */
  busyEntries() {
    return new Set(this.read().ops.map((op) => op.entryId));
  }

  /** Stores a write (before anything is sent) and starts sending. Returns the op. */
  enqueue(op) {
    return this.send(op).op;
  }

  /**
   * Stores a write, then sends the queue. With waitMs, result is a promise of what came of
   * this write (see waitFor); without, it is null. Throws if the write could not be stored.
   */
  send(op, waitMs = 0) {
    const stored = { opId: uuid(), at: new Date().toISOString(), ...op };
    this.mutate((state) => {
      state.ops.push(stored);
    });
    const result = waitMs ? this.waitFor(stored.opId, waitMs) : null;
    this.flush();
    return { op: stored, result };
  }

  /**
   * Waits until op is settled, or timeoutMs passes. Resolves to {status: 'done', entry},
   * {status: 'rejected', error}, {status: 'conflict', conflict} or {status: 'pending'}
   * (still queued: offline or the server is failing). A waiter that receives 'rejected'
   * takes the refused write back itself (e.g. a form still open shows the error).
   */
  waitFor(opId, timeoutMs) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(opId);
        resolve({ status: 'pending' });
      }, timeoutMs);
      this.waiters.set(opId, {
        resolve: (value) => {
          clearTimeout(timer);
          this.waiters.delete(opId);
          resolve(value);
        },
      });
    });
  }

  /** Sends queued writes in order until the queue is empty or the server can't be reached. */
  flush() {
    if (this.stopped) return Promise.resolve();
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    clearTimeout(this.retryTimer);
    this.flushing = (async () => {
      do {
        this.again = false;
        await this.withLock(() => this.drain());
      } while (this.again && !this.stopped);
    })()
      .catch((err) => console.error('outbox', err))
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  /** Only one tab of the same user sends at a time; the others' writes are in the same queue. */
  async withLock(fn) {
    if (!navigator.locks?.request) return fn();
    return navigator.locks.request(this.key, { ifAvailable: true }, async (lock) => {
      if (!lock) {
        this.scheduleRetry(1500);
        return undefined;
      }
      return fn();
    });
  }

  scheduleRetry(delay) {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.flush(), delay);
  }

  async drain() {
    for (;;) {
      if (this.stopped) return;
      const op = this.read().ops[0];
      if (!op) {
        this.retryDelay = RETRY_START_MS;
        return;
      }
      let outcome;
      this.inFlight = op.opId;
      try {
        outcome = await this.perform(op);
      } catch (err) {
        if (err instanceof NetworkError || (err instanceof ApiError && err.transient)) {
          this.handlers.onBlocked?.(err);
          this.scheduleRetry(this.retryDelay);
          this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
          // The queue is blocked: every write waiting behind this one is pending too.
          for (const waiter of [...this.waiters.values()]) waiter.resolve({ status: 'pending' });
          return;
        }
        if (err instanceof ApiError && err.status === 401) {
          // Stays queued; sent after the worker logs in again.
          this.settleWaiter(op.opId, { status: 'pending' });
          this.handlers.onAuthRequired?.();
          return;
        }
        outcome = { status: 'rejected', error: errorInfo(err) };
      } finally {
        this.inFlight = null;
      }
      this.retryDelay = RETRY_START_MS;
      this.finish(op, outcome);
    }
  }

  settleWaiter(opId, outcome) {
    const waiter = this.waiters.get(opId);
    if (!waiter) return false;
    waiter.resolve(outcome);
    return true;
  }

  /** Removes a sent op and records what came of it, in one write. */
  finish(op, outcome) {
    const waited = this.waiters.has(op.opId);
    let conflict = null;
    this.mutate((state) => {
      state.ops = state.ops.filter((o) => o.opId !== op.opId);
      if (outcome.status === 'rejected' && !waited && (op.kind === 'create' || op.form)) {
        state.returned = state.returned.filter((r) => r.op.opId !== op.opId);
        state.returned.push({ id: uuid(), op, error: outcome.error, at: new Date().toISOString() });
      }
      if (outcome.status === 'conflict') {
        conflict = {
          id: uuid(),
          entryId: op.entryId,
          action: op.action || 'edit',
          base: op.base,
          mine: outcome.mine,
          fields: outcome.fields,
          current: outcome.current,
          at: new Date().toISOString(),
        };
        state.conflicts.push(conflict);
      }
    });
    if (outcome.status === 'done') this.handlers.onDone?.(op, outcome.entry, waited, outcome);
    if (outcome.status === 'rejected') this.handlers.onRejected?.(op, outcome.error, waited);
    if (conflict) this.handlers.onConflict?.(conflict);
    this.settleWaiter(op.opId, conflict ? { status: 'conflict', conflict } : outcome);
  }

  async perform(op) {
    switch (op.kind) {
      case 'create':
        return { status: 'done', entry: await api.createEntry(op.body) };
      case 'patch':
        return this.performPatch(op);
      case 'claim':
        return { status: 'done', entry: await api.claimEntry(op.entryId) };
      case 'release':
        try {
          return { status: 'done', entry: await api.releaseEntry(op.entryId) };
        } catch (err) {
          // Released already (a resend after a lost answer, or a colleague did): done.
          if (err instanceof ApiError && err.code === 'conflict') {
            const entry = await api.getEntry(op.entryId);
            if (!entry.claimed_by) return { status: 'done', entry };
          }
          throw err;
        }
      case 'handover':
        return { status: 'done', handover: await api.createHandover(op.handoverEntryId, op.body) };
      case 'handover-act':
        return this.performHandoverAct(op);
      default:
        return { status: 'rejected', error: { status: 0, code: 'unknown_op', message: op.kind } };
    }
  }

  /**
   * A team's (or the desk's) action on a handover. A resend after a lost answer finds the
   * action already applied (409 from the server): that counts as done, not as a refusal.
   */
  async performHandoverAct(op) {
    try {
      return { status: 'done', handover: await api.handoverAction(op.handoverId, op.action, op.body) };
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
      const current = (await api.getHandover(op.handoverId))?.handover;
      if (current && handoverActionApplied(op, current)) return { status: 'done', handover: current };
      throw err;
    }
  }

  /**
   * PATCH with If-Match. On version_conflict, compare the current entry with the version the
   * edit started from, field by field: fields only I changed are re-sent on the new version;
   * a field both changed is a conflict; a field that already has my value needs nothing.
   */
  async performPatch(op) {
    let { baseVersion, base, changes } = op;
    for (let round = 0; round <= MAX_REBASES; round += 1) {
      try {
        return { status: 'done', entry: await api.patchEntry(op.entryId, baseVersion, changes) };
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'version_conflict')) throw err;
      }
      const current = await api.getEntry(op.entryId);
      const remaining = {};
      const clashing = [];
      for (const [field, mine] of Object.entries(changes)) {
        if (sameValue(field, current[field], mine)) continue;
        remaining[field] = mine;
        if (!sameValue(field, current[field], base[field])) clashing.push(field);
      }
      if (!Object.keys(remaining).length) return { status: 'done', entry: current };
      if (clashing.length) {
        return { status: 'conflict', current, mine: remaining, fields: clashing };
      }
      baseVersion = current.version;
      base = pick(current, Object.keys(remaining));
      changes = remaining;
    }
    const current = await api.getEntry(op.entryId);
    return { status: 'conflict', current, mine: changes, fields: Object.keys(changes) };
  }

  /** The worker's decision on a conflict: 'mine' re-sends mine over theirs, 'theirs' drops
   * my conflicting fields (my other changes are still saved). */
  resolveConflict(conflictId, choice) {
    const conflict = this.read().conflicts.find((c) => c.id === conflictId);
    if (!conflict) return null;
    const { current } = conflict;
    const changes = {};
    for (const [field, value] of Object.entries(conflict.mine)) {
      if (choice === 'mine' || !conflict.fields.includes(field)) changes[field] = value;
    }
    let op = null;
    this.mutate((state) => {
      state.conflicts = state.conflicts.filter((c) => c.id !== conflictId);
      if (Object.keys(changes).length) {
        op = {
          opId: uuid(),
          at: new Date().toISOString(),
          kind: 'patch',
          action: conflict.action,
          entryId: conflict.entryId,
          baseVersion: current.version,
          base: pick(current, Object.keys(changes)),
          changes,
        };
        state.ops.push(op);
      }
    });
    this.flush();
    return op;
  }

  /** Takes a refused write out of the returned list (the worker fixed or discarded it). */
  takeReturned(id) {
    let item = null;
    this.mutate((state) => {
      item = state.returned.find((r) => r.id === id) || null;
      state.returned = state.returned.filter((r) => r.id !== id);
    });
    return item;
  }
}
