// The public, anonymous chat page (/chat): someone in crisis, often on a phone, without
// logging in.
//
// What the page promises, and how:
// - Nothing is lost or doubled. Every message gets a client_id when written; unacknowledged
//   messages stay in sessionStorage and are POSTed again with the SAME client_id until the
//   server acknowledges them (the server answers a repeat with the first message's seq).
//   The transcript is built from the chat stream keyed by client_id and seq, so an own
//   message and its chat.message event become one bubble.
// - The conversation survives a closed tab or reload within the browser session:
//   {chat_id, token, outbox} live in sessionStorage (never localStorage, which would outlive
//   the session on a shared device) and the stream is replayed from 0 on load.
// - Realtime over the websocket (auth frame, subscribe since the last seq seen, reconnect
//   with backoff); when the socket keeps failing, the same events are polled over HTTP.
// - Quick exit (quick-exit.js) ends the chat with a beacon and removes everything stored.

import {
  t,
  setLanguage,
  detectLanguage,
  preloadLanguages,
  onLanguageChange,
  language,
  locale,
} from './i18n.js';
import { installQuickExit, onQuickExit, isLeaving, STORAGE_PREFIX } from './quick-exit.js';
import { backoff } from '../shared/backoff.js';
import { uuid } from '../shared/uuid.js';
import { ApiError, NetworkError, api, renderLanguageLinks, telHref, wireLanguageLinks } from './http.js';
import { openSocket } from '../shared/socket.js';

const SESSION_KEY = `${STORAGE_PREFIX}chat`;
const STATUS_POLL_MS = 10000;
const EVENTS_POLL_MS = 3000;
const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOW_MS = 4000;
const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 15000;
/** Websocket attempts in a row that never got subscribed before HTTP polling takes over. */
const POLL_AFTER_FAILURES = 3;
const PHASE_RANK = { intro: -1, connecting: 0, queued: 1, active: 2, ended: 3 };

// ---------------------------------------------------------------------------------------
// Small helpers

const $ = (selector) => document.querySelector(selector);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

// ---------------------------------------------------------------------------------------
// State

const state = {
  info: null, // GET /public/info
  session: null, // {chat_id, token, stream}
  phase: 'intro', // intro | connecting | queued | active | ended
  transferred: false,
  endReason: null,
  queue: null, // {position, estimated_wait_minutes, workers_on_shift}
  deliveredUpTo: 0,
  /** client_id -> {client_id, from, body, seq|null, at|null, failed} */
  messages: new Map(),
  /** client_ids of own messages not yet acknowledged, in the order written. */
  outbox: [],
  /** seq -> kind of the milestone notices shown in the conversation. */
  milestones: new Map(),
  connection: 'reconnecting',
  everLive: false,
  sendNotice: null, // {kind:'rate_limited', seconds} | {kind:'invalid'} | {kind:'not_sent_ended'}
  startError: null, // {kind, seconds?}
  endError: false,
  workerTypingUntil: 0,
};

let link = null;
let statusTimer = null;
let typingTimer = null;
let lastTypingSent = 0;

// ---------------------------------------------------------------------------------------
// sessionStorage: {chat_id, token, stream, outbox: [{client_id, body}]}

function readStored() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const stored = JSON.parse(raw);
    if (!stored || typeof stored.chat_id !== 'string' || typeof stored.token !== 'string') return null;
    return stored;
  } catch {
    return null;
  }
}

function persist() {
  if (isLeaving() || !state.session || state.phase === 'ended') return;
  const outbox = state.outbox
    .map((id) => state.messages.get(id))
    .filter(Boolean)
    .map((m) => ({ client_id: m.client_id, body: m.body }));
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ ...state.session, outbox }));
  } catch {
    /* storage full or disabled: the messages still wait in memory */
  }
}

function forgetStored() {
  try {
    sessionStorage.removeItem(SESSION_KEY);
  } catch {
    /* ignore */
  }
}

// ---------------------------------------------------------------------------------------
// The realtime link: websocket first, HTTP polling when the socket keeps failing.

