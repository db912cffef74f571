// The side panel: the new-entry form, an entry's details, its edit form, or a refused
// write being fixed. One panel at a time; whatever is typed is kept as a draft.

import * as api from './api.js';
import { h, uuid } from './dom.js';
import { applyTranslations, t } from './i18n.js';
import { EDITABLE_FIELDS, sameValue } from './model.js';
import { app, applyEntry, drafts } from './state.js';
import {
  buildEntryForm,
  createBody,
  defaultValues,
  fieldsFromValues,
  serverErrorMessage,
  valuesFromEntry,
} from './entry-form.js';
import { renderDetail, renderQueued } from './entry-detail.js';
import { createHandoverSection } from './handover-desk.js';
import { createTranscriptSection } from './entry-transcript.js';
import { createReferralSection } from './shelter-desk.js';
import { rowLink } from './board.js';
import { announce, notify } from './notices.js';
import { askReason } from './reason-dialog.js';

const WAIT_MS = 8000;
const COUNTERPART = {
  claim: 'release',
  release: 'claim',
  'close-entry': 'reopen-entry',
  'reopen-entry': 'close-entry',
};

const panel = {
  mode: null, // 'new' | 'detail' | 'edit' | 'fix'
  entryId: null,
  entry: null,
  history: null,
  message: null,
  form: null,
  returnFocus: null,
  loadToken: 0,
  /** The open entry's handover section (kept across re-renders of the detail). */
  handovers: null,
  /** A chat entry's transcript section (kept likewise). */
  transcript: null,
  /** The entry's "Refer to the shelter" section (kept likewise). */
  referrals: null,
};

function dropHandovers() {
  panel.handovers?.destroy();
  panel.handovers = null;
  panel.transcript?.destroy();
  panel.transcript = null;
  panel.referrals?.destroy();
  panel.referrals = null;
}

function el() {
  return document.getElementById('panel');
}

function body() {
  return el().querySelector('.panel-body');
}

export function isOpen() {
  return !el().hidden;
}

export function currentEntryId() {
  return panel.mode === 'detail' || panel.mode === 'edit' ? panel.entryId : null;
}

function show(content, focusTarget) {
  const wasOpen = isOpen();
  if (!wasOpen) {
    const active = document.activeElement;
    panel.returnFocus = active && !el().contains(active) && active !== document.body ? active : null;
  }
  body().replaceChildren(content);
  el().hidden = false;
  document.body.classList.add('panel-open');
  applyTranslations(el());
  el().scrollTop = 0;
  const target = typeof focusTarget === 'function' ? focusTarget() : focusTarget;
  (target || el().querySelector('#panel-heading'))?.focus({ preventScroll: true });
  el().scrollTop = 0;
}

function clearHash() {
  if (location.hash) history.replaceState(history.state, '', location.pathname + location.search);
}

/** Closes the panel (drafts stay stored) and puts focus back where it was. */
export function closePanel({ focusEntryId } = {}) {
  if (!isOpen()) return;
  const wasEntry = panel.entryId;
  panel.mode = null;
  panel.entryId = null;
  panel.entry = null;
  panel.form = null;
  panel.loadToken += 1;
  dropHandovers();
  el().hidden = true;
  body().replaceChildren();
  document.body.classList.remove('panel-open');
  clearHash();
  const target =
    (focusEntryId && rowLink(focusEntryId)) ||
    (panel.returnFocus?.isConnected ? panel.returnFocus : null) ||
    (wasEntry && rowLink(wasEntry)) ||
    document.querySelector('[data-testid="new-entry"]');
  panel.returnFocus = null;
  target?.focus();
  updateNewButton();
}

function heading(key) {
  return h('h2', { id: 'panel-heading', class: 'panel-title', tabindex: '-1', i18n: key });
}

// ---- New entry ----

export function hasNewDraft() {
  return Boolean(drafts.load('new'));
}

export function updateNewButton() {
  const marker = document.getElementById('new-entry-draft');
  if (marker) marker.hidden = !hasNewDraft() || panel.mode === 'new';
}

