// The shelter staff's console (role shelter): the free places, the clients staying now, a
// stay's detail with edit and "Departed", the new-arrival form (with the desk's referral
// code), the people turned away for lack of space, and the statistics for THL. Kept live
// over the shelter's own stream; nothing of it ever reaches the desk but numbers and the
// status of a referral code.
//
// Routes: #/shelter/stays (default) · #/shelter/new · #/shelter/stay/<id> ·
// #/shelter/turned-away · #/shelter/stats.

import * as api from './api.js';
import { ApiError, NetworkError } from './api.js';
import { fill, h } from './dom.js';
import { applyTranslations, setText, t } from './i18n.js';
import { LiveConnection } from './live.js';
import { announce } from './notices.js';
import { app } from './state.js';
import { capacityParts, markCapacity, personCount, stayDays } from './shelter-common.js';
import { buildStayForm, createStayBody, emptyStayValues, stayChanges, stayValues } from './shelter-form.js';
import { renderStay, violenceList } from './shelter-stay.js';
import { createStatsSection } from './shelter-stats.js';
import { createTurnedAwaySection } from './shelter-turned-away.js';
import { formatLong, formatShort, fromLocalInput, toRfc3339 } from './time.js';

const REFRESH_DELAY_MS = 300;

const shelter = {
  active: false,
  hooks: null,
  section: 'stays', // 'stays' | 'turned-away' | 'stats'
  filter: 'current',
  stays: [],
  loadState: 'loading', // 'loading' | 'ready' | 'failed'
  capacity: null,
  /** null, 'new', or a stay's id. */
  selected: null,
  detail: null,
  detailState: 'none', // 'none' | 'loading' | 'ready' | 'failed'
  detailError: null,
  editing: null, // {form, base} while a stay is being corrected
  identityShown: false,
  message: null,
  busy: false,
  listToken: 0,
  detailToken: 0,
  refreshTimer: null,
};

let els = null;
let newForm = null;
let turnedAway = null;
let stats = null;

function collect() {
  const get = (id) => document.getElementById(id);
  els = {
    view: get('shelter-view'),
    heading: get('shelter-heading'),
    capacity: get('shelter-capacity'),
    nav: get('shelter-nav'),
    sections: {
      stays: get('shelter-stays'),
      'turned-away': get('shelter-turned-away'),
      stats: get('shelter-stats'),
    },
    filter: get('shelter-filter'),
    count: get('shelter-stays-count'),
    rows: get('shelter-stays-rows'),
    empty: get('shelter-stays-empty'),
    panel: get('shelter-panel'),
    body: get('shelter-panel-body'),
    close: get('shelter-close'),
  };
}

export function isShelterActive() {
  return shelter.active;
}

/** hooks: setConnection(state), checkSession(), stillCurrent(). */
export async function startShelterConsole(hooks) {
  if (!els) {
    collect();
    wire();
  }
  shelter.active = true;
  shelter.hooks = hooks;
  turnedAway ||= createTurnedAwaySection(els.sections['turned-away'], { onSaved: refreshSoon });
  stats ||= createStatsSection(els.sections.stats);
  routeShelter();
  const head = await loadUntilLoaded();
  if (!hooks.stillCurrent()) return;
  app.live = new LiveConnection('shelter', head, liveHandlers);
  app.live.start();
}

/** Logged in again as the same user: read everything again (the socket resumes). */
export function resumeShelterConsole() {
  refresh();
}

