// The chat desk in a real browser: anonymous clients (driven through the public HTTP API)
// wait in a risk-ranked queue, workers take and answer them, hand them to a colleague, and
// the desk is alerted about new chats and imminent risk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { seriousViolations, messages, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';

const e2e = suite({
  async onContext(context, options) {
    if (options.permissions?.includes('notifications')) {
      // Records the system notifications the console shows.
      await context.addInitScript(() => {
        window.shownNotifications = [];
        const Real = window.Notification;
        window.Notification = class extends Real {
          constructor(title, opts) {
            window.shownNotifications.push({ title, body: opts?.body });
            super(title, opts);
          }
        };
      });
    }
  },
});
const { worker } = e2e;
/** Every chat a test opened; each test ends its own so the next one starts with an empty queue. */
const opened = [];

// ---- The anonymous client, through the public API ----

async function clientCall(chat, method, path, body) {
  const res = await fetch(`${e2e.server.base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${chat.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Opens a chat as an anonymous client: {chat_id, token}. */
async function openChat(language = 'fi') {
  const res = await fetch(`${e2e.server.base}/api/v1/public/chats`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ language }),
  });
  assert.equal(res.status, 201);
  const chat = await res.json();
  opened.push(chat);
  return chat;
}

function say(chat, body) {
  return clientCall(chat, 'POST', `/api/v1/public/chats/${chat.chat_id}/messages`, { client_id: randomUUID(), body });
}

/** What the client's own stream carries (as the public chat page reads it). */
function clientEvents(chat) {
  return clientCall(chat, 'GET', `/api/v1/streams/chat:${chat.chat_id}/events?since=0`);
}

/** Polls the client's stream until `predicate(events)` holds (bounded). */
async function waitForClientEvents(chat, predicate, what) {
  const until = Date.now() + WAIT;
  let events = [];
  while (Date.now() < until) {
    events = await clientEvents(chat);
    if (predicate(events)) return events;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`the client's stream never showed ${what}: ${JSON.stringify(events.map((e) => e.kind))}`);
}

/** The clients leave: every chat opened so far ends (ending twice is fine). */
async function endAll() {
  for (const chat of opened.splice(0)) {
    await clientCall(chat, 'POST', `/api/v1/public/chats/${chat.chat_id}/end`, { reason: 'client' });
  }
}

// ---- The console ----

const queueRow = (page, chat) => page.locator(`[data-testid="chat-queue-row"][data-chat-id="${chat.chat_id}"]`);
const chatWindow = (page, chat) => page.locator(`[data-testid="chat-window"][data-chat-id="${chat.chat_id}"]`);

async function queueOrder(page) {
  return page.getByTestId('chat-queue-row').evaluateAll((rows) => rows.map((row) => row.dataset.chatId));
}

test('the queue ranks risk above waiting time, and "Take next" gives the most urgent chat', async () => {
  const w = await worker('oncall');
  try {
    await w.page.getByTestId('chat-queue-empty').waitFor({ timeout: WAIT });
    const a = await openChat('fi');
    await say(a, 'Hei, kysyisin toimeentulotuesta');
    await queueRow(w.page, a).waitFor({ timeout: WAIT });
    const b = await openChat('fi');
    await say(b, 'Ajattelen itsemurhaa');
    await w.page.locator(`[data-testid="chat-queue-row"][data-chat-id="${b.chat_id}"][data-risk="high"]`).waitFor({ timeout: WAIT });

    // B came later but is at risk: above A.
    const order = await queueOrder(w.page);
    assert.ok(order.indexOf(b.chat_id) >= 0 && order.indexOf(b.chat_id) < order.indexOf(a.chat_id), order.join(', '));
    const rowB = queueRow(w.page, b);
    const text = await rowB.innerText();
    assert.match(text, new RegExp(messages.fi['chat_signal.suicide']));
    assert.match(text, /korkea/i, 'the risk is written out, not only a colour');
    assert.match(text, /odottanut/);
    assert.match(await queueRow(w.page, a).innerText(), /ei merkkejä/);

    await w.page.getByTestId('chat-take-next').click();
    await chatWindow(w.page, b).waitFor({ timeout: WAIT });
    await chatWindow(w.page, b).getByTestId('chat-window-message').filter({ hasText: 'Ajattelen itsemurhaa' }).waitFor({ timeout: WAIT });
    // B left the queue; A still waits.
    await queueRow(w.page, b).waitFor({ state: 'detached', timeout: WAIT });
    assert.equal(await queueRow(w.page, a).count(), 1);
    await waitForClientEvents(b, (events) => events.some((e) => e.kind === 'chat.accepted'), 'chat.accepted');
    assert.deepEqual(w.errors, []);
  } finally {
    await endAll();
    await w.context.close();
  }
});

test('a whole conversation: accept, reply, a ready reply in the chat\'s language, delivered marks, typing, end, and the entry with its transcript', async () => {
  const w = await worker('oncall');
  const client = await e2e.browser.newContext();
  try {
    const chat = await openChat('sv');
    await say(chat, 'Hej, jag behöver prata med någon');
    await queueRow(w.page, chat).getByTestId('chat-accept').click();
    const win = chatWindow(w.page, chat);
    await win.waitFor({ timeout: WAIT });
    await win.locator('[data-testid="chat-window-message"][data-from="client"]').filter({ hasText: 'behöver prata' }).waitFor({ timeout: WAIT });
    assert.match(await win.locator('h3').innerText(), /sv/);

    // The client's message was shown: the client's stream says it was delivered.
    const events = await waitForClientEvents(chat, (evs) => evs.some((e) => e.kind === 'chat.delivered'), 'chat.delivered');
    const clientSeq = events.find((e) => e.kind === 'chat.message' && e.data.from === 'client').seq;
    assert.equal(events.find((e) => e.kind === 'chat.delivered').data.up_to, clientSeq);

    // The worker replies from the reply box; the client receives it exactly once.
    const reply = `Hej, jag heter Anna ${Date.now()}`;
    await win.getByTestId('chat-reply-input').fill(reply);
    await win.getByTestId('chat-reply-send').click();
    await win.locator('[data-testid="chat-window-message"][data-from="worker"][data-seq]').filter({ hasText: reply }).waitFor({ timeout: WAIT });
    const afterReply = await waitForClientEvents(chat, (evs) => evs.some((e) => e.kind === 'chat.message' && e.data.body === reply), 'the reply');
    assert.equal(afterReply.filter((e) => e.kind === 'chat.message' && e.data.body === reply).length, 1);
    assert.equal(await win.getByTestId('chat-reply-input').inputValue(), '');

    // Written while the network is down: kept, retried with the same client_id, sent once.
    await w.context.setOffline(true);
    const offline = `Kirjoitettu ilman verkkoa ${Date.now()}`;
    await win.getByTestId('chat-reply-input').fill(offline);
    await win.getByTestId('chat-reply-send').click();
    await win.locator('[data-testid="chat-window-message"][data-status="retrying"]').filter({ hasText: offline }).waitFor({ timeout: WAIT });
    // Meanwhile the client writes: the window catches up after the reconnect.
    const missed = await say(chat, 'Hallå? Är du kvar?');
    await w.context.setOffline(false);
    await win.locator(`[data-testid="chat-window-message"][data-seq="${missed.seq}"]`).waitFor({ timeout: WAIT });
    await win.locator('[data-testid="chat-window-message"][data-seq]').filter({ hasText: offline }).waitFor({ timeout: WAIT });
    const afterOffline = await waitForClientEvents(chat, (evs) => evs.some((e) => e.kind === 'chat.message' && e.data.body === offline), 'the message written offline');
    assert.equal(afterOffline.filter((e) => e.kind === 'chat.message' && e.data.body === offline).length, 1);
    assert.equal(await win.getByTestId('chat-window-message').filter({ hasText: offline }).count(), 1);

    // A ready reply comes in the chat's language (Swedish), not the console's (Finnish).
    await win.getByTestId('chat-canned').selectOption('safety');
    assert.equal(await win.getByTestId('chat-reply-input').inputValue(), 'Är du i säkerhet just nu?');
    await win.getByTestId('chat-reply-input').press('Enter');
    await waitForClientEvents(chat, (evs) => evs.some((e) => e.kind === 'chat.message' && e.data.body === 'Är du i säkerhet just nu?'), 'the ready reply');

    // The client types (over its own websocket, as the public page does): the worker sees it.
    const clientPage = await client.newPage();
    await clientPage.goto(`${e2e.server.base}/healthz`);
    await clientPage.evaluate(
      ({ token, stream }) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`ws://${location.host}/api/v1/ws`);
          ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
          ws.onmessage = (m) => {
            const frame = JSON.parse(m.data);
            if (frame.type === 'authenticated') {
              ws.send(JSON.stringify({ type: 'typing', stream }));
              resolve();
            } else if (frame.type === 'error') reject(new Error(frame.message));
          };
        }),
      { token: chat.token, stream: `chat:${chat.chat_id}` },
    );
    await win.getByTestId('chat-typing').waitFor({ state: 'visible', timeout: WAIT });

    // A second message from the client shows, and is marked delivered in turn.
    const second = await say(chat, 'Jag är hemma, det är lugnt nu');
    await win.locator(`[data-testid="chat-window-message"][data-seq="${second.seq}"]`).waitFor({ timeout: WAIT });
    await waitForClientEvents(chat, (evs) => evs.some((e) => e.kind === 'chat.delivered' && e.data.up_to === second.seq), 'delivered up to the second message');
    // Every message once, in order.
    const seqs = await win.locator('[data-testid="chat-window-message"][data-seq]').evaluateAll((els) => els.map((el) => Number(el.dataset.seq)));
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y));

    assert.deepEqual(await seriousViolations(w.page), [], 'console with a chat window');

    // End: confirm, the client is told, the window stays to open the entry.
    await win.getByTestId('chat-end').click();
    await win.getByTestId('chat-end-confirm').click();
    await w.page.locator(`[data-testid="chat-window"][data-chat-id="${chat.chat_id}"][data-state="ended"]`).waitFor({ timeout: WAIT });
    const ended = await waitForClientEvents(chat, (evs) => evs.some((e) => e.kind === 'chat.ended'), 'chat.ended');
    assert.equal(ended.find((e) => e.kind === 'chat.ended').data.reason, 'worker');
    assert.equal(await win.getByTestId('chat-reply-input').isVisible(), false);

    await win.getByTestId('chat-open-entry').click();
    const detail = w.page.getByTestId('entry-detail');
    await detail.waitFor({ timeout: WAIT });
    assert.match(await detail.innerText(), new RegExp(messages.fi['channel.chat']));
    const transcript = detail.getByTestId('entry-transcript');
    await transcript.getByText('Hej, jag behöver prata med någon').waitFor({ timeout: WAIT });
    await transcript.getByText(reply).waitFor({ timeout: WAIT });
    assert.deepEqual(w.errors, []);
  } finally {
    await endAll();
    await client.close();
    await w.context.close();
  }
});