class ChatLink {
  /**
   * handlers: onEvent(event), onTyping(from), onState('live'|'reconnecting'|'offline'),
   * onLive(), onAuthFailed()
   */
  constructor(session, handlers) {
    this.stream = session.stream || `chat:${session.chat_id}`;
    /** The server would not take this page's auth frame: HTTP polling only from then on. */
    this.socketRefused = false;
    this.token = session.token;
    this.handlers = handlers;
    this.lastSeq = 0;
    this.socket = null;
    this.authenticated = false;
    this.subscribed = false;
    this.failures = 0;
    this.stopped = true;
    this.retryTimer = null;
    this.pollTimer = null;
    this.polling = false;
    this.pollFailures = 0;
    this.pollLive = false;
    this.state = null;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => {
      this.setState('offline');
      // A dead network rarely closes a socket by itself: drop it and wait for 'online'.
      this.drop();
      this.scheduleRetry();
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    if (typeof WebSocket === 'undefined') this.startPolling();
    else this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    clearTimeout(this.retryTimer);
    this.stopPolling();
    this.drop();
  }

  get live() {
    return this.subscribed || this.pollLive;
  }

  setState(next) {
    if (next !== 'live' && navigator.onLine === false) next = 'offline';
    if (this.state === next) return;
    this.state = next;
    this.handlers.onState(next);
  }

  reconnectNow() {
    if (this.stopped) return;
    if (typeof WebSocket === 'undefined' || this.socketRefused) {
      this.pollNow();
      return;
    }
    if (this.socket && this.subscribed) return;
    clearTimeout(this.retryTimer);
    this.failures = Math.min(this.failures, 1);
    this.drop();
    this.connect();
    if (this.polling) this.pollNow();
  }

  connect() {
    if (this.stopped || this.socketRefused) return;
    if (navigator.onLine === false) {
      this.setState('offline');
      this.scheduleRetry();
      return;
    }
    if (!this.live) this.setState('reconnecting');
    const socket = openSocket({
      onOpen: () => this.send({ type: 'auth', token: this.token }),
      onFrame: (frame) => this.onFrame(frame),
      onGone: (code) => this.onSocketGone(code),
    });
    if (!socket) {
      this.onSocketGone();
      return;
    }
    this.socket = socket;
    this.authenticated = false;
    this.subscribed = false;
  }

  send(frame) {
    return this.socket ? this.socket.send(frame) : false;
  }

  subscribe() {
    this.send({ type: 'subscribe', stream: this.stream, since: this.lastSeq });
  }

  /** "I am typing" to the worker; only over a live socket. */
  sendTyping() {
    if (!this.subscribed) return false;
    return this.send({ type: 'typing', stream: this.stream });
  }

  onFrame(frame) {
    switch (frame.type) {
      case 'authenticated':
        this.authenticated = true;
        this.subscribe();
        return;
      case 'subscribed':
        if (frame.stream !== this.stream) return;
        this.subscribed = true;
        this.failures = 0;
        this.stopPolling();
        this.setState('live');
        this.handlers.onLive();
        return;
      case 'event':
        if (frame.stream !== this.stream) return;
        this.accept(frame, () => {
          // A gap should never happen: ask again from what we have rather than skip.
          if (this.subscribed) {
            this.subscribed = false;
            this.subscribe();
          }
        });
        return;
      case 'typing':
        if (frame.stream === this.stream && frame.from && frame.from !== 'client') {
          this.handlers.onTyping(frame.from);
        }
        return;
      case 'error':
        if (['unauthorized', 'token_expired', 'forbidden', 'not_found'].includes(frame.code)) {
          // The token is not (or no longer) valid: let the page ask the server why.
          this.handlers.onAuthFailed();
        } else if (!this.authenticated) {
          // The socket refused the auth frame for another reason: it already belongs to
          // someone else (a staff session cookie in this browser makes it a worker's socket,
          // whose typing notices would read as the worker's). Use plain HTTP instead.
          this.socketRefused = true;
          this.drop();
          clearTimeout(this.retryTimer);
          this.startPolling();
        } else {
          console.warn('chat socket error', frame);
        }
        return;
      default:
        return; // pong and future frame types
    }
  }

  /** Passes on the next event in order; `onGap` when one is missing. */
  accept(event, onGap) {
    if (!Number.isFinite(event.seq) || event.seq <= this.lastSeq) return true; // seen already
    if (event.seq !== this.lastSeq + 1) {
      onGap?.();
      return false;
    }
    this.lastSeq = event.seq;
    this.handlers.onEvent(event);
    return true;
  }

  drop() {
    this.socket?.close();
    this.socket = null;
    this.authenticated = false;
    this.subscribed = false;
  }

  onSocketGone(code) {
    const wasSubscribed = this.subscribed;
    this.drop();
    if (this.stopped) return;
    if (code === 1008) {
      // Policy: the token was refused. Reconnecting with it would only fail again.
      this.handlers.onAuthFailed();
    }
    if (wasSubscribed) this.failures = 0;
    this.failures += 1;
    if (this.failures >= POLL_AFTER_FAILURES) this.startPolling();
    if (!this.live) this.setState('reconnecting');
    this.scheduleRetry(code === 1012 ? 1 : this.failures);
  }

  scheduleRetry(failures = this.failures) {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.connect(), backoff(failures, BACKOFF_START_MS, BACKOFF_MAX_MS));
  }