export function openNew() {
  if (panel.mode === 'new' && panel.form) {
    panel.form.focusFirst();
    return;
  }
  const draft = drafts.load('new');
  const values = draft?.values || defaultValues(uuid());
  panel.mode = 'new';
  panel.entryId = null;
  dropHandovers();
  clearHash();
  const form = buildEntryForm({
    mode: 'create',
    values,
    onChange: (v) => drafts.save('new', { values: v, at: new Date().toISOString() }),
    onSubmit: (v) => submitCreate(form, v, 'new', null),
    onClose: () => closePanel(),
    onDiscard: () => {
      if (!window.confirm(t('form.discard_confirm'))) return;
      drafts.remove('new');
      closePanel();
    },
  });
  panel.form = form;
  show(
    h('div', { class: 'panel-form' }, heading('form.new_title'), draft ? h('p', { class: 'banner banner-info', i18n: 'form.draft_restored' }) : null, form.element),
    () => form.focusFirst(),
  );
  updateNewButton();
}

/** Saves a new entry through the outbox; the form stays until the server has answered. */
async function submitCreate(form, values, draftName, returnedId) {
  const bodyToSend = createBody(values);
  form.setBusy(true);
  let sent;
  try {
    sent = app.outbox.send({ kind: 'create', entryId: bodyToSend.id, body: bodyToSend, form: values }, WAIT_MS);
  } catch {
    form.setBusy(false);
    form.showFormMessage('error.storage');
    return;
  }
  const result = await sent.result;
  form.setBusy(false);
  const stillHere = panel.form === form;
  if (result.status === 'rejected') {
    if (stillHere) {
      showServerError(form, result.error);
      return;
    }
    // The worker moved on while we waited: keep the refused entry for correction.
    app.outbox.mutate((state) => {
      state.returned = state.returned.filter((r) => r.id !== returnedId);
      state.returned.push({ id: returnedId || uuid(), op: sent.op, error: result.error, at: new Date().toISOString() });
    });
    if (drafts.load(draftName)?.values?.id === values.id) drafts.remove(draftName);
    notify('error', 'notice.create_returned', { summary: values.summary });
    updateNewButton();
    return;
  }
  if (returnedId) app.outbox.takeReturned(returnedId);
  drafts.remove(draftName);
  if (result.status === 'done') {
    notify('success', 'notice.saved', { summary: values.summary });
  } else {
    // Offline or the server is failing: the outbox has it and sends it later.
    notify('info', 'notice.queued', { summary: values.summary });
  }
  if (stillHere) closePanel({ focusEntryId: bodyToSend.id });
  updateNewButton();
}

function showServerError(form, error) {
  if (error.status === 422 && error.field) {
    const { key, detail } = serverErrorMessage(error);
    form.showErrors([{ field: error.field, key, detail }]);
  } else {
    form.showFormMessage('error.save_failed', { message: error.message || error.code });
  }
}

// ---- Fixing a refused new entry ----

export function openFix(returnedId) {
  const item = app.outbox?.returned.find((r) => r.id === returnedId);
  if (!item) {
    notify('info', 'notice.returned_gone');
    clearHash();
    return;
  }
  const draftName = `fix.${returnedId}`;
  const values = drafts.load(draftName)?.values || item.op.form || null;
  if (!values) return;
  panel.mode = 'fix';
  panel.entryId = null;
  dropHandovers();
  const form = buildEntryForm({
    mode: 'fix',
    values,
    onChange: (v) => drafts.save(draftName, { values: v }),
    onSubmit: (v) => submitCreate(form, v, draftName, returnedId),
    onClose: () => closePanel(),
    onDiscard: () => {
      if (!window.confirm(t('form.discard_confirm'))) return;
      app.outbox.takeReturned(returnedId);
      drafts.remove(draftName);
      closePanel();
    },
  });
  panel.form = form;
  show(h('div', { class: 'panel-form' }, heading('form.fix_title'), form.element), () => form.focusFirst());
  if (item.error) showServerError(form, item.error);
}

// ---- Details ----

export async function openDetail(id) {
  const queued = app.outbox?.ops.find((op) => op.kind === 'create' && op.entryId === id);
  if (queued && !app.entries.has(id)) {
    panel.mode = 'detail';
    panel.entryId = id;
    panel.entry = null;
    dropHandovers();
    show(renderQueued(queued.body));
    return;
  }
  const sameEntry = panel.entryId === id && (panel.mode === 'detail' || panel.mode === 'edit');
  panel.mode = 'detail';
  panel.entryId = id;
  panel.form = null;
  if (!sameEntry) {
    panel.entry = null;
    panel.history = null;
    panel.message = null;
    dropHandovers();
    show(h('div', { class: 'panel-loading' }, h('h2', { id: 'panel-heading', tabindex: '-1', i18n: 'common.loading' })));
  }
  await loadDetail(id, { focus: !sameEntry });
}

