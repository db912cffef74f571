// The shift supervisor's "Supervision" section: live flags of named clients' entries that
// on-call workers opened outside their own work (with the reason they gave), from the
// `supervision` stream, and the client's access report (access-log-view.js). The flags are
// replayed from the stream's start when the console starts (newest first, at most
// MAX_FLAGS), then follow live on the desk's socket.

import { fill, h } from './dom.js';
import { applyTranslations, t } from './i18n.js';
import { announce } from './notices.js';
import { app } from './state.js';
import { formatLong } from './time.js';
import { closeEntryAccessLog, createSubjectReport } from './access-log-view.js';

const STREAM = 'supervision';
const MAX_FLAGS = 200;
/** Opening an entry reads it and its history: both are flagged. One flag is shown for reads
 * of the same entry by the same worker with the same reason this close together. */
const SAME_OPENING_MS = 60_000;
const NEW_HIGHLIGHT_MS = 10_000;
export const SUPERVISION_ROLES = ['supervisor'];

let els = null;
let report = null;
let running = false;
let state = 'loading'; // 'loading' | 'ready' | 'failed'
/** Newest first: {key, user, entryId, reason, at, li, summary}. */
let flags = [];
let expanded = true;

function collect() {
  const root = document.getElementById('supervision');
  const toggle = h('button', {
    type: 'button',
    class: 'btn btn-small btn-quiet',
    'data-testid': 'supervision-toggle',
    'aria-expanded': 'true',
    'aria-controls': 'supervision-body',
  });
  const list = h('ol', { class: 'supervision-flags', 'data-testid': 'supervision-flags', 'aria-labelledby': 'supervision-flags-h' });
  const status = h('p', { class: 'muted', 'data-testid': 'supervision-flags-status' });
  const count = h('p', { class: 'muted', id: 'supervision-count' });
  report = createSubjectReport();
  root.replaceChildren(
    h(
      'div',
      { class: 'supervision-head' },
      h('h2', { id: 'supervision-heading', tabindex: '-1', i18n: 'access.supervision.title' }),
      count,
      toggle,
    ),
    h(
      'div',
      { class: 'supervision-body', id: 'supervision-body' },
      h(
        'section',
        { class: 'supervision-feed', 'aria-labelledby': 'supervision-flags-h' },
        h('h3', { id: 'supervision-flags-h', i18n: 'access.flags.title' }),
        h('p', { class: 'muted', i18n: 'access.flags.intro' }),
        list,
        status,
      ),
      report.element,
    ),
  );
  toggle.addEventListener('click', () => {
    expanded = !expanded;
    renderToggle();
  });
  els = { root, toggle, list, status, count, body: root.querySelector('.supervision-body') };
}

function renderToggle() {
  els.toggle.setAttribute('aria-expanded', String(expanded));
  els.toggle.setAttribute('data-i18n', expanded ? 'access.supervision.hide' : 'access.supervision.show');
  els.body.hidden = !expanded;
  applyTranslations(els.toggle);
}

/** The entry's summary when the board knows it (it may arrive later than the flag). */
function summaryOf(entryId) {
  return app.entries.get(entryId)?.summary || '';
}

function flagItem(flag) {
  const summary = h('span', { class: 'supervision-flag-summary', text: summaryOf(flag.entryId) });
  const time = h('time', { datetime: flag.at, text: formatLong(flag.at) });
  const li = h(
    'li',
    { class: 'supervision-flag', 'data-testid': 'supervision-flag', dataset: { entryId: flag.entryId, userId: flag.user?.id } },
    h(
      'p',
      { class: 'supervision-flag-head' },
      h('strong', { class: 'supervision-flag-name', 'data-testid': 'supervision-flag-name', text: flag.user?.name || flag.user?.username || '' }),
      h('span', { 'aria-hidden': 'true', text: ' · ' }),
      time,
    ),
    h(
      'p',
      { class: 'supervision-flag-reason' },
      h('span', { class: 'supervision-flag-label', i18n: 'access.flags.reason' }),
      h('span', { text: ': ' }),
      h('span', { class: 'prewrap', 'data-testid': 'supervision-flag-reason', text: flag.reason || '' }),
    ),
    h(
      'p',
      { class: 'supervision-flag-entry' },
      h('a', { href: `#/entry/${flag.entryId}`, 'data-testid': 'supervision-flag-open', i18n: 'access.flags.open_entry' }),
      ' ',
      summary,
    ),
  );
  flag.li = li;
  flag.time = time;
  flag.summaryEl = summary;
  applyTranslations(li);
  return li;
}

