// The team console: a daytime team's inbox of handovers from the night desk, kept live over
// the team's own stream (team:<key>), and a detail that shows the note and the night's
// entry and lets the team acknowledge, mark done, forward to another team, or return the
// handover to the desk with a question. Writes go through the outbox like the desk's.
// A handover of an online report shows the report too, and is marked in the list when the
// reporter added information (report.added) until it is opened.

import * as api from './api.js';
import { ApiError } from './api.js';
import { h } from './dom.js';
import { clearFieldError, labelledField, showFieldError } from './form-fields.js';
import { applyTranslations, language, setText, t } from './i18n.js';
import { LiveConnection } from './live.js';
import { announce, notify } from './notices.js';
import { app, drafts } from './state.js';
import { riskView, subjectView } from './entry-detail.js';
import { reportAdded } from './report-alerts.js';
import { reportSectionFor } from './report-view.js';
import {
  MAX_NOTE,
  applyTeamNames,
  compareHandovers,
  fillTeamSelect,
  handoverBadges,
  handoverFacts,
  isOpen,
  isOverdue,
  loadTeams,
  mergeHandover,
  noteExcerpt,
  teamName,
} from './handovers.js';
import { formatDue, formatLong } from './time.js';

const WAIT_MS = 8000;
const REFRESH_DELAY_MS = 300;
const NEW_MARK_MS = 10000;

const inbox = {
  active: false,
  team: null,
  filter: 'open',
  /** Handovers by id: full ones from the list, merged with live summaries. */
  items: new Map(),
  loadState: 'loading', // 'loading' | 'ready' | 'failed'
  selectedId: null,
  /** {handover, entry} of the selected handover. */
  detail: null,
  detailState: 'none', // 'none' | 'loading' | 'ready' | 'failed'
  detailError: null,
  message: null, // {kind, key, args}
  form: null, // 'forward' | 'return' | null
  busy: null, // the action waiting for the server
  newIds: new Set(),
  /** Entry ids whose report got information since their handover was last opened. */
  newInfo: new Set(),
  listToken: 0,
  detailToken: 0,
  refreshTimer: null,
  hooks: null,
  returnFocus: null,
};

const rows = new Map(); // id -> {li, link, signature}
/** The forward and return forms of the selected handover, kept across re-renders. */
let forms = null;
/** The selected handover's "Online report" section (report-view.js), kept likewise. */
let report = null;
let els = null;

function collect() {
  const get = (id) => document.getElementById(id);
  els = {
    view: get('team-view'),
    heading: get('inbox-heading'),
    count: get('inbox-count'),
    filter: get('inbox-filter'),
    list: get('inbox-list'),
    empty: get('inbox-empty'),
    panel: get('inbox-panel'),
    body: get('inbox-detail-body'),
    close: get('inbox-close'),
    digest: get('digest-link'),
  };
}

export function isTeamActive() {
  return inbox.active;
}

/**
 * Starts the inbox for app.me's team. hooks: setConnection(state), checkSession(),
 * stillCurrent() (false once the user logged out or changed).
 */
export async function startTeamConsole(hooks) {
  if (!els) {
    collect();
    wire();
  }
  inbox.active = true;
  inbox.team = app.me.team;
  inbox.hooks = hooks;
  inbox.filter = els.filter.value || 'open';
  renderHeader();
  render();
  loadTeams()
    .then(() => {
      if (forms) fillTeamSelect(forms.first.forward, { exclude: inbox.team });
      renderHeader();
      render();
    })
    .catch(() => {});
  const head = await loadUntilLoaded();
  if (!hooks.stillCurrent()) return;
  app.live = new LiveConnection(`team:${inbox.team}`, head, liveHandlers);
  app.live.start();
  app.outbox?.flush();
  routeTeam();
}

/** Logged in again as the same user: the live connection and outbox resume. */
export function resumeTeamConsole() {
  refreshInbox();
  if (inbox.selectedId) loadDetail(inbox.selectedId, { quiet: true });
}