/** `reason`: why a named client's entry outside one's own work is opened; asked for when
 * the server answers reason_required, sent with this load's two requests and then dropped. */
async function loadDetail(id, { focus = false, reason = null } = {}) {
  const token = (panel.loadToken += 1);
  let entry;
  try {
    entry = await api.getEntry(id, reason);
  } catch (err) {
    if (token !== panel.loadToken) return;
    if (err.code === 'reason_required') {
      const given = await askReason({ refused: Boolean(reason) });
      if (token !== panel.loadToken) return;
      // Cancelled: back to the board, nothing of the entry shown.
      if (given === null) closePanel();
      else await loadDetail(id, { focus, reason: given });
      return;
    }
    show(
      h('div', { class: 'panel-error' },
        h('h2', { id: 'panel-heading', tabindex: '-1', i18n: err.status === 404 ? 'detail.not_found' : 'detail.load_failed' }),
        h('button', { type: 'button', class: 'btn', i18n: 'common.retry', on: { click: () => openDetail(id) } }),
      ),
    );
    return;
  }
  if (token !== panel.loadToken) return;
  applyEntry(entry);
  app.render();
  panel.entry = entry;
  if (panel.handovers?.entryId !== entry.id) {
    dropHandovers();
    panel.handovers = createHandoverSection(entry);
  } else {
    panel.handovers.setEntry(entry);
  }
  // Loaded once per opening: every transcript read is written to the access log.
  if (entry.chat && panel.transcript?.chatId !== entry.chat) panel.transcript = createTranscriptSection(entry.chat);
  if (panel.referrals?.entryId !== entry.id) {
    panel.referrals?.destroy();
    panel.referrals = createReferralSection(entry);
  }
  // An unfinished edit of this entry (e.g. before a reload) opens again by itself.
  if (drafts.load(`edit.${id}`)) {
    openEdit({ restored: true });
    return;
  }
  renderCurrentDetail(focus);
  loadHistory(id, token, reason);
}

async function loadHistory(id, token, reason = null) {
  try {
    const history = await api.entryHistory(id, reason);
    if (token !== panel.loadToken || panel.entryId !== id) return;
    panel.history = history;
    if (panel.mode === 'detail') renderCurrentDetail(false);
  } catch (err) {
    // A reload without the reason given at opening (e.g. after a cancelled edit): keep
    // the history already shown.
    if (err?.code === 'reason_required' && panel.history) return;
    if (token === panel.loadToken && panel.mode === 'detail') {
      panel.history = [];
      renderCurrentDetail(false);
    }
  }
}

function returnedEditFor(id) {
  return app.outbox?.returned.find((r) => r.op.kind === 'patch' && r.op.entryId === id) || null;
}

function renderCurrentDetail(focus) {
  const entry = panel.entry;
  if (!entry || panel.mode !== 'detail') return;
  const busy = app.outbox ? app.outbox.busyEntries().has(entry.id) : false;
  const returned = returnedEditFor(entry.id);
  const active = document.activeElement;
  const hadFocus = el().contains(active) && active !== el() ? active.getAttribute('data-testid') || 'panel-heading' : null;
  panel.handovers?.refresh();
  // Focus inside a kept section stays on the very same control (it is moved, not rebuilt).
  const focused = document.activeElement;
  const kept = [panel.handovers?.element, panel.referrals?.element].filter(Boolean);
  const keepFocus = kept.some((section) => section.contains(focused)) ? focused : null;
  const view = renderDetail(entry, {
    me: app.me,
    busy,
    history: panel.history,
    message: panel.message,
    returnedEdit: returned,
    onClaim: () => act('claim'),
    onRelease: () => act('release'),
    onClose: () => act('close'),
    onReopen: () => act('reopen'),
    onEdit: () => openEdit(),
    onOpenReturned: () => openEdit({ returned }),
    handovers: panel.handovers?.element || null,
    transcript: panel.transcript?.element || null,
    referrals: panel.referrals?.element || null,
  });
  if (focus) {
    show(view);
  } else {
    body().replaceChildren(view);
    if (keepFocus?.isConnected) {
      keepFocus.focus({ preventScroll: true });
      return;
    }
    // Keep keyboard focus on the same control after an update, or on its counterpart
    // (claim becomes release, close becomes reopen).
    if (hadFocus) {
      const candidates = [hadFocus, COUNTERPART[hadFocus]].filter(Boolean);
      const again = candidates.map((id) => body().querySelector(`[data-testid="${id}"]`)).find(Boolean);
      (again || body().querySelector('#panel-heading'))?.focus();
    }
  }
}