  // --- HTTP polling (GET /api/v1/streams/chat:<id>/events?since=N with the Bearer token)

  startPolling() {
    if (this.polling || this.stopped) return;
    this.polling = true;
    this.pollNow();
  }

  stopPolling() {
    this.polling = false;
    this.pollLive = false;
    clearTimeout(this.pollTimer);
  }

  pollNow() {
    clearTimeout(this.pollTimer);
    this.poll();
  }

  async poll() {
    if (this.stopped || !this.polling) return;
    let again = EVENTS_POLL_MS;
    try {
      const { data } = await api(
        'GET',
        `/api/v1/streams/${encodeURIComponent(this.stream)}/events?since=${this.lastSeq}`,
        { token: this.token },
      );
      if (this.stopped) return;
      const events = Array.isArray(data) ? data : [];
      for (const event of events) {
        if (!this.accept(event)) break; // a gap: the next poll asks from lastSeq again
      }
      this.pollFailures = 0;
      if (!this.subscribed) {
        const wasLive = this.pollLive;
        this.pollLive = true;
        this.setState('live');
        if (!wasLive) this.handlers.onLive();
      }
      if (events.length > 0) again = 50; // maybe a page of many: fetch the rest soon
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
        this.handlers.onAuthFailed();
      }
      this.pollFailures += 1;
      this.pollLive = false;
      if (!this.subscribed) this.setState('reconnecting');
      again = backoff(this.pollFailures, EVENTS_POLL_MS, 30000);
    }
    if (this.stopped || !this.polling) return;
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => this.poll(), again);
  }
}

// ---------------------------------------------------------------------------------------
// Applying what the server says

function setPhase(next) {
  if (PHASE_RANK[next] < PHASE_RANK[state.phase]) return; // never backwards
  state.phase = next;
}

function applyEvent(event) {
  const data = event.data || {};
  switch (event.kind) {
    case 'chat.opened':
      if (state.phase === 'connecting') setPhase('queued');
      break;
    case 'chat.message': {
      const id = data.client_id;
      if (!id) break;
      let message = state.messages.get(id);
      if (!message) {
        message = { client_id: id, from: data.from, body: data.body, seq: null, at: null, failed: false };
        state.messages.set(id, message);
      }
      message.seq = event.seq;
      message.at = event.at;
      if (typeof data.body === 'string') message.body = data.body;
      message.failed = false;
      dropFromOutbox(id);
      if (data.from === 'worker') state.workerTypingUntil = 0;
      renderMessage(message);
      break;
    }
    case 'chat.accepted':
      setPhase('active');
      state.transferred = false;
      state.milestones.set(event.seq, 'accepted');
      renderMilestone(event.seq);
      break;
    case 'chat.transferred':
      setPhase('active');
      state.transferred = true;
      state.milestones.set(event.seq, 'transferred');
      renderMilestone(event.seq);
      break;
    case 'chat.delivered': {
      const upTo = Number(data.up_to);
      if (Number.isFinite(upTo) && upTo > state.deliveredUpTo) {
        state.deliveredUpTo = upTo;
        for (const message of state.messages.values()) {
          if (message.from === 'client' && message.seq !== null) renderMessage(message);
        }
      }
      break;
    }
    case 'chat.ended':
      state.milestones.set(event.seq, 'ended');
      renderMilestone(event.seq);
      endChat(data.reason || null);
      break;
    default:
      break;
  }
  renderState();
}

function dropFromOutbox(id) {
  const index = state.outbox.indexOf(id);
  if (index >= 0) {
    state.outbox.splice(index, 1);
    persist();
  }
}