export function stopTeamConsole() {
  if (!els) return;
  inbox.active = false;
  clearTimeout(inbox.refreshTimer);
  inbox.items.clear();
  inbox.newIds.clear();
  inbox.newInfo.clear();
  inbox.loadState = 'loading';
  inbox.selectedId = null;
  inbox.detail = null;
  inbox.detailState = 'none';
  inbox.message = null;
  inbox.form = null;
  inbox.busy = null;
  inbox.listToken += 1;
  inbox.detailToken += 1;
  forms = null;
  report?.destroy();
  report = null;
  rows.clear();
  els.list.replaceChildren();
  els.body.replaceChildren();
  if (/^#\/handover\//.test(location.hash)) history.replaceState(history.state, '', location.pathname + location.search);
}

function wire() {
  els.filter.addEventListener('change', () => {
    inbox.filter = els.filter.value;
    loadInbox().catch(() => {});
  });
  els.close.addEventListener('click', () => closeDetail());
  els.list.addEventListener('click', (event) => {
    // A row whose detail is already open: move focus into it.
    const link = event.target.closest('a.inbox-row');
    if (link && link.hash === location.hash && inbox.selectedId) {
      event.preventDefault();
      document.getElementById('inbox-detail-h')?.focus();
    }
  });
  els.view.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && inbox.selectedId && !event.defaultPrevented) {
      event.preventDefault();
      closeDetail();
    }
  });
}

// ---- Loading ----

/** Reads the stream head, then the inbox: nothing that happens in between is missed. */
async function loadInbox() {
  const token = (inbox.listToken += 1);
  els.list.setAttribute('aria-busy', 'true');
  try {
    const head = await api.streamHead(`team:${inbox.team}`);
    const list = await api.teamInbox(inbox.team, inbox.filter);
    if (token === inbox.listToken) {
      const previous = inbox.items;
      inbox.items = new Map(list.map((item) => [item.id, mergeHandover(previous.get(item.id), item)]));
      // Keep what arrived live and is newer than the list (it still shows if it matches).
      for (const [id, item] of previous) if (!inbox.items.has(id) && item.version > 1) inbox.items.set(id, item);
      inbox.loadState = 'ready';
      render();
    }
    return head;
  } catch (err) {
    if (token === inbox.listToken) {
      if (inbox.loadState !== 'ready') inbox.loadState = 'failed';
      render();
    }
    throw err;
  } finally {
    if (token === inbox.listToken) els.list.removeAttribute('aria-busy');
  }
}