test('a chat transferred with a note opens in the colleague\'s console', async () => {
  const a = await worker('oncall');
  const s = await worker('supervisor');
  try {
    const chat = await openChat('fi');
    await say(chat, 'Mieheni uhkailee minua');
    await queueRow(a.page, chat).getByTestId('chat-accept').click();
    const win = chatWindow(a.page, chat);
    await win.waitFor({ timeout: WAIT });
    // The supervisor is on shift (presence), so they can be chosen.
    const supervisor = e2e.server.accounts.supervisor.username;
    await win.getByTestId('chat-transfer').click();
    await win.locator(`[data-testid="chat-transfer-to"] option[value="${supervisor}"]`).waitFor({ state: 'attached', timeout: WAIT });
    await win.getByTestId('chat-transfer-to').selectOption(supervisor);
    const note = `Äiti ja kaksi lasta, pelkää miestään ${Date.now()}`;
    await win.getByTestId('chat-transfer-note').fill(note);
    await win.getByTestId('chat-transfer-confirm').click();

    // It leaves the worker's windows and opens in the supervisor's, with the note.
    await win.waitFor({ state: 'detached', timeout: WAIT });
    const theirs = chatWindow(s.page, chat);
    await theirs.waitFor({ timeout: WAIT });
    await theirs.getByText(note).waitFor({ timeout: WAIT });
    await theirs.getByTestId('chat-window-message').filter({ hasText: 'Mieheni uhkailee minua' }).waitFor({ timeout: WAIT });
    await theirs.getByTestId('chat-reply-input').waitFor({ timeout: WAIT });
    await waitForClientEvents(chat, (evs) => evs.some((e) => e.kind === 'chat.transferred'), 'chat.transferred');
    assert.deepEqual(a.errors, []);
    assert.deepEqual(s.errors, []);
  } finally {
    await endAll();
    await a.context.close();
    await s.context.close();
  }
});

