// The API websocket (/api/v1/ws) with a heartbeat, for the console's LiveConnection
// (console/live.js) and the public chat's ChatLink (public/chat.js). Only the plumbing is
// shared: what to send on open, how failures are counted, when to retry, fall back to
// polling or show offline stay with each page.

const PING_EVERY_MS = 20000;
/** Silence this long counts as gone: a dead network rarely closes a socket by itself. */
const DEAD_AFTER_MS = 45000;
const WATCH_EVERY_MS = 5000;

/**
 * Opens the socket. handlers: onOpen() once it is open, onFrame(frame) for every JSON
 * frame, onGone(code) once when it closes (with the close code) or falls silent; the socket
 * is closed by then. Returns null when no socket could be created at all, else
 * {readyState, send(frame) -> whether it went out, close()}; after close() no handler runs.
 */
export function openSocket({ onOpen, onFrame, onGone }) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  let ws;
  try {
    ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
  } catch {
    return null;
  }
  let closed = false;
  let lastHeard = Date.now();
  let pingTimer = null;
  let watchTimer = null;

  const socket = {
    get readyState() {
      return ws.readyState;
    },
    send(frame) {
      if (closed || ws.readyState !== WebSocket.OPEN) return false;
      try {
        ws.send(JSON.stringify(frame));
        return true;
      } catch {
        return false; // the close handler reconnects
      }
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(pingTimer);
      clearInterval(watchTimer);
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        /* ignore */
      }
    },
  };
  const gone = (code) => {
    if (closed) return;
    socket.close();
    onGone(code);
  };

  ws.onopen = () => {
    lastHeard = Date.now();
    onOpen();
    if (closed) return;
    pingTimer = setInterval(() => socket.send({ type: 'ping' }), PING_EVERY_MS);
    watchTimer = setInterval(() => {
      if (Date.now() - lastHeard > DEAD_AFTER_MS) gone();
    }, WATCH_EVERY_MS);
  };
  ws.onmessage = (message) => {
    lastHeard = Date.now();
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    onFrame(frame);
  };
  ws.onclose = (event) => gone(event.code);
  ws.onerror = () => {
    /* onclose follows */
  };
  return socket;
}