/** The same opening seen twice (the entry and its history), or a replayed event. */
function sameOpening(a, b) {
  return (
    a.user?.id === b.user?.id &&
    a.entryId === b.entryId &&
    a.reason === b.reason &&
    Math.abs(Date.parse(a.at) - Date.parse(b.at)) <= SAME_OPENING_MS
  );
}

function onEvent(frame, { replay }) {
  if (frame.kind !== 'access.outside_work' || !frame.data?.entry_id) return;
  const d = frame.data;
  const flag = { seq: frame.seq, user: d.user || {}, entryId: d.entry_id, reason: d.reason || '', at: d.at || frame.at };
  if (flags.some((known) => sameOpening(known, flag))) return;
  flags.unshift(flag);
  els.list.prepend(flagItem(flag));
  while (flags.length > MAX_FLAGS) flags.pop().li.remove();
  if (!replay) {
    flag.li.classList.add('is-new');
    setTimeout(() => flag.li.classList.remove('is-new'), NEW_HIGHLIGHT_MS);
    announce(t('access.flags.announce', { name: flag.user.name || flag.user.username || '' }));
  }
  renderStatus();
}

function renderStatus() {
  if (!els) return;
  const key = state === 'failed' ? 'access.flags.failed' : state === 'loading' ? 'common.loading' : flags.length ? null : 'access.flags.empty';
  els.status.hidden = !key;
  if (key) fill(els.status, h('span', { i18n: key }));
  fill(els.count, h('span', { i18n: 'access.flags.count', i18nArgs: { count: flags.length } }));
  els.count.hidden = state !== 'ready';
  applyTranslations(els.status);
  applyTranslations(els.count);
}

/** Summaries the board learnt after the flag came, and times in the current language. */
function refreshFlags() {
  for (const flag of flags) {
    flag.time.textContent = formatLong(flag.at);
    const summary = summaryOf(flag.entryId);
    if (summary && flag.summaryEl.textContent !== summary) flag.summaryEl.textContent = summary;
  }
}

const feed = {
  onEvent,
  onSubscribed() {
    state = 'ready';
    renderStatus();
    refreshFlags();
  },
  onError() {
    if (state !== 'ready') state = 'failed';
    renderStatus();
  },
};

export function isSupervisor() {
  return SUPERVISION_ROLES.includes(app.me?.role);
}

/** Starts the section for a supervisor (app.live must exist); hidden for everyone else. */
export function startSupervision() {
  if (!isSupervisor() || !app.live) {
    stopSupervision();
    return;
  }
  if (!els) collect();
  running = true;
  state = 'loading';
  flags = [];
  els.list.replaceChildren();
  els.root.hidden = false;
  applyTranslations(els.root);
  renderToggle();
  renderStatus();
  app.live.follow(STREAM, 0, feed);
}

/** Logout or another user: nothing of what was shown stays. */
export function stopSupervision() {
  closeEntryAccessLog();
  if (!els) return;
  if (running) app.live?.unfollow(STREAM);
  running = false;
  flags = [];
  els.list.replaceChildren();
  report.reset();
  els.root.hidden = true;
}

export function supervisionLanguageChanged() {
  if (!els || !running) return;
  applyTranslations(els.root);
  refreshFlags();
  renderStatus();
  report.languageChanged();
}

/** The board changed: flags show the summaries of entries it now knows. */
export function supervisionBoardChanged() {
  if (running) refreshFlags();
}