test('imminent risk in a chat alerts the supervisor at once', async () => {
  const s = await worker('supervisor');
  try {
    const chat = await openChat('fi');
    await say(chat, 'aion tappaa itseni tänään');
    const banner = s.page.locator(`[data-testid="chat-alert"][data-chat-id="${chat.chat_id}"]`);
    await banner.waitFor({ timeout: WAIT });
    assert.equal(await banner.getAttribute('role'), 'alert');
    const text = await banner.innerText();
    assert.match(text, new RegExp(messages.fi['chat.alert_title']));
    assert.match(text, new RegExp(messages.fi['chat_signal.suicide']));
    assert.match(text, /jonossa/, 'says nobody answers it yet');
    await queueRow(s.page, chat).and(s.page.locator('[data-risk="imminent"]')).waitFor({ timeout: WAIT });

    // Open the chat from the banner: its window shows the message, with Accept.
    await banner.getByTestId('chat-alert-open').click();
    const win = chatWindow(s.page, chat);
    await win.getByTestId('chat-window-message').filter({ hasText: 'aion tappaa itseni' }).waitFor({ timeout: WAIT });
    await win.getByTestId('chat-window-accept').click();
    await win.getByTestId('chat-reply-input').waitFor({ timeout: WAIT });
    // The banner now says who answers (the supervisor); it stays until dismissed.
    await banner.filter({ hasText: messages.fi['chat.state_mine'] }).waitFor({ timeout: WAIT });
    await banner.getByTestId('chat-alert-dismiss').click();
    await banner.waitFor({ state: 'detached', timeout: WAIT });
    assert.deepEqual(s.errors, []);
  } finally {
    await endAll();
    await s.context.close();
  }
});