export function stopShelterConsole() {
  if (!els) return;
  shelter.active = false;
  clearTimeout(shelter.refreshTimer);
  shelter.stays = [];
  shelter.capacity = null;
  shelter.loadState = 'loading';
  shelter.selected = null;
  shelter.detail = null;
  shelter.detailState = 'none';
  shelter.editing = null;
  shelter.message = null;
  shelter.listToken += 1;
  shelter.detailToken += 1;
  newForm = null;
  turnedAway?.reset();
  stats?.reset();
  els.rows.replaceChildren();
  els.body.replaceChildren();
  if (/^#\/shelter\//.test(location.hash)) history.replaceState(history.state, '', location.pathname + location.search);
}

function wire() {
  els.filter.addEventListener('change', () => {
    shelter.filter = els.filter.value;
    loadStays().catch(() => {});
  });
  els.close.addEventListener('click', () => closePanel());
  // The whole row opens the stay; its link is what the keyboard reaches.
  els.rows.addEventListener('click', (event) => {
    const tr = event.target.closest('tr[data-stay-id]');
    if (!tr || event.target.closest('a')) return;
    location.hash = `#/shelter/stay/${tr.dataset.stayId}`;
  });
  els.view.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && shelter.selected && !event.defaultPrevented && shelter.section === 'stays') {
      event.preventDefault();
      closePanel();
    }
  });
}

// ---- Loading ----

/** Reads the stream head, then the stays and the free places: nothing in between is missed. */
async function loadStays() {
  const token = (shelter.listToken += 1);
  els.rows.closest('table').setAttribute('aria-busy', 'true');
  try {
    const head = await api.streamHead('shelter').catch(() => 0);
    const [list] = await Promise.all([api.stays(shelter.filter), loadCapacity()]);
    if (token === shelter.listToken) {
      shelter.stays = list;
      shelter.loadState = 'ready';
      renderList();
    }
    return head;
  } catch (err) {
    if (token === shelter.listToken) {
      if (shelter.loadState !== 'ready') shelter.loadState = 'failed';
      renderList();
    }
    throw err;
  } finally {
    if (token === shelter.listToken) els.rows.closest('table').removeAttribute('aria-busy');
  }
}

async function loadCapacity() {
  try {
    shelter.capacity = await api.shelterCapacity();
  } catch {
    /* the last numbers stay until the next read */
  }
  renderCapacity();
}

