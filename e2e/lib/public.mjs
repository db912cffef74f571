// Helpers for the public pages (/chat, /report): their own UI catalogs, and the worker's
// side of a chat driven through the HTTP API from Node, as a worker's console would.
import { readFileSync } from 'node:fs';
import { WAIT, assertAllTranslated } from './browser.mjs';

/** The public pages' UI texts of every language (web/i18n/public/<lang>.json). */
export const publicMessages = Object.fromEntries(
  ['fi', 'sv', 'en'].map((lang) => [
    lang,
    JSON.parse(readFileSync(new URL(`../../web/i18n/public/${lang}.json`, import.meta.url))),
  ]),
);

/** Every visible element marked for translation shows the language's public text. */
export function assertPublicTranslated(page, lang) {
  return assertAllTranslated(page, lang, publicMessages);
}

/**
 * Logs a worker in with fetch (POST /api/v1/session) and returns an API client that sends
 * the session cookie, and X-CSRF-Token on writes.
 */
export async function workerApi(base, account) {
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: account.username, password: account.password }),
  });
  if (res.status !== 200) throw new Error(`login ${account.username}: HTTP ${res.status} ${await res.text()}`);
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const { csrf_token: csrf } = await res.json();
  const cookie = cookies.join('; ');

  async function call(method, path, body) {
    const headers = { Cookie: cookie, Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: r.status, body: json };
  }

  /** Like call(), but fails the test unless the status is one of `ok`. */
  async function must(method, path, body, ok = [200, 201, 204]) {
    const r = await call(method, path, body);
    if (!ok.includes(r.status)) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  return {
    cookies: cookies.map((c) => {
      const i = c.indexOf('=');
      return { name: c.slice(0, i), value: c.slice(i + 1) };
    }),
    call,
    get: (path) => must('GET', path),
    post: (path, body) => must('POST', path, body),
    accept: (chatId) => must('POST', `/api/v1/chats/${chatId}/accept`),
    say: (chatId, body) => must('POST', `/api/v1/chats/${chatId}/messages`, { client_id: crypto.randomUUID(), body }),
    delivered: (chatId, seq) => must('POST', `/api/v1/chats/${chatId}/delivered`, { seq }),
    end: (chatId) => must('POST', `/api/v1/chats/${chatId}/end`),
    chat: (chatId) => must('GET', `/api/v1/chats/${chatId}`),
    transcript: (chatId) => must('GET', `/api/v1/chats/${chatId}/messages`),
  };
}

/** Polls `fn` until it returns a truthy value (bounded); returns that value. */
export async function eventually(fn, { timeout = WAIT, every = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last?.stack ?? JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/** Clicks "Start chat" (or another opener) and returns the chat the server opened. */
export async function startChat(page, testId = 'chat-start') {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/public/chats') && r.request().method() === 'POST', {
      timeout: WAIT,
    }),
    page.getByTestId(testId).click(),
  ]);
  if (response.status() !== 201) throw new Error(`opening a chat: HTTP ${response.status()}`);
  const opened = await response.json();
  await page.getByTestId('chat-status').and(page.locator('[data-state="queued"], [data-state="active"]')).waitFor({ timeout: WAIT });
  return opened;
}

/**
 * A worker's realtime socket in a page of its own browser context (it carries the session
 * cookie), for what only the socket does: typing notices both ways.
 */
export async function workerSocket(browser, base, worker, chatId) {
  const context = await browser.newContext();
  await context.addCookies(worker.cookies.map((c) => ({ ...c, url: base })));
  const page = await context.newPage();
  await page.goto(`${base}/healthz`);
  await page.evaluate(
    (stream) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/api/v1/ws`);
        window.__typing = [];
        window.__ws = ws;
        ws.onmessage = (m) => {
          const frame = JSON.parse(m.data);
          if (frame.type === 'typing') window.__typing.push(frame.from);
          if (frame.type === 'subscribed') resolve();
        };
        ws.onerror = () => reject(new Error('worker socket failed'));
        ws.onopen = () => ws.send(JSON.stringify({ type: 'subscribe', stream, since: 0 }));
      }),
    `chat:${chatId}`,
  );
  return {
    typing: () => page.evaluate((stream) => window.__ws.send(JSON.stringify({ type: 'typing', stream })), `chat:${chatId}`),
    typingFrom: () => page.evaluate(() => [...window.__typing]),
    close: () => context.close(),
  };
}