/** The chat is over: show why, forget the token, stop everything. */
function endChat(reason) {
  if (state.phase === 'ended') {
    if (!state.endReason && reason) state.endReason = reason;
    renderState();
    return;
  }
  state.phase = 'ended';
  state.endReason = reason;
  state.endError = false;
  forgetStored();
  link?.stop();
  clearTimeout(statusTimer);
  statusTimer = null;
  state.workerTypingUntil = 0;
  let unsent = false;
  for (const id of state.outbox) {
    const message = state.messages.get(id);
    if (message) {
      message.failed = true;
      unsent = true;
      renderMessage(message);
    }
  }
  state.outbox = [];
  state.sendNotice = unsent ? { kind: 'not_sent_ended' } : null;
  renderState();
}

/** The token was refused somewhere: ask the server what became of the chat. */
let checkingAuth = false;
async function onAuthFailed() {
  if (checkingAuth || !state.session || state.phase === 'ended') return;
  checkingAuth = true;
  try {
    await refreshStatus();
  } finally {
    checkingAuth = false;
  }
}

async function refreshStatus() {
  const session = state.session;
  if (!session || state.phase === 'ended') return;
  try {
    const { data } = await api('GET', `/api/v1/public/chats/${session.chat_id}`, { token: session.token });
    if (state.session !== session) return;
    state.queue = {
      position: data.position,
      estimated_wait_minutes: data.estimated_wait_minutes,
      workers_on_shift: data.workers_on_shift,
    };
    if (data.state === 'ended') endChat(data.end_reason || null);
    else setPhase(data.state === 'active' ? 'active' : 'queued');
  } catch (err) {
    if (state.session !== session) return;
    if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
      // The token ran out (or the chat is gone): nothing more can be read or written.
      endChat(err.code === 'token_expired' ? 'expired' : null);
    }
    // A network failure changes nothing: the connection indicator already says so.
  }
  renderState();
}

function scheduleStatusPoll() {
  clearTimeout(statusTimer);
  statusTimer = null;
  if (!state.session || state.phase === 'ended') return;
  statusTimer = setTimeout(async () => {
    // Position and estimate are not pushed: ask while waiting; once active, rarely.
    if (state.phase === 'queued' || state.phase === 'connecting') await refreshStatus();
    scheduleStatusPoll();
  }, STATUS_POLL_MS);
}

// ---------------------------------------------------------------------------------------
// Sending: the outbox, retried with the same client_id until acknowledged

let flushing = false;
let flushTimer = null;
let flushFailures = 0;
/** After a 429, nothing is sent before this (Date.now() ms); new messages wait in line. */
let rateLimitedUntil = 0;

function scheduleFlush(ms) {
  clearTimeout(flushTimer);
  flushTimer = setTimeout(() => {
    flushTimer = null;
    flush();
  }, ms);
}

async function flush() {
  if (flushing) return;
  const wait = rateLimitedUntil - Date.now();
  if (wait > 0) {
    if (!flushTimer) scheduleFlush(wait);
    return;
  }
  clearTimeout(flushTimer);
  flushTimer = null;
  flushing = true;
  try {
    while (state.outbox.length && state.session && state.phase !== 'ended' && !isLeaving()) {
      const session = state.session;
      const id = state.outbox[0];
      const message = state.messages.get(id);
      if (!message || message.seq !== null) {
        state.outbox.shift();
        persist();
        continue;
      }
      try {
        const { data } = await api('POST', `/api/v1/public/chats/${session.chat_id}/messages`, {
          token: session.token,
          body: { client_id: id, body: message.body },
        });
        if (state.session !== session) return;
        flushFailures = 0;
        if (state.sendNotice?.kind === 'rate_limited') state.sendNotice = null;
        if (message.seq === null) {
          message.seq = data.seq;
          message.at = data.at;
        }
        dropFromOutbox(id);
        renderMessage(message);
        renderState();
      } catch (err) {
        if (state.session !== session) return;
        if (err instanceof ApiError) {
          if (err.status === 429) {
            const seconds = Math.max(1, Math.ceil(err.retryAfter ?? 10));
            state.sendNotice = { kind: 'rate_limited', seconds };
            rateLimitedUntil = Date.now() + seconds * 1000;
            renderState();
            scheduleFlush(seconds * 1000);
            return;
          }
          if (err.status === 409) {
            // The chat has ended: the status says how.
            await refreshStatus();
            if (state.phase !== 'ended') endChat(null);
            return;
          }
          if (err.status === 401 || err.status === 403 || err.status === 404) {
            await refreshStatus();
            return;
          }
          if (err.status === 422 || err.status === 400) {
            // Refused for what it is (empty, too long): retrying cannot help.
            message.failed = true;
            state.outbox.shift();
            persist();
            state.sendNotice = { kind: 'invalid' };
            renderMessage(message);
            renderState();
            continue;
          }
        }
        // Offline, timeout or a server failure: try again later with the same client_id.
        flushFailures += 1;
        scheduleFlush(backoff(flushFailures, 1000, 30000));
        return;
      }
    }
  } finally {
    flushing = false;
  }
}