/** Re-renders the open detail (a write was queued or sent, or the language changed). */
export function refreshDetail() {
  if (panel.mode === 'detail') renderCurrentDetail(false);
}

/** A live event changed entry id: reload the open detail, or tell an editor about it. */
export function entryChanged(summary) {
  if (panel.entryId !== summary.id || !panel.entry) return;
  if (summary.version <= panel.entry.version) return;
  if (panel.mode === 'detail') {
    loadDetail(summary.id);
  } else if (panel.mode === 'edit') {
    const note = el().querySelector('.edit-note');
    if (note) {
      note.hidden = false;
      note.setAttribute('data-i18n', 'form.changed_meanwhile');
      applyTranslations(note);
    }
  }
}

async function act(kind) {
  const entry = panel.entry;
  if (!entry || !app.outbox) return;
  let op;
  switch (kind) {
    case 'claim':
    case 'release':
      op = { kind, entryId: entry.id };
      break;
    case 'close':
    case 'reopen': {
      const status = kind === 'close' ? 'closed' : 'open';
      op = {
        kind: 'patch',
        action: kind,
        entryId: entry.id,
        baseVersion: entry.version,
        base: { status: entry.status },
        changes: { status },
      };
      break;
    }
    default:
      return;
  }
  panel.message = null;
  let sent;
  try {
    sent = app.outbox.send(op, WAIT_MS);
  } catch {
    notify('error', 'error.storage');
    return;
  }
  refreshDetail();
  const result = await sent.result;
  if (panel.entryId !== entry.id) return;
  switch (result.status) {
    case 'done':
      panel.message = { kind: 'success', key: ['done', kind].join('.') };
      announce(t(['done', kind].join('.')));
      if (result.entry) {
        applyEntry(result.entry);
        app.render();
      }
      await loadDetail(entry.id);
      break;
    case 'rejected': {
      let current = null;
      try {
        current = await api.getEntry(entry.id);
      } catch {
        /* keep what we have */
      }
      if (current) {
        applyEntry(current);
        panel.entry = current;
        app.render();
      }
      if (kind === 'claim' && current?.claimed_by && current.claimed_by.id !== app.me.id) {
        panel.message = { kind: 'error', key: 'detail.claimed_by_other', args: { name: current.claimed_by.name } };
      } else if (current?.status === 'closed' && kind === 'claim') {
        panel.message = { kind: 'error', key: 'detail.claim_closed' };
      } else {
        panel.message = { kind: 'error', key: 'error.action_failed', args: { message: result.error.message || result.error.code } };
      }
      renderCurrentDetail(false);
      break;
    }
    case 'conflict':
      panel.message = null;
      await loadDetail(entry.id);
      break;
    default:
      panel.message = { kind: 'info', key: 'detail.queued_action' };
      renderCurrentDetail(false);
  }
}

// ---- Editing ----

function pickFields(entry, fields) {
  const out = {};
  for (const field of fields) out[field] = entry[field] ?? null;
  return out;
}

