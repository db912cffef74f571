// The realtime socket: subscribe to the desk stream from the last seen sequence number,
// heartbeat, and reconnect with backoff so nothing is missed or doubled. Further streams
// (the chats a worker has open, `chat:<id>`) ride on the same socket with follow(), each
// resumed from its own last sequence number; their typing notices go to their handlers.

import { backoff } from '../shared/backoff.js';
import { openSocket } from '../shared/socket.js';

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 10000;
/** Failed attempts in a row before the indicator says offline instead of reconnecting. */
const OFFLINE_AFTER_FAILURES = 5;

export class LiveConnection {
  /**
   * handlers: onEvent(frame), onPresence(online), onState(state), onSubscribed(head),
   * onResyncNeeded() -> Promise<head> (the list was reloaded; subscribe from head),
   * onRepeatedFailure(failures) (e.g. to check whether the session expired).
   */
  constructor(stream, since, handlers) {
    this.stream = stream;
    this.handlers = handlers;
    /** The main stream and the followed ones: stream -> {lastSeq, subscribed, handlers}. */
    this.main = { lastSeq: since, subscribed: false, handlers };
    this.feeds = new Map([[stream, this.main]]);
    this.socket = null;
    this.state = null;
    this.failures = 0;
    this.stopped = true;
    this.retryTimer = null;
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
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    clearTimeout(this.retryTimer);
    this.drop();
  }

  /** Skip the backoff wait (the network came back, the user logged in again, …). */
  reconnectNow() {
    if (this.stopped) return;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN && this.subscribed) return;
    clearTimeout(this.retryTimer);
    this.failures = Math.min(this.failures, 1);
    this.drop();
    this.connect();
  }

  /** The main stream's last sequence number seen. */
  get lastSeq() {
    return this.main.lastSeq;
  }

  set lastSeq(seq) {
    this.main.lastSeq = seq;
  }

  /** Whether the main stream has caught up on this socket. */
  get subscribed() {
    return this.main.subscribed;
  }

  set subscribed(value) {
    this.main.subscribed = value;
  }

  /**
   * Follows one more stream on this socket from `since`, also after every reconnect.
   * handlers: onEvent(frame, {replay}), onSubscribed(head), onTyping(frame), onError(frame).
   * Following a stream again replaces its handlers and keeps its position.
   */
  follow(stream, since, handlers) {
    const known = this.feeds.get(stream);
    if (known) {
      known.handlers = handlers;
      return;
    }
    const feed = { lastSeq: since, subscribed: false, handlers };
    this.feeds.set(stream, feed);
    if (this.isOpen()) this.subscribeFeed(stream, feed);
  }

  unfollow(stream) {
    if (stream === this.stream || !this.feeds.delete(stream)) return;
    this.send({ type: 'unsubscribe', stream });
  }

  /** "I am typing" in a followed chat stream (the caller keeps it to about one per 2 s). */
  typing(stream) {
    if (this.feeds.get(stream)?.subscribed) this.send({ type: 'typing', stream });
  }

  isOpen() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  setState(state) {
    if (state !== 'live' && navigator.onLine === false) state = 'offline';
    if (this.state === state) return;
    this.state = state;
    this.handlers.onState?.(state);
  }

  connect() {
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.setState('offline');
      this.scheduleRetry();
      return;
    }
    this.setState(this.failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting');
    const socket = openSocket({
      onOpen: () => this.subscribe(),
      onFrame: (frame) => this.onFrame(frame),
      onGone: () => this.onSocketGone(),
    });
    if (!socket) {
      this.onSocketGone();
      return;
    }
    this.socket = socket;
    for (const feed of this.feeds.values()) feed.subscribed = false;
  }

  /** (Re)subscribes every stream from where it was left. */
  subscribe() {
    for (const [stream, feed] of this.feeds) this.subscribeFeed(stream, feed);
  }

  subscribeFeed(stream, feed) {
    feed.subscribed = false;
    this.send({ type: 'subscribe', stream, since: feed.lastSeq });
  }

  send(frame) {
    this.socket?.send(frame);
  }

  async onFrame(frame) {
    const feed = typeof frame.stream === 'string' ? this.feeds.get(frame.stream) : undefined;
    switch (frame.type) {
      case 'event':
        if (!feed) return;
        if (frame.seq <= feed.lastSeq) return; // already seen (replay overlap)
        if (frame.seq !== feed.lastSeq + 1) {
          // A gap should never happen. Live: ask again from what we have rather than skip.
          // While a (re)subscription replays, a stray frame from before it is dropped; the
          // replay delivers it in order.
          if (feed.subscribed) this.subscribeFeed(frame.stream, feed);
          return;
        }
        feed.lastSeq = frame.seq;
        feed.handlers.onEvent?.(frame, { replay: !feed.subscribed });
        return;
      case 'subscribed':
        if (!feed) return;
        feed.subscribed = true;
        if (feed === this.main) {
          this.failures = 0;
          this.setState('live');
        }
        feed.handlers.onSubscribed?.(frame.head);
        return;
      case 'typing':
        feed?.handlers.onTyping?.(frame);
        return;
      case 'presence':
        this.handlers.onPresence?.(frame.online || []);
        return;
      case 'error':
        if (feed && feed !== this.main) {
          feed.handlers.onError?.(frame);
          return;
        }
        if (feed === this.main && frame.code === 'validation_failed') {
          // `since` is beyond the head (e.g. the server's data was restored): start over
          // from a freshly loaded list.
          this.subscribed = false;
          try {
            const head = await this.handlers.onResyncNeeded?.();
            if (Number.isFinite(head)) this.lastSeq = head;
          } catch {
            this.onSocketGone();
            return;
          }
          this.subscribeFeed(this.stream, this.main);
        } else {
          console.warn('server error frame', frame);
        }
        return;
      default:
        return; // pong and future frame types
    }
  }

  drop() {
    this.socket?.close();
    this.socket = null;
    for (const feed of this.feeds.values()) feed.subscribed = false;
  }

  onSocketGone() {
    const wasSubscribed = this.subscribed;
    this.drop();
    if (this.stopped) return;
    if (!wasSubscribed) this.failures += 1;
    else this.failures = 0;
    if (this.failures >= 2) this.handlers.onRepeatedFailure?.(this.failures);
    this.setState(
      navigator.onLine === false || this.failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting',
    );
    this.scheduleRetry();
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.connect(), backoff(this.failures, BACKOFF_START_MS, BACKOFF_MAX_MS));
  }
}