function submitMessage() {
  const input = byTestId('message-input');
  const body = input.value.trim();
  if (!body || !state.session || state.phase === 'ended') return;
  if (body.length > 4000) {
    state.sendNotice = { kind: 'invalid' };
    renderState();
    return;
  }
  const message = { client_id: uuid(), from: 'client', body, seq: null, at: null, failed: false };
  state.messages.set(message.client_id, message);
  state.outbox.push(message.client_id);
  persist();
  if (state.sendNotice?.kind === 'invalid') state.sendNotice = null;
  input.value = '';
  renderMessage(message);
  renderState();
  flushFailures = 0;
  flush();
}

// ---------------------------------------------------------------------------------------
// Rendering

function ownStatus(message) {
  if (message.failed) return 'failed';
  if (message.seq === null) return 'sending';
  return message.seq <= state.deliveredUpTo ? 'delivered' : 'sent';
}

function statusText(status) {
  switch (status) {
    case 'sending':
      return t('chat.msg.sending');
    case 'delivered':
      return t('chat.msg.delivered');
    case 'failed':
      return t('chat.msg.failed');
    default:
      return t('chat.msg.sent');
  }
}

function formatTime(at) {
  if (!at) return '';
  try {
    const time = new Intl.DateTimeFormat(locale(), {
      hour: '2-digit',
      minute: '2-digit',
      timeZone: 'Europe/Helsinki',
    }).format(new Date(at));
    return t('chat.msg.time', { time });
  } catch {
    return '';
  }
}

const items = () => $('#message-items');

/** Puts an item in its place: acknowledged by seq, then the pending in the order written. */
function place(li, seq) {
  const list = items();
  let before = null;
  if (seq !== null) {
    for (const other of list.children) {
      if (other === li) continue;
      const otherSeq = other.dataset.seq ? Number(other.dataset.seq) : null;
      if (otherSeq === null || otherSeq > seq) {
        before = other;
        break;
      }
    }
  }
  if (li.parentNode === list) {
    // Already where it belongs? Then leave it (moving an item makes readers announce it again).
    if (seq === null) {
      let next = li.nextElementSibling;
      while (next && !next.dataset.seq) next = next.nextElementSibling;
      if (!next) return;
    } else if (li.nextElementSibling === before) {
      return;
    }
  }
  const box = list.parentElement;
  const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
  list.insertBefore(li, before);
  // Follow the conversation, unless the reader has scrolled up to read earlier messages.
  if (atEnd || li.dataset.from === 'client') box.scrollTop = box.scrollHeight;
}

function messageElement(id) {
  return items().querySelector(`li[data-client-id="${CSS.escape(id)}"]`);
}

function renderMessage(message) {
  let li = messageElement(message.client_id);
  if (!li) {
    li = document.createElement('li');
    li.className = 'msg';
    li.setAttribute('data-testid', 'message');
    li.dataset.clientId = message.client_id;
    const who = document.createElement('p');
    who.className = 'msg-who';
    const body = document.createElement('p');
    body.className = 'msg-body';
    const meta = document.createElement('p');
    meta.className = 'msg-meta';
    const time = document.createElement('span');
    time.className = 'msg-time';
    const status = document.createElement('span');
    status.className = 'msg-status';
    meta.append(time, status);
    li.append(who, body, meta);
  }
  const own = message.from === 'client';
  li.dataset.from = own ? 'client' : 'worker';
  li.classList.toggle('msg-own', own);
  li.classList.toggle('msg-worker', !own);
  if (message.seq !== null) li.dataset.seq = String(message.seq);
  else delete li.dataset.seq;
  const status = own ? ownStatus(message) : null;
  if (status) li.dataset.status = status;
  else delete li.dataset.status;
  li.querySelector('.msg-who').textContent = own ? t('chat.who.client') : t('chat.who.worker');
  const bodyEl = li.querySelector('.msg-body');
  const text = message.body ?? '';
  if (bodyEl.textContent !== text) bodyEl.textContent = text;
  li.querySelector('.msg-time').textContent = formatTime(message.at);
  li.querySelector('.msg-status').textContent = status ? statusText(status) : '';
  place(li, message.seq);
}