test('a new chat is announced also when the console is in a background tab', async () => {
  const w = await worker('oncall', 'fi', { permissions: ['notifications'] });
  try {
    await w.page.getByTestId('chat-queue-empty').waitFor({ timeout: WAIT });
    const base = messages.fi['app.title'];
    assert.equal(await w.page.title(), base);
    assert.equal(await w.page.getByTestId('chat-notifications').innerText(), messages.fi['chat.notifications_on']);
    // The worker looks at another tab. (Headless Chromium keeps every page "visible" and
    // focused, so the page is also told it is hidden, as a real background tab would be.)
    const other = await w.context.newPage();
    await other.goto(`${e2e.server.base}/healthz`);
    await other.bringToFront();
    await w.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.hasFocus = () => false;
      document.dispatchEvent(new Event('visibilitychange'));
      window.dispatchEvent(new Event('blur'));
    });

    // Every title the page shows, recorded as it changes: a page behind another tab gets
    // no animation frames and throttled timers, so polling the title can keep missing
    // the flash's half of each period (this test failed that way on a loaded machine).
    await w.page.evaluate(() => {
      window.shownTitles = [];
      new MutationObserver(() => window.shownTitles.push(document.title)).observe(
        document.querySelector('title'),
        { childList: true, characterData: true, subtree: true },
      );
    });

    const chat = await openChat('en');
    // The title counts the waiting chats and flashes.
    const shows = (title) => w.page.waitForFunction(
      (t) => window.shownTitles.includes(t), title, { timeout: WAIT, polling: 100 });
    await shows(`(1) ${base}`);
    await shows(`(1) ${messages.fi['chat.title_flash']}`);
    const alert = w.page.getByTestId('new-chat-alert');
    await alert.waitFor({ state: 'visible', timeout: WAIT });
    assert.equal(await alert.getAttribute('data-chat-id'), chat.chat_id);
    assert.match(await alert.innerText(), /English \(en\)/);
    const shown = await w.page.evaluate(() => window.shownNotifications);
    assert.ok(shown.some((n) => n.title === messages.fi['chat.notify_new_title']), JSON.stringify(shown));

    // Back to the tab: the flashing stops, the count stays while the chat waits.
    await w.page.bringToFront();
    await w.page.evaluate(() => {
      delete document.visibilityState;
      delete document.hasFocus;
      window.dispatchEvent(new Event('focus'));
    });
    await w.page.waitForFunction((t) => document.title === `(1) ${t}`, base, { timeout: WAIT, polling: 100 });
    await w.page.waitForTimeout(1500);
    assert.equal(await w.page.title(), `(1) ${base}`, 'no more flashing once looked at');

    // The client leaves: nobody waits, the title and the alert clear.
    await endAll();
    await w.page.waitForFunction((t) => document.title === t, base, { timeout: WAIT, polling: 100 });
    await alert.waitFor({ state: 'hidden', timeout: WAIT });
    await w.page.getByTestId('chat-queue-empty').waitFor({ timeout: WAIT });
    assert.deepEqual(w.errors, []);
  } finally {
    await endAll();
    await w.context.close();
  }
});