/** Opens the edit form for the open entry, from a stored draft when there is one. */
export function openEdit({ restored = false, returned = null } = {}) {
  const entry = panel.entry;
  if (!entry) return;
  const id = entry.id;
  const draftName = `edit.${id}`;
  const stored = drafts.load(draftName);
  let base = stored?.base || entry;
  let values = stored?.values || valuesFromEntry(entry);
  if (returned) {
    base = entry;
    values = returned.op.form;
  }
  panel.mode = 'edit';
  const form = buildEntryForm({
    mode: 'edit',
    values,
    onChange: (v) => drafts.save(draftName, { base, values: v }),
    onSubmit: (v) => submitEdit(form, v, base, draftName, returned),
    onClose: () => {
      const changed = changesFrom(base, form.values());
      if (Object.keys(changed).length && !window.confirm(t('form.cancel_edit_confirm'))) return;
      drafts.remove(draftName);
      panel.mode = 'detail';
      panel.form = null;
      renderCurrentDetail(true);
      loadHistory(id, panel.loadToken);
    },
  });
  panel.form = form;
  if (returned || stored) drafts.save(draftName, { base, values });
  const newer = base.version < entry.version;
  show(
    // The edit form stays inside the entry's detail container (same data-testid).
    h(
      'article',
      {
        class: 'panel-form detail detail-editing',
        'data-testid': 'entry-detail',
        dataset: { entryId: id, version: base.version, mode: 'edit' },
        'aria-labelledby': 'panel-heading',
      },
      heading('form.edit_title'),
      h('p', { class: 'muted' }, h('span', { text: `${entry.summary} · ` }), h('span', { i18n: 'form.edit_version', i18nArgs: { version: base.version } })),
      restored || stored ? h('p', { class: 'banner banner-info', i18n: 'form.edit_restored' }) : null,
      h('p', { class: 'banner banner-info edit-note', role: 'status', hidden: !newer, i18n: 'form.changed_meanwhile' }),
      form.element,
    ),
    () => form.focusFirst(),
  );
  if (returned?.error) showServerError(form, returned.error);
}

function changesFrom(base, values) {
  const fields = fieldsFromValues(values);
  const changes = {};
  for (const field of EDITABLE_FIELDS) {
    if (!sameValue(field, fields[field], base[field])) changes[field] = fields[field];
  }
  return changes;
}

async function submitEdit(form, values, base, draftName, returned) {
  const changes = changesFrom(base, values);
  const id = base.id;
  if (!Object.keys(changes).length) {
    drafts.remove(draftName);
    if (returned) app.outbox.takeReturned(returned.id);
    panel.mode = 'detail';
    panel.message = { kind: 'info', key: 'notice.no_changes' };
    renderCurrentDetail(true);
    return;
  }
  form.setBusy(true);
  let sent;
  try {
    sent = app.outbox.send(
      {
        kind: 'patch',
        action: 'edit',
        entryId: id,
        baseVersion: base.version,
        base: pickFields(base, Object.keys(changes)),
        changes,
        form: values,
      },
      WAIT_MS,
    );
  } catch {
    form.setBusy(false);
    form.showFormMessage('error.storage');
    return;
  }
  if (returned) app.outbox.takeReturned(returned.id);
  const result = await sent.result;
  form.setBusy(false);
  const stillHere = panel.form === form;
  if (result.status === 'rejected') {
    if (!stillHere) {
      app.outbox.mutate((state) => {
        state.returned.push({ id: uuid(), op: sent.op, error: result.error, at: new Date().toISOString() });
      });
      notify('error', 'notice.edit_returned');
      return;
    }
    showServerError(form, result.error);
    return;
  }
  drafts.remove(draftName);
  if (result.status === 'done') {
    notify('success', 'notice.changes_saved');
  } else if (result.status === 'pending') {
    notify('info', 'notice.queued_changes');
  }
  if (!stillHere) return;
  panel.mode = 'detail';
  panel.form = null;
  panel.message = result.status === 'pending' ? { kind: 'info', key: 'detail.queued_action' } : null;
  if (result.status === 'done' && result.entry) {
    applyEntry(result.entry);
    app.render();
    panel.entry = result.entry;
  }
  renderCurrentDetail(true);
  if (result.status !== 'pending') loadDetail(id);
}

/** Re-renders whatever the panel shows after a language switch (forms keep their values
 * and are translated in place). */
export function onLanguageChanged() {
  panel.handovers?.languageChanged();
  if (panel.mode === 'detail') renderCurrentDetail(false);
}

/** A live event about a handover (without note and reason): the open entry's section shows it. */
export function handoverChanged(summary) {
  if (panel.handovers && panel.handovers.entryId === summary.entry_id) panel.handovers.onEvent(summary);
}

/** A handover write went through later (from the outbox). */
export function handoverSaved(handover) {
  if (panel.handovers && panel.handovers.entryId === handover.entry_id) panel.handovers.saved(handover);
}