function milestoneText(kind) {
  switch (kind) {
    case 'accepted':
      return t('chat.event.accepted');
    case 'transferred':
      return t('chat.event.transferred');
    default:
      return t('chat.event.ended');
  }
}

function renderMilestone(seq) {
  const kind = state.milestones.get(seq);
  if (!kind) return;
  let li = items().querySelector(`li.milestone[data-seq="${seq}"]`);
  if (!li) {
    li = document.createElement('li');
    li.className = 'milestone';
    li.dataset.seq = String(seq);
    li.dataset.kind = kind;
  }
  li.textContent = milestoneText(kind);
  place(li, seq);
}

function endedText(reason) {
  switch (reason) {
    case 'client':
      return t('chat.ended.client');
    case 'quick_exit':
      return t('chat.ended.quick_exit');
    case 'worker':
      return t('chat.ended.worker');
    case 'idle':
      return t('chat.ended.idle');
    case 'expired':
      return t('chat.ended.expired');
    default:
      return t('chat.ended.unknown');
  }
}

function statusLine() {
  switch (state.phase) {
    case 'queued':
      return t('chat.status.queued');
    case 'active':
      return state.transferred ? t('chat.status.transferred') : t('chat.status.active');
    case 'ended':
      return t('chat.status.ended');
    default:
      return t('chat.status.connecting');
  }
}

function connectionText() {
  switch (state.connection) {
    case 'live':
      return t('chat.conn.live');
    case 'offline':
      return t('chat.conn.offline');
    default:
      return state.everLive ? t('chat.conn.reconnecting') : t('chat.conn.connecting');
  }
}

function sendNoticeText(notice) {
  switch (notice?.kind) {
    case 'rate_limited':
      return t('chat.notice.rate_limited', { seconds: notice.seconds });
    case 'invalid':
      return t('chat.notice.invalid');
    case 'not_sent_ended':
      return t('chat.notice.not_sent_ended');
    default:
      return '';
  }
}