async function loadUntilLoaded() {
  let delay = 1000;
  for (;;) {
    try {
      return await loadInbox();
    } catch (err) {
      if (!inbox.hooks.stillCurrent()) throw err;
      inbox.hooks.setConnection('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(10000, delay * 2);
    }
  }
}

/** Reads the inbox again for the notes (live events carry none) and merges it in. */
async function refreshInbox() {
  clearTimeout(inbox.refreshTimer);
  const token = inbox.listToken;
  try {
    const list = await api.teamInbox(inbox.team, inbox.filter);
    if (token !== inbox.listToken || !inbox.active) return;
    for (const item of list) inbox.items.set(item.id, mergeHandover(inbox.items.get(item.id), item));
    inbox.loadState = 'ready';
    render();
  } catch {
    /* the live summaries are shown meanwhile */
  }
}

function scheduleRefresh() {
  clearTimeout(inbox.refreshTimer);
  inbox.refreshTimer = setTimeout(refreshInbox, REFRESH_DELAY_MS);
}

// ---- Live ----

const NOTE_CHANGING = new Set(['handover.answered', 'handover.returned', 'handover.forwarded']);

const liveHandlers = {
  onState(state) {
    inbox.hooks?.setConnection(state);
    if (state === 'live') app.outbox?.flush();
  },
  onEvent(frame) {
    if (frame.kind === 'report.added') {
      onReportAdded(frame.data?.report);
      return;
    }
    const summary = frame.data?.handover;
    if (!summary?.id) return;
    const old = inbox.items.get(summary.id);
    const merged = mergeHandover(old, summary);
    if (old && merged === old) return;
    inbox.items.set(summary.id, merged);
    if (frame.kind === 'handover.created' && !old) {
      inbox.newIds.add(summary.id);
      setTimeout(() => {
        inbox.newIds.delete(summary.id);
        render();
      }, NEW_MARK_MS);
      announce(t(summary.urgent ? 'announce.new_handover_urgent' : 'announce.new_handover', { due: formatDue(summary.due_at) }));
    } else if (frame.kind === 'handover.overdue') {
      announce(t('announce.inbox_overdue', { due: formatDue(summary.due_at) }));
    }
    if (summary.id === inbox.selectedId && inbox.detail) {
      inbox.detail.handover = mergeHandover(inbox.detail.handover, summary);
      if (NOTE_CHANGING.has(frame.kind) && !inbox.busy) loadDetail(summary.id, { quiet: true });
    }
    scheduleRefresh();
    render();
  },
  onSubscribed() {
    app.outbox?.flush();
  },
  async onResyncNeeded() {
    return loadInbox();
  },
  async onRepeatedFailure() {
    await inbox.hooks?.checkSession();
  },
};

/** Information was added to a report: a notice, the open report reads it again, and the
 * row of a handover of it that is not open is marked until opened. */
function onReportAdded(data) {
  if (!data?.entry_id) return;
  reportAdded(data);
  if (inbox.items.get(inbox.selectedId)?.entry_id === data.entry_id) return;
  inbox.newInfo.add(data.entry_id);
  render();
}

// ---- Rendering ----

function renderHeader() {
  setText(els.heading, 'inbox.title', { team: teamName(inbox.team) });
  els.digest.href = `/digest?team=${encodeURIComponent(inbox.team)}`;
}

export function renderTeam() {
  if (!inbox.active) return;
  render();
}

function visibleItems() {
  return [...inbox.items.values()]
    .filter((item) => item.team === inbox.team && (inbox.filter === 'all' || isOpen(item)))
    .sort(compareHandovers);
}

function rowParts(item) {
  const excerpt = noteExcerpt(item.note);
  return [
    h(
      'span',
      { class: 'row-top' },
      handoverBadges(item),
      inbox.newIds.has(item.id) ? h('span', { class: 'flag flag-new', i18n: 'inbox.new' }) : null,
      inbox.newInfo.has(item.entry_id)
        ? h('span', { class: 'flag flag-new', 'data-testid': 'report-new-info', i18n: 'report.new_info' })
        : null,
      excerpt
        ? h('span', { class: 'row-summary', text: excerpt })
        : h('span', { class: 'row-summary muted', i18n: 'inbox.note_loading' }),
    ),
    h(
      'span',
      { class: 'row-bottom' },
      h('span', { class: isOverdue(item) ? 'row-due is-overdue' : 'row-due', i18n: 'inbox.due', i18nArgs: { time: formatDue(item.due_at) } }),
      item.legal_due_at
        ? h('span', { class: 'row-legal', i18n: 'inbox.legal_due', i18nArgs: { time: formatDue(item.legal_due_at) } })
        : null,
      h('span', { class: 'row-created', i18n: 'inbox.created', i18nArgs: { name: item.created_by?.name || '', time: formatLong(item.created_at) } }),
      item.acknowledged_by
        ? h('span', { class: 'row-ack', i18n: 'inbox.acknowledged', i18nArgs: { name: item.acknowledged_by.name } })
        : null,
    ),
  ];
}

function renderList() {
  const items = visibleItems();
  const active = document.activeElement;
  const activeId = active?.closest?.('[data-row-id]')?.dataset.rowId;
  const wanted = new Set(items.map((item) => item.id));
  for (const [id, row] of rows) {
    if (!wanted.has(id)) {
      row.li.remove();
      rows.delete(id);
    }
  }
  const lang = language();
  let previous = null;
  for (const item of items) {
    let row = rows.get(item.id);
    if (!row) {
      const link = h('a', { class: 'inbox-row', 'data-testid': 'inbox-item', href: `#/handover/${item.id}` });
      const li = h('li', { class: 'board-item inbox-li', dataset: { rowId: item.id } }, link);
      row = { li, link, signature: '' };
      rows.set(item.id, row);
    }
    const selected = item.id === inbox.selectedId;
    const isNew = inbox.newIds.has(item.id);
    const signature = JSON.stringify([lang, item, selected, isNew, inbox.newInfo.has(item.entry_id), formatDue(item.due_at)]);
    if (signature !== row.signature) {
      row.signature = signature;
      const { link } = row;
      link.dataset.handoverId = item.id;
      link.dataset.state = item.state;
      if (isOverdue(item)) link.dataset.overdue = 'true';
      else delete link.dataset.overdue;
      if (selected) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
      row.li.className = `board-item inbox-li state-${item.state}${isOverdue(item) ? ' is-overdue' : ''}${item.urgent ? ' is-urgent' : ''}${isNew ? ' is-new' : ''}${selected ? ' is-selected' : ''}`;
      link.replaceChildren(...rowParts(item));
      applyTranslations(link);
    }
    const expectedNext = previous ? previous.nextSibling : els.list.firstChild;
    if (expectedNext !== row.li) els.list.insertBefore(row.li, expectedNext);
    previous = row.li;
  }
  if (activeId && document.activeElement !== active && rows.has(activeId)) {
    rows.get(activeId).link.focus({ preventScroll: true });
  }

  const emptyKey =
    inbox.loadState === 'failed'
      ? 'inbox.load_failed'
      : inbox.loadState === 'loading'
        ? 'common.loading'
        : inbox.filter === 'all'
          ? 'inbox.empty_all'
          : 'inbox.empty';
  els.empty.hidden = items.length > 0 && inbox.loadState !== 'failed';
  if (!els.empty.hidden) setText(els.empty, items.length ? 'board.load_failed_stale' : emptyKey);
  const overdue = items.filter(isOverdue).length;
  if (overdue) setText(els.count, 'inbox.count_overdue', { count: items.length, overdue });
  else setText(els.count, 'board.count', { count: items.length });
}

function render() {
  if (!els || !inbox.active) return;
  renderList();
  renderDetail();
}

export function teamLanguageChanged() {
  if (!inbox.active) return;
  renderHeader();
  if (forms) {
    applyTeamNames(forms.forward);
    applyTranslations(forms.forward);
    applyTranslations(forms.return);
  }
  render();
}

// ---- Detail ----

/** Opens what the URL's hash names (#/handover/<id>); returns whether it named one. */
export function routeTeam() {
  if (!inbox.active) return false;
  const match = /^#\/handover\/([0-9a-zA-Z-]+)$/.exec(location.hash);
  if (!match) {
    if (inbox.selectedId) closeDetail({ keepHash: true });
    return false;
  }
  openDetail(match[1]);
  return true;
}

function openDetail(id) {
  if (inbox.selectedId === id && inbox.detailState !== 'failed') {
    document.getElementById('inbox-detail-h')?.focus();
    return;
  }
  const active = document.activeElement;
  if (!inbox.selectedId) inbox.returnFocus = active && active !== document.body ? active : null;
  inbox.selectedId = id;
  inbox.newInfo.delete(inbox.items.get(id)?.entry_id);
  inbox.detail = null;
  inbox.message = null;
  inbox.form = null;
  inbox.busy = null;
  forms = null;
  inbox.detailState = 'loading';
  render();
  loadDetail(id, { focus: true });
}

function closeDetail({ keepHash = false } = {}) {
  const id = inbox.selectedId;
  inbox.selectedId = null;
  inbox.detail = null;
  inbox.detailState = 'none';
  inbox.message = null;
  inbox.form = null;
  forms = null;
  inbox.detailToken += 1;
  if (!keepHash && location.hash) history.replaceState(history.state, '', location.pathname + location.search);
  render();
  const target = (id && rows.get(id)?.link) || (inbox.returnFocus?.isConnected ? inbox.returnFocus : null) || els.heading;
  inbox.returnFocus = null;
  target.focus();
}

async function loadDetail(id, { focus = false, quiet = false } = {}) {
  const token = (inbox.detailToken += 1);
  try {
    const data = await api.getHandover(id);
    if (token !== inbox.detailToken || inbox.selectedId !== id) return;
    inbox.detail = data;
    inbox.detailState = 'ready';
    inbox.items.set(id, mergeHandover(inbox.items.get(id), data.handover));
  } catch (err) {
    if (token !== inbox.detailToken || inbox.selectedId !== id) return;
    if (quiet && inbox.detail) return;
    inbox.detailState = 'failed';
    inbox.detailError = err;
  }
  render();
  if (focus) document.getElementById('inbox-detail-h')?.focus({ preventScroll: false });
}

function textBlock(text, testid) {
  return text && text.trim()
    ? h('p', { class: 'prewrap', 'data-testid': testid, text })
    : h('p', { class: 'muted', 'data-testid': testid, i18n: 'common.empty' });
}

function entryRow(labelKey, ...value) {
  return [h('dt', { i18n: labelKey }), h('dd', {}, ...value)];
}

function entryView(entry) {
  return h(
    'section',
    { class: 'detail-section inbox-entry', 'data-testid': 'inbox-entry', 'aria-labelledby': 'inbox-entry-h' },
    h('h3', { id: 'inbox-entry-h', i18n: 'inbox.entry_title' }),
    h('p', { class: 'inbox-entry-summary', 'data-testid': 'inbox-entry-summary' }, h('strong', { text: entry.summary })),
    h(
      'dl',
      { class: 'detail-fields' },
      entryRow('field.urgency', h('span', { class: `badge badge-${entry.urgency}`, i18n: ['urgency', entry.urgency].join('.') })),
      entryRow('field.channel', h('span', { i18n: ['channel', entry.channel].join('.') })),
      entryRow('field.category', h('span', { i18n: ['category', entry.category].join('.') })),
      entryRow('field.occurred_at', h('time', { datetime: entry.occurred_at, text: formatLong(entry.occurred_at) })),
      entryRow('field.subject', subjectView(entry.subject)),
      entryRow('detail.logged_by', h('span', { text: `${entry.created_by?.name || ''}, ` }), h('time', { datetime: entry.created_at, text: formatLong(entry.created_at) })),
      entryRow('field.status', h('span', { class: `status status-${entry.status}`, i18n: ['status', entry.status].join('.') })),
      entry.police
        ? entryRow('field.police', h('span', { text: entry.police.unit }), entry.police.outcome ? h('p', { class: 'prewrap', text: entry.police.outcome }) : null)
        : null,
    ),
    h('h4', { i18n: 'field.notes' }),
    textBlock(entry.notes, 'inbox-entry-notes'),
    h('h4', { i18n: 'field.actions' }),
    textBlock(entry.actions, 'inbox-entry-actions'),
    h('h4', { i18n: 'field.risk' }),
    riskView(entry.risk),
  );
}

/** A labelled, required field for the forward and return forms: {element, control, slot}. */
function formField(id, labelKey, control, hintKey) {
  return labelledField(control, { id, labelKey, hintKey, required: true });
}

/** Shows a field's error and moves the focus to the field. */
function markInvalid(control, slot, key) {
  showFieldError(slot, control, key);
  control.focus();
}

function buildForms(handover) {
  const id = handover.id;
  const forwardDraft = drafts.load(`forward.${id}`) || {};
  const teamSelect = h('select', { 'data-testid': 'inbox-forward-team' });
  fillTeamSelect(teamSelect, { exclude: handover.team, wanted: forwardDraft.team || '' });
  const reason = h('textarea', { 'data-testid': 'inbox-forward-reason', rows: 3, maxlength: MAX_NOTE, value: forwardDraft.reason || '' });
  const teamField = formField('inbox-forward-team-input', 'inbox.forward_team', teamSelect);
  const reasonField = formField('inbox-forward-reason-input', 'inbox.forward_reason', reason, 'inbox.forward_reason_hint');
  const forward = h(
    'form',
    { class: 'inbox-form', 'data-testid': 'inbox-forward-form', novalidate: true, 'aria-labelledby': 'inbox-forward-h' },
    h('h3', { id: 'inbox-forward-h', i18n: 'inbox.forward_title' }),
    teamField.element,
    reasonField.element,
    h(
      'div',
      { class: 'handover-form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'inbox-forward-send', i18n: 'inbox.forward_send' }),
      h('button', { type: 'button', class: 'btn btn-quiet', 'data-testid': 'inbox-forward-cancel', i18n: 'common.cancel', on: { click: () => toggleForm(null, 'inbox-forward') } }),
    ),
  );
  forward.addEventListener('input', () => drafts.save(`forward.${id}`, { team: teamSelect.value, reason: reason.value }));
  forward.addEventListener('change', () => drafts.save(`forward.${id}`, { team: teamSelect.value, reason: reason.value }));
  forward.addEventListener('submit', (event) => {
    event.preventDefault();
    clearFieldError(teamField.slot, teamSelect);
    clearFieldError(reasonField.slot, reason);
    if (!reason.value.trim()) markInvalid(reason, reasonField.slot, 'inbox.error.reason_required');
    if (!teamSelect.value) markInvalid(teamSelect, teamField.slot, 'handover.error.team_required');
    if (!teamSelect.value || !reason.value.trim()) return;
    act('forward', { team: teamSelect.value, reason: reason.value.trim() });
  });

  const question = h('textarea', { 'data-testid': 'inbox-return-question', rows: 3, maxlength: MAX_NOTE, value: drafts.load(`return.${id}`)?.question || '' });
  const questionField = formField('inbox-return-question-input', 'inbox.return_question', question, 'inbox.return_hint');
  const ret = h(
    'form',
    { class: 'inbox-form', 'data-testid': 'inbox-return-form', novalidate: true, 'aria-labelledby': 'inbox-return-h' },
    h('h3', { id: 'inbox-return-h', i18n: 'inbox.return_title' }),
    questionField.element,
    h(
      'div',
      { class: 'handover-form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'inbox-return-send', i18n: 'inbox.return_send' }),
      h('button', { type: 'button', class: 'btn btn-quiet', 'data-testid': 'inbox-return-cancel', i18n: 'common.cancel', on: { click: () => toggleForm(null, 'inbox-return') } }),
    ),
  );
  ret.addEventListener('input', () => drafts.save(`return.${id}`, { question: question.value }));
  ret.addEventListener('submit', (event) => {
    event.preventDefault();
    clearFieldError(questionField.slot, question);
    if (!question.value.trim()) {
      markInvalid(question, questionField.slot, 'inbox.error.question_required');
      return;
    }
    act('return', { question: question.value.trim() });
  });
  applyTranslations(forward);
  applyTranslations(ret);
  return { id, forward, return: ret, first: { forward: teamSelect, return: question } };
}

function toggleForm(which, returnTo) {
  inbox.form = inbox.form === which ? null : which;
  renderDetail();
  if (inbox.form && forms) forms.first[inbox.form].focus();
  else if (returnTo) document.querySelector(`[data-testid="${returnTo}"]`)?.focus();
}

const DONE_KEYS = {
  ack: 'inbox.done_ack',
  done: 'inbox.done_done',
  forward: 'inbox.done_forward',
  return: 'inbox.done_return',
};

async function act(action, body) {
  const handover = inbox.detail?.handover;
  if (!handover || inbox.busy || !app.outbox) return;
  inbox.busy = action;
  inbox.message = null;
  renderDetail();
  let sent;
  try {
    sent = app.outbox.send({ kind: 'handover-act', entryId: null, handoverId: handover.id, action, body }, WAIT_MS);
  } catch {
    inbox.busy = null;
    renderDetail();
    notify('error', 'error.storage');
    return;
  }
  const result = await sent.result;
  if (inbox.selectedId !== handover.id) {
    inbox.busy = null;
    return;
  }
  inbox.busy = null;
  switch (result.status) {
    case 'done': {
      const next = result.handover;
      inbox.items.set(next.id, mergeHandover(inbox.items.get(next.id), next));
      inbox.detail = { ...inbox.detail, handover: mergeHandover(inbox.detail.handover, next) };
      const args = action === 'forward' ? { team: teamName(body.team) } : undefined;
      inbox.message = { kind: 'success', key: DONE_KEYS[action], args };
      announce(t(DONE_KEYS[action], args));
      if (action === 'forward') drafts.remove(`forward.${handover.id}`);
      if (action === 'return') drafts.remove(`return.${handover.id}`);
      if (action === 'forward' || action === 'return') {
        inbox.form = null;
        forms = null;
      }
      break;
    }
    case 'rejected':
      inbox.message = {
        kind: 'error',
        key: result.error.status === 409 ? 'inbox.changed_meanwhile' : 'error.action_failed',
        args: { message: result.error.message || result.error.code },
      };
      loadDetail(handover.id, { quiet: true });
      break;
    default:
      inbox.message = { kind: 'info', key: 'detail.queued_action' };
  }
  render();
  // The pressed button may be gone (ack becomes done): keep focus in the detail.
  const again = document.querySelector(`#inbox-detail-body [data-testid="inbox-${action === 'ack' ? 'done' : action}"]`);
  (again || document.getElementById('inbox-detail-messages') || document.getElementById('inbox-detail-h'))?.focus();
}

/** Re-renders after a write of the selected handover went through later (outbox). */
export function teamHandoverSaved(handover) {
  if (!inbox.active) return;
  inbox.items.set(handover.id, mergeHandover(inbox.items.get(handover.id), handover));
  if (inbox.detail?.handover.id === handover.id) {
    inbox.detail = { ...inbox.detail, handover: mergeHandover(inbox.detail.handover, handover) };
  }
  render();
}

function renderDetail() {
  const body = els.body;
  els.close.hidden = !inbox.selectedId;
  if (!inbox.selectedId) {
    els.panel.classList.remove('has-detail');
    body.replaceChildren(h('p', { class: 'muted inbox-placeholder', i18n: 'inbox.choose' }));
    applyTranslations(body);
    return;
  }
  els.panel.classList.add('has-detail');
  if (inbox.detailState === 'loading' && !inbox.detail) {
    body.replaceChildren(h('h2', { id: 'inbox-detail-h', tabindex: '-1', i18n: 'common.loading' }));
    applyTranslations(body);
    return;
  }
  if (inbox.detailState === 'failed' && !inbox.detail) {
    const status = inbox.detailError instanceof ApiError ? inbox.detailError.status : 0;
    body.replaceChildren(
      h(
        'div',
        { class: 'panel-error' },
        h('h2', { id: 'inbox-detail-h', tabindex: '-1', i18n: status === 404 ? 'inbox.not_found' : status === 403 ? 'inbox.forbidden' : 'inbox.load_detail_failed' }),
        h('button', { type: 'button', class: 'btn', i18n: 'common.retry', on: { click: () => loadDetail(inbox.selectedId, { focus: true }) } }),
      ),
    );
    applyTranslations(body);
    return;
  }
  const { handover, entry } = inbox.detail;
  if (!forms || forms.id !== handover.id) forms = buildForms(handover);
  report = reportSectionFor(entry, report);

  const active = document.activeElement;
  const hadFocus = body.contains(active) ? active : null;
  const focusTestId = hadFocus?.getAttribute('data-testid');
  const focusId = hadFocus?.id;

  const canWork = handover.state === 'pending' || handover.state === 'acknowledged';
  if (!canWork) inbox.form = null;
  const busy = Boolean(inbox.busy);
  const button = (testid, key, handler, extra = '', expanded = null) =>
    h('button', {
      type: 'button',
      class: `btn ${extra}`,
      'data-testid': testid,
      i18n: key,
      'aria-disabled': busy ? 'true' : null,
      'aria-expanded': expanded,
      on: { click: () => (inbox.busy ? null : handler()) },
    });

  const actions = canWork
    ? h(
        'div',
        { class: 'detail-actions', role: 'group', 'aria-labelledby': 'inbox-actions-label' },
        h('span', { id: 'inbox-actions-label', class: 'sr-only', i18n: 'detail.actions' }),
        handover.state === 'pending' ? button('inbox-ack', 'inbox.ack', () => act('ack'), 'btn-primary') : null,
        button('inbox-done', 'inbox.done', () => act('done'), handover.state === 'acknowledged' ? 'btn-primary' : ''),
        button('inbox-forward', 'inbox.forward', () => toggleForm('forward'), '', inbox.form === 'forward' ? 'true' : 'false'),
        button('inbox-return', 'inbox.return', () => toggleForm('return'), '', inbox.form === 'return' ? 'true' : 'false'),
      )
    : null;

  const messages = h('div', { class: 'detail-messages', id: 'inbox-detail-messages', role: 'status', tabindex: '-1' });
  if (busy) messages.appendChild(h('p', { class: 'banner banner-info', i18n: 'inbox.sending' }));
  if (inbox.message) {
    messages.appendChild(h('p', { class: `banner banner-${inbox.message.kind}`, i18n: inbox.message.key, i18nArgs: inbox.message.args }));
  }
  if (handover.state === 'returned') {
    messages.appendChild(
      h(
        'div',
        { class: 'banner banner-info' },
        h('p', { i18n: 'inbox.waiting_answer' }),
        handover.reason ? h('p', {}, h('span', { i18n: 'handover.question' }), h('span', { text: ': ' }), h('span', { class: 'prewrap', text: handover.reason })) : null,
      ),
    );
  }

  const view = h(
    'article',
    {
      class: `detail inbox-detail state-${handover.state}${isOverdue(handover) ? ' is-overdue' : ''}`,
      'data-testid': 'inbox-detail',
      dataset: { handoverId: handover.id, state: handover.state, version: handover.version },
      'aria-labelledby': 'inbox-detail-h',
    },
    h(
      'header',
      { class: 'detail-header' },
      h('p', { class: 'detail-badges' }, handoverBadges(handover)),
      h('h2', { id: 'inbox-detail-h', class: 'detail-title', tabindex: '-1', text: entry.summary }),
    ),
    messages,
    actions,
    inbox.form === 'forward' ? forms.forward : null,
    inbox.form === 'return' ? forms.return : null,
    handoverFacts(handover),
    h(
      'section',
      { class: 'detail-section', 'aria-labelledby': 'inbox-note-h' },
      h('h3', { id: 'inbox-note-h', i18n: 'handover.note' }),
      handover.note ? h('p', { class: 'prewrap inbox-note', 'data-testid': 'inbox-note', text: handover.note }) : h('p', { class: 'muted', i18n: 'common.loading' }),
    ),
    report?.element || null,
    entryView(entry),
  );
  applyTranslations(view);
  body.replaceChildren(view);
  if (hadFocus) {
    if (hadFocus.isConnected && body.contains(hadFocus)) hadFocus.focus({ preventScroll: true });
    else {
      const again =
        (focusTestId && body.querySelector(`[data-testid="${focusTestId}"]`)) ||
        (focusId && document.getElementById(focusId)) ||
        document.getElementById('inbox-detail-h');
      again?.focus({ preventScroll: true });
    }
  }
}