async function loadUntilLoaded() {
  let delay = 1000;
  for (;;) {
    try {
      return await loadStays();
    } catch (err) {
      if (!shelter.hooks.stillCurrent()) throw err;
      shelter.hooks.setConnection('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(10000, delay * 2);
    }
  }
}

/** Something changed in the register: read what is shown again. */
function refresh() {
  clearTimeout(shelter.refreshTimer);
  if (!shelter.active) return;
  loadStays().catch(() => {});
  if (typeof shelter.selected === 'string' && shelter.selected !== 'new' && !shelter.editing && !shelter.busy) {
    loadDetail(shelter.selected, { quiet: true });
  }
  if (shelter.section === 'turned-away') turnedAway.refresh();
}

function refreshSoon() {
  clearTimeout(shelter.refreshTimer);
  shelter.refreshTimer = setTimeout(refresh, REFRESH_DELAY_MS);
}

const liveHandlers = {
  onState(state) {
    shelter.hooks?.setConnection(state);
  },
  onEvent(frame) {
    if (frame.kind === 'shelter.capacity' && frame.data?.family_places !== undefined) {
      shelter.capacity = frame.data;
      renderCapacity();
    }
    refreshSoon();
  },
  onSubscribed() {
    // After a reconnect: whatever happened meanwhile is read again.
    refreshSoon();
  },
  async onResyncNeeded() {
    return loadStays();
  },
  async onRepeatedFailure() {
    await shelter.hooks?.checkSession();
  },
};

// ---- Rendering ----

function renderCapacity() {
  const cap = shelter.capacity;
  markCapacity(els.capacity, cap);
  if (cap) fill(els.capacity, h('h2', { class: 'tile-title', i18n: 'shelter.capacity_title' }), capacityParts(cap));
  else fill(els.capacity, h('p', { class: 'muted', i18n: 'common.loading' }));
  applyTranslations(els.capacity);
}

function stayRow(stay) {
  const selected = stay.id === shelter.selected;
  const departed = Boolean(stay.departed_at);
  const children = personCount(stay) - stay.adults;
  return h(
    'tr',
    {
      class: `stay-row${selected ? ' is-selected' : ''}${departed ? ' is-departed' : ''}`,
      'data-testid': 'stay-row',
      dataset: { stayId: stay.id, version: stay.version },
    },
    h(
      'th',
      { scope: 'row' },
      h('a', { href: `#/shelter/stay/${stay.id}`, 'aria-current': selected ? 'true' : null, text: stay.alias }),
      departed ? [' ', h('span', { class: 'tag', i18n: 'shelter.state_departed' })] : null,
      stay.referred_by_code ? [' ', h('span', { class: 'tag', i18n: 'shelter.by_code_short' })] : null,
    ),
    h('td', { class: 'num', text: String(stay.adults) }),
    h('td', { class: 'num', text: String(children) }),
    h('td', {}, h('time', { datetime: stay.arrived_at, title: formatLong(stay.arrived_at), text: formatShort(stay.arrived_at) })),
    h('td', { class: 'num', text: String(stayDays(stay)) }),
    h('td', {}, violenceList(stay.violence)),
  );
}

function renderList() {
  const active = document.activeElement;
  const activeId = active?.closest?.('tr[data-stay-id]')?.dataset.stayId;
  els.rows.replaceChildren(...shelter.stays.map(stayRow));
  applyTranslations(els.rows);
  if (activeId) els.rows.querySelector(`tr[data-stay-id="${CSS.escape(activeId)}"] a`)?.focus({ preventScroll: true });
  const emptyKey = shelter.loadState === 'failed' ? 'shelter.load_failed' : shelter.loadState === 'loading' ? 'common.loading' : `shelter.empty_${shelter.filter}`;
  els.empty.hidden = shelter.stays.length > 0 && shelter.loadState !== 'failed';
  if (!els.empty.hidden) setText(els.empty, emptyKey);
  const persons = shelter.stays.reduce((sum, s) => sum + personCount(s), 0);
  setText(els.count, 'shelter.count', { stays: shelter.stays.length, persons });
}

function renderSection() {
  for (const [name, el] of Object.entries(els.sections)) el.hidden = name !== shelter.section;
  for (const link of els.nav.querySelectorAll('a[data-section]')) {
    if (link.dataset.section === shelter.section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function render() {
  if (!els || !shelter.active) return;
  renderSection();
  renderCapacity();
  renderList();
  renderPanel();
}

export function shelterLanguageChanged() {
  if (!shelter.active) return;
  newForm?.languageChanged();
  shelter.editing?.form.languageChanged();
  turnedAway?.languageChanged();
  stats?.languageChanged();
  render();
}

// ---- Routing ----

/** Shows what the URL's hash names. */
export function routeShelter() {
  if (!shelter.active) return;
  const hash = location.hash;
  const stay = /^#\/shelter\/stay\/([0-9a-zA-Z-]+)$/.exec(hash);
  if (hash === '#/shelter/turned-away' || hash === '#/shelter/stats') {
    shelter.section = hash === '#/shelter/stats' ? 'stats' : 'turned-away';
    renderSection();
    if (shelter.section === 'stats') stats.show();
    else turnedAway.show();
    return;
  }
  shelter.section = 'stays';
  if (hash === '#/shelter/new') openNew();
  else if (stay) openStay(stay[1]);
  else if (shelter.selected) closePanel({ keepHash: true });
  render();
}

// ---- The panel: a stay, its edit form, or the new-arrival form ----

function openNew() {
  shelter.selected = 'new';
  shelter.editing = null;
  shelter.message = null;
  newForm ||= buildStayForm({ mode: 'create', values: emptyStayValues(), onSubmit: submitNew });
  newForm.refreshDefaults();
  render();
  newForm.focusFirst();
}

function openStay(id) {
  if (shelter.selected === id && shelter.detailState !== 'failed') {
    document.getElementById('shelter-detail-h')?.focus();
    return;
  }
  shelter.selected = id;
  shelter.detail = null;
  shelter.detailState = 'loading';
  shelter.editing = null;
  shelter.identityShown = false;
  shelter.message = null;
  render();
  loadDetail(id, { focus: true });
}

function closePanel({ keepHash = false } = {}) {
  const id = shelter.selected;
  shelter.selected = null;
  shelter.detail = null;
  shelter.detailState = 'none';
  shelter.editing = null;
  shelter.message = null;
  shelter.detailToken += 1;
  if (!keepHash && location.hash) history.replaceState(history.state, '', '#/shelter/stays');
  render();
  const row = id && els.rows.querySelector(`tr[data-stay-id="${CSS.escape(id)}"] a`);
  (row || els.heading).focus();
}

async function loadDetail(id, { focus = false, quiet = false } = {}) {
  const token = (shelter.detailToken += 1);
  try {
    const stay = await api.getStay(id);
    if (token !== shelter.detailToken || shelter.selected !== id) return;
    shelter.detail = stay;
    shelter.detailState = 'ready';
  } catch (err) {
    if (token !== shelter.detailToken || shelter.selected !== id) return;
    if (quiet && shelter.detail) return;
    shelter.detailState = 'failed';
    shelter.detailError = err;
  }
  renderPanel();
  if (focus) document.getElementById('shelter-detail-h')?.focus();
}

function panelHeading(key) {
  return h('h2', { id: 'shelter-detail-h', class: 'panel-title', tabindex: '-1', i18n: key });
}

function renderPanel() {
  const body = els.body;
  els.close.hidden = !shelter.selected;
  els.panel.classList.toggle('has-detail', Boolean(shelter.selected));
  const hadFocus = body.contains(document.activeElement) ? document.activeElement : null;
  const focusTestId = hadFocus?.getAttribute('data-testid');
  let content;
  if (!shelter.selected) {
    content = h('p', { class: 'muted inbox-placeholder', i18n: 'shelter.choose' });
  } else if (shelter.selected === 'new') {
    content = h('div', { class: 'panel-form' }, panelHeading('shelter.new_title'), h('p', { class: 'muted', i18n: 'shelter.new_intro' }), newForm.element);
  } else if (shelter.editing) {
    content = h(
      'div',
      { class: 'panel-form' },
      panelHeading('shelter.edit_title'),
      shelter.message ? h('p', { class: `banner banner-${shelter.message.kind}`, role: 'status', i18n: shelter.message.key, i18nArgs: shelter.message.args }) : null,
      shelter.editing.form.element,
    );
  } else if (shelter.detail) {
    content = renderStay(shelter.detail, {
      message: shelter.message,
      busy: shelter.busy,
      identityShown: shelter.identityShown,
      onToggleIdentity: () => {
        shelter.identityShown = !shelter.identityShown;
        renderPanel();
      },
      onEdit: openEdit,
      onDepart: depart,
    });
  } else if (shelter.detailState === 'failed') {
    const status = shelter.detailError instanceof ApiError ? shelter.detailError.status : 0;
    content = h(
      'div',
      { class: 'panel-error' },
      panelHeading(status === 404 ? 'shelter.not_found' : 'shelter.load_detail_failed'),
      h('button', { type: 'button', class: 'btn', i18n: 'common.retry', on: { click: () => loadDetail(shelter.selected, { focus: true }) } }),
    );
  } else {
    content = panelHeading('common.loading');
  }
  applyTranslations(content);
  // The forms are kept, not rebuilt: what is typed stays, and focus goes back where it was.
  body.replaceChildren(content);
  if (hadFocus && document.activeElement !== hadFocus) {
    const again = hadFocus.isConnected
      ? hadFocus
      : (focusTestId && body.querySelector(`[data-testid="${focusTestId}"]`)) || document.getElementById('shelter-detail-h');
    again?.focus({ preventScroll: true });
  }
}

/** What went wrong, for a message: the connection, or the server's words. */
function failure(err) {
  return err instanceof NetworkError ? { key: 'shelter.error.offline' } : { key: 'shelter.error.save_failed', args: { message: err.message || err.code } };
}

async function submitNew(values, { arrivedEdited }) {
  const form = newForm;
  form.setBusy(true);
  let stay;
  try {
    stay = await api.createStay(createStayBody(values, arrivedEdited));
  } catch (err) {
    form.setBusy(false);
    if (err instanceof ApiError && err.status !== 401) form.showServerError(err);
    else if (err instanceof NetworkError) form.showFormMessage(failure(err).key);
    return;
  }
  form.setBusy(false);
  form.reset();
  const key = stay.referred_by_code ? 'shelter.saved_with_code' : 'shelter.saved';
  announce(t(key, { alias: stay.alias }));
  shelter.selected = stay.id;
  shelter.detail = stay;
  shelter.detailState = 'ready';
  shelter.identityShown = false;
  shelter.message = { kind: 'success', key, args: { alias: stay.alias } };
  history.replaceState(history.state, '', `#/shelter/stay/${stay.id}`);
  shelter.stays = [stay, ...shelter.stays.filter((s) => s.id !== stay.id)];
  render();
  document.getElementById('shelter-detail-h')?.focus();
  refreshSoon();
}

function openEdit() {
  const stay = shelter.detail;
  if (!stay) return;
  const form = buildStayForm({
    mode: 'edit',
    values: stayValues(stay),
    onSubmit: (values) => submitEdit(values),
    onCancel: () => {
      shelter.editing = null;
      shelter.message = null;
      renderPanel();
      document.querySelector('[data-testid="stay-edit"]')?.focus();
    },
  });
  shelter.editing = { form, base: stay };
  shelter.message = null;
  renderPanel();
  form.focusFirst();
}

async function submitEdit(values) {
  const editing = shelter.editing;
  if (!editing) return;
  const { form, base } = editing;
  const changes = stayChanges(base, values);
  if (!Object.keys(changes).length) {
    shelter.editing = null;
    shelter.message = { kind: 'info', key: 'notice.no_changes' };
    renderPanel();
    document.getElementById('shelter-detail-h')?.focus();
    return;
  }
  form.setBusy(true);
  try {
    const stay = await api.patchStay(base.id, base.version, changes);
    if (shelter.editing !== editing) return;
    shelter.detail = stay;
    shelter.editing = null;
    shelter.message = { kind: 'success', key: 'shelter.changes_saved' };
    renderPanel();
    document.getElementById('shelter-detail-h')?.focus();
    refreshSoon();
  } catch (err) {
    form.setBusy(false);
    if (shelter.editing !== editing) return;
    if (err instanceof ApiError && err.status === 409) {
      // Someone saved meanwhile: read the stay again; what this user typed stays in the form,
      // and saving now changes only what differs from the newer version.
      try {
        const fresh = await api.getStay(base.id);
        shelter.detail = fresh;
        editing.base = fresh;
        shelter.message = { kind: 'error', key: 'shelter.changed_meanwhile', args: { version: fresh.version } };
      } catch (again) {
        shelter.message = { kind: 'error', ...failure(again) };
      }
      renderPanel();
      document.querySelector('#shelter-panel-body [role="status"]')?.focus();
    } else if (err instanceof ApiError && err.status !== 401) {
      form.showServerError(err);
    } else if (err instanceof NetworkError) {
      form.showFormMessage(failure(err).key);
    }
  }
}

async function depart(localTime) {
  const stay = shelter.detail;
  if (!stay || shelter.busy) return;
  const at = localTime ? fromLocalInput(localTime) : null;
  shelter.busy = true;
  shelter.message = null;
  renderPanel();
  try {
    const next = await api.departStay(stay.id, at ? toRfc3339(at) : undefined);
    shelter.detail = next;
    shelter.message = { kind: 'success', key: 'shelter.departed_saved', args: { alias: next.alias, time: formatLong(next.departed_at) } };
    announce(t(shelter.message.key, shelter.message.args));
    refreshSoon();
  } catch (err) {
    const problem = err instanceof ApiError && err.status === 422 ? { key: 'shelter.error.depart_invalid', args: { message: err.message } } : failure(err);
    shelter.message = { kind: 'error', ...problem };
  }
  shelter.busy = false;
  renderPanel();
  document.getElementById('shelter-detail-h')?.focus();
}