function startErrorText(error) {
  switch (error?.kind) {
    case 'rate_limited':
      return t('chat.start_error.rate_limited', { seconds: error.seconds });
    case 'network':
      return t('chat.start_error.network');
    case 'server':
      return t('chat.start_error.server');
    default:
      return '';
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** Everything outside the message list, from the state. */
function renderState() {
  const inChat = state.session !== null || state.phase === 'ended';
  $('#intro').hidden = inChat;
  $('#chat').hidden = !inChat;

  // Before the chat
  const nobody = state.info && state.info.workers_on_shift === 0;
  $('#intro-nobody').hidden = !nobody || inChat;
  const startError = $('#start-error');
  startError.hidden = !state.startError;
  setText(startError, startErrorText(state.startError));

  // Status line
  const status = byTestId('chat-status');
  const statusState = state.phase === 'intro' ? 'connecting' : state.phase;
  if (status.dataset.state !== statusState) status.dataset.state = statusState;
  setText(status, statusLine());

  // Connection
  const conn = byTestId('connection-state');
  if (conn.dataset.state !== state.connection) conn.dataset.state = state.connection;
  setText($('#conn-text'), connectionText());
  conn.hidden = state.phase === 'ended';

  // Queue
  const queue = state.queue;
  const queued = state.phase === 'queued' && queue;
  $('#queue').hidden = !queued;
  if (queued) {
    setText(
      byTestId('queue-position'),
      Number.isFinite(queue.position) ? t('chat.queue.position', { position: queue.position }) : '',
    );
    let estimate;
    if (queue.workers_on_shift === 0) estimate = t('chat.queue.nobody_on_shift');
    else if (Number.isFinite(queue.estimated_wait_minutes))
      estimate = t('chat.queue.estimate', { minutes: queue.estimated_wait_minutes });
    else estimate = t('chat.queue.no_estimate');
    setText(byTestId('queue-estimate'), estimate);
    byTestId('queue-estimate').classList.toggle('queue-nobody', queue.workers_on_shift === 0);
  }

  // Worker typing
  const typing = Date.now() < state.workerTypingUntil && state.phase !== 'ended';
  setText(byTestId('typing-indicator'), typing ? t('chat.typing') : '');

  // Notices
  const notice = $('#send-notice');
  notice.hidden = !state.sendNotice;
  setText(notice, sendNoticeText(state.sendNotice));

  // Writing and ending
  const ended = state.phase === 'ended';
  $('#composer').hidden = ended;
  $('#end-area').hidden = ended;
  const endError = $('#end-error');
  endError.hidden = !state.endError;
  setText(endError, state.endError ? t('chat.end_error.network') : '');

  // The end notice
  const endedSection = byTestId('chat-ended');
  endedSection.hidden = !ended;
  endedSection.dataset.reason = ended ? state.endReason || 'unknown' : '';
  setText($('#ended-reason'), ended ? endedText(state.endReason) : '');
}

function rerenderAll() {
  renderState();
  for (const message of state.messages.values()) renderMessage(message);
  for (const seq of state.milestones.keys()) renderMilestone(seq);
  renderInfo();
  renderLanguageSwitch();
}

function renderInfo() {
  // How long the words are kept, in days when the server says so.
  const days = state.info?.transcript_retention_days;
  setText($('#intro-deleted'), days ? t('chat.intro.deleted_days', { days }) : t('chat.intro.deleted'));
  const link = byTestId('oncall-phone');
  const phone = state.info?.oncall_phone;
  if (!phone) return;
  link.href = telHref(phone);
  setText($('#oncall-number'), phone);
  link.hidden = false;
}

function renderLanguageSwitch() {
  renderLanguageLinks(byTestId('chat-language'));
}

// ---------------------------------------------------------------------------------------
// Opening, resuming, ending

function resetConversation() {
  link?.stop();
  link = null;
  clearTimeout(statusTimer);
  clearTimeout(flushTimer);
  statusTimer = null;
  flushTimer = null;
  rateLimitedUntil = 0;
  state.session = null;
  state.phase = 'intro';
  state.transferred = false;
  state.endReason = null;
  state.queue = null;
  state.deliveredUpTo = 0;
  state.messages = new Map();
  state.outbox = [];
  state.milestones = new Map();
  state.connection = 'reconnecting';
  state.everLive = false;
  state.sendNotice = null;
  state.endError = false;
  state.workerTypingUntil = 0;
  items().replaceChildren();
}

/** Joins a chat (new, or resumed from sessionStorage with its unsent messages). */
function begin(session, outbox = []) {
  resetConversation();
  state.session = { chat_id: session.chat_id, token: session.token, stream: session.stream || `chat:${session.chat_id}` };
  state.phase = 'connecting';
  for (const pending of outbox) {
    if (!pending || typeof pending.client_id !== 'string' || typeof pending.body !== 'string') continue;
    const message = { client_id: pending.client_id, from: 'client', body: pending.body, seq: null, at: null, failed: false };
    state.messages.set(message.client_id, message);
    state.outbox.push(message.client_id);
    renderMessage(message);
  }
  persist();
  renderState();

  link = new ChatLink(state.session, {
    onEvent: applyEvent,
    onTyping: () => {
      state.workerTypingUntil = Date.now() + TYPING_SHOW_MS;
      renderState();
      clearTimeout(typingTimer);
      typingTimer = setTimeout(renderState, TYPING_SHOW_MS + 50);
    },
    onState: (next) => {
      state.connection = next;
      if (next === 'live') state.everLive = true;
      renderState();
    },
    onLive: () => {
      // Back in touch: send what waited, and see whether the chat changed meanwhile.
      flushFailures = 0;
      flush();
      refreshStatus();
    },
    onAuthFailed,
  });
  link.start();
  refreshStatus().then(scheduleStatusPoll);
  flush();
}

let starting = false;

async function startChat() {
  if (starting) return;
  starting = true;
  const button = byTestId('chat-start');
  const again = byTestId('chat-new');
  button.disabled = true;
  again.disabled = true;
  state.startError = null;
  renderState();
  try {
    const { data } = await api('POST', '/api/v1/public/chats', { body: { language: language() } });
    state.startError = null;
    begin({ chat_id: data.chat_id, token: data.token, stream: data.stream });
    byTestId('message-input').focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 429) {
      state.startError = { kind: 'rate_limited', seconds: Math.max(1, Math.ceil(err.retryAfter ?? 60)) };
    } else if (err instanceof NetworkError) {
      state.startError = { kind: 'network' };
    } else {
      state.startError = { kind: 'server' };
    }
    if (state.phase === 'ended') {
      // "Start a new chat" failed: go back to the introduction to show why.
      resetConversation();
    }
    renderState();
    $('#start-error').scrollIntoView?.({ block: 'nearest' });
  } finally {
    starting = false;
    button.disabled = false;
    again.disabled = false;
  }
}

async function endByClient() {
  const session = state.session;
  if (!session || state.phase === 'ended') return;
  const confirm = byTestId('chat-end-confirm');
  confirm.disabled = true;
  try {
    await api('POST', `/api/v1/public/chats/${session.chat_id}/end`, {
      token: session.token,
      body: { reason: 'client' },
    });
    hideEndConfirm();
    endChat('client');
    $('#ended-heading').focus();
  } catch (err) {
    if (err instanceof ApiError && [401, 403, 404, 409].includes(err.status)) {
      hideEndConfirm();
      await refreshStatus();
      if (state.phase !== 'ended') endChat(null);
      $('#ended-heading').focus();
    } else {
      state.endError = true;
      renderState();
    }
  } finally {
    confirm.disabled = false;
  }
}

function showEndConfirm() {
  $('#end-confirm').hidden = false;
  byTestId('chat-end').setAttribute('aria-expanded', 'true');
  $('#end-cancel').focus();
}

function hideEndConfirm() {
  $('#end-confirm').hidden = true;
  byTestId('chat-end').setAttribute('aria-expanded', 'false');
  state.endError = false;
}

/** Quick exit: end the chat on the server even while the page unloads. */
function beaconEnd() {
  const session = state.session;
  link?.stop();
  clearTimeout(statusTimer);
  clearTimeout(flushTimer);
  if (!session || state.phase === 'ended') return;
  const url = `/api/v1/public/chats/${session.chat_id}/end`;
  const payload = JSON.stringify({ reason: 'quick_exit', token: session.token });
  let queued = false;
  try {
    queued = navigator.sendBeacon?.(url, new Blob([payload], { type: 'application/json' })) === true;
  } catch {
    queued = false;
  }
  if (!queued) {
    // sendBeacon refused (e.g. disabled): a keepalive fetch also outlives the page.
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: payload,
      keepalive: true,
      credentials: 'omit',
    }).catch(() => {});
  }
}

async function loadInfo(attempt = 0) {
  try {
    const { data } = await api('GET', '/api/v1/public/info');
    state.info = data;
    renderInfo();
    renderState();
  } catch {
    setTimeout(() => loadInfo(attempt + 1), backoff(attempt + 1, 2000, 30000));
  }
}

// ---------------------------------------------------------------------------------------
// Wiring

function wire() {
  installQuickExit({ button: byTestId('quick-exit') });
  onQuickExit(beaconEnd);

  byTestId('chat-start').addEventListener('click', startChat);
  byTestId('chat-new').addEventListener('click', startChat);

  $('#composer').addEventListener('submit', (event) => {
    event.preventDefault();
    submitMessage();
    byTestId('message-input').focus();
  });
  const input = byTestId('message-input');
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitMessage();
    }
  });
  input.addEventListener('input', () => {
    if (!input.value.trim() || !link) return;
    if (state.phase !== 'queued' && state.phase !== 'active') return;
    const now = Date.now();
    if (now - lastTypingSent < TYPING_SEND_EVERY_MS) return;
    if (link.sendTyping()) lastTypingSent = now;
  });

  byTestId('chat-end').addEventListener('click', () => {
    if ($('#end-confirm').hidden) showEndConfirm();
    else hideEndConfirm();
  });
  byTestId('chat-end-confirm').addEventListener('click', endByClient);
  $('#end-cancel').addEventListener('click', () => {
    hideEndConfirm();
    renderState();
    byTestId('chat-end').focus();
  });
  $('#end-confirm').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      hideEndConfirm();
      renderState();
      byTestId('chat-end').focus();
    }
  });

  wireLanguageLinks(byTestId('chat-language'));

  window.addEventListener('online', () => {
    flushFailures = 0;
    flush();
  });
}

async function main() {
  wire();
  onLanguageChange(rerenderAll);
  try {
    await setLanguage(detectLanguage());
  } catch (err) {
    console.error(err);
  }
  preloadLanguages();
  loadInfo();
  const stored = readStored();
  if (stored) begin(stored, Array.isArray(stored.outbox) ? stored.outbox : []);
  else renderState();
}

main();
