// The public chat (/chat) as a person in crisis uses it: on a phone, anonymous, with an
// unreliable connection and perhaps someone looking over their shoulder. The worker's side
// is driven through the HTTP API from Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seriousViolations, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';
import {
  publicMessages,
  assertPublicTranslated,
  workerApi,
  eventually,
  startChat,
  workerSocket,
} from '../lib/public.mjs';

const NEUTRAL = 'https://www.google.com/';
const PHONE = { viewport: { width: 360, height: 740 }, locale: 'fi-FI', hasTouch: true };

let worker;
const e2e = suite({
  async setup(server) {
    worker = await workerApi(server.base, server.accounts.oncall);
  },
});

/** A fresh phone (its own storage) on /chat. */
async function client(lang = 'fi', options = {}) {
  const context = await e2e.browser.newContext({ ...PHONE, ...options });
  const page = await context.newPage();
  await page.goto(`${e2e.server.base}/chat${lang ? `?lang=${lang}` : ''}`);
  await page.getByTestId('chat-start').waitFor({ timeout: WAIT });
  return { context, page };
}

const messages = (page) => page.getByTestId('message');
const fromClient = (page, text) => messages(page).and(page.locator('[data-from="client"]')).filter({ hasText: text });
const fromWorker = (page, text) => messages(page).and(page.locator('[data-from="worker"]')).filter({ hasText: text });

async function send(page, text) {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('message-send').click();
}

async function waitStatus(locator, status) {
  await locator.and(locator.page().locator(`[data-status="${status}"]`)).waitFor({ timeout: WAIT });
}

/** The server's transcript bodies of one author. */
async function bodies(chatId, from) {
  return (await worker.transcript(chatId)).filter((m) => m.from === from).map((m) => m.body);
}

async function endQuietly(chatId) {
  await worker.call('POST', `/api/v1/chats/${chatId}/end`);
}

test('the page passes axe in the intro and in a live chat, and speaks Finnish, Swedish and English', async () => {
  const fi = publicMessages.fi;
  const { context, page } = await client('fi', { viewport: { width: 320, height: 640 } });
  let chatId;
  try {
    // 112 and the on-call number come first, as tel: links.
    assert.equal(await page.getByTestId('emergency-112').getAttribute('href'), 'tel:112');
    const phone = page.getByTestId('oncall-phone');
    await phone.waitFor({ timeout: WAIT });
    assert.match(await phone.getAttribute('href'), /^tel:\+?\d+$/);
    await page.getByTestId('quick-exit').waitFor();
    assert.equal(await page.getByTestId('chat-intro').isVisible(), true);
    await assertPublicTranslated(page, 'fi');
    assert.deepEqual(await seriousViolations(page), []);
    // Nothing wider than a 320 px screen.
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 320), true);

    // A live chat: the conversation, the composer, the end button.
    chatId = (await startChat(page)).chat_id;
    await send(page, 'Hei, tarvitsisin apua.');
    await worker.accept(chatId);
    await worker.say(chatId, 'Hei, olen päivystäjä. Kerro lisää.');
    await fromWorker(page, 'Kerro lisää').waitFor({ timeout: WAIT });
    await page.getByTestId('chat-status').and(page.locator('[data-state="active"]')).waitFor({ timeout: WAIT });
    await assertPublicTranslated(page, 'fi');
    assert.deepEqual(await seriousViolations(page), []);
    await page.getByTestId('chat-end').click();
    await page.getByTestId('chat-end-confirm').waitFor();
    assert.deepEqual(await seriousViolations(page), []);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 320), true);
    assert.equal(await page.getByTestId('chat-end-confirm').textContent(), fi['chat.end_confirm.yes']);
  } finally {
    if (chatId) await endQuietly(chatId);
    await context.close();
  }

  for (const lang of ['sv', 'en']) {
    const c = await client(lang);
    try {
      await c.page.getByTestId('oncall-phone').waitFor({ timeout: WAIT });
      await assertPublicTranslated(c.page, lang);
      assert.equal(await c.page.getByTestId('chat-start').textContent(), publicMessages[lang]['chat.start']);
      assert.equal(
        (await c.page.locator('[data-i18n="chat.intro.who"]').textContent()).trim(),
        publicMessages[lang]['chat.intro.who'],
      );
      assert.deepEqual(await seriousViolations(c.page), []);
    } finally {
      await c.context.close();
    }
  }

  // Without ?lang= the browser's languages decide; the switcher changes everything in place.
  const sv = await client(null, { locale: 'sv-FI' });
  try {
    await sv.page.locator('html[lang="sv"]').waitFor({ timeout: WAIT });
    await assertPublicTranslated(sv.page, 'sv');
    await sv.page.getByTestId('chat-language').getByRole('link', { name: 'In English' }).click();
    await sv.page.locator('html[lang="en"]').waitFor({ timeout: WAIT });
    await assertPublicTranslated(sv.page, 'en');
    assert.match(sv.page.url(), /[?&]lang=en\b/);
  } finally {
    await sv.context.close();
  }
});

test('a whole chat from the client\'s side: queue, worker joins, replies, typing, delivered, worker ends', async () => {
  const fi = publicMessages.fi;
  const { context, page } = await client('fi');
  let socket;
  try {
    const opened = await startChat(page);
    const chatId = opened.chat_id;

    // Waiting room: place in the queue, an honest estimate, and writing already works.
    await page.getByTestId('queue-position').filter({ hasText: /\d/ }).waitFor({ timeout: WAIT });
    assert.ok((await page.getByTestId('queue-estimate').textContent()).trim().length > 0);
    assert.equal(await page.getByTestId('chat-status').getAttribute('data-state'), 'queued');
    const first = `Odotan vielä jonossa ${Date.now()}`;
    await send(page, first);
    await waitStatus(fromClient(page, first), 'sent');
    assert.deepEqual(await bodies(chatId, 'client'), [first]);

    // A worker joins.
    await worker.accept(chatId);
    const status = page.getByTestId('chat-status');
    await status.and(page.locator('[data-state="active"]')).waitFor({ timeout: WAIT });
    assert.equal((await status.textContent()).trim(), fi['chat.status.active']);
    await page.getByTestId('queue-position').waitFor({ state: 'hidden', timeout: WAIT });

    // Typing both ways, over the websocket.
    socket = await workerSocket(e2e.browser, e2e.server.base, worker, chatId);
    await page.getByTestId('connection-state').and(page.locator('[data-state="live"]')).waitFor({ timeout: WAIT });
    await socket.typing();
    await page.getByTestId('typing-indicator').filter({ hasText: fi['chat.typing'] }).waitFor({ timeout: WAIT });
    // The page sends at most one notice per 2 s (the first message's typing may still count),
    // so keep typing as a person would until the worker is told.
    await eventually(
      async () => {
        await page.getByTestId('message-input').press('k');
        return (await socket.typingFrom()).includes('client');
      },
      { every: 400, what: 'the client typing notice' },
    );
    await page.getByTestId('message-input').fill('');

    // The worker answers; the client's message is delivered once the console showed it.
    const reply = `Hei, olen täällä. ${Date.now()}`;
    await worker.say(chatId, reply);
    await fromWorker(page, reply).waitFor({ timeout: WAIT });
    assert.equal(await page.getByTestId('typing-indicator').textContent(), '');
    const seq = Number(await fromClient(page, first).getAttribute('data-seq'));
    assert.ok(seq > 0);
    assert.equal(await fromClient(page, first).getAttribute('data-status'), 'sent');
    await worker.delivered(chatId, seq);
    await waitStatus(fromClient(page, first), 'delivered');
    assert.match(await fromClient(page, first).textContent(), new RegExp(fi['chat.msg.delivered']));

    // The worker ends the chat.
    await worker.end(chatId);
    const ended = page.getByTestId('chat-ended');
    await ended.and(page.locator('[data-reason="worker"]')).waitFor({ timeout: WAIT });
    assert.match(await ended.textContent(), new RegExp(fi['chat.ended.worker']));
    await page.getByTestId('chat-new').waitFor();
    assert.equal(await page.getByTestId('message-input').isVisible(), false);
    assert.deepEqual(await seriousViolations(page), []);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'the token is forgotten');
    // The conversation stays readable until the person leaves.
    assert.equal(await fromWorker(page, reply).count(), 1);

    // A new chat starts fresh.
    const again = await startChat(page, 'chat-new');
    assert.notEqual(again.chat_id, chatId);
    assert.equal(await messages(page).count(), 0);
    await endQuietly(again.chat_id);
  } finally {
    await socket?.close();
    await context.close();
  }
});

test('the client\'s connection drops mid-conversation: nothing is lost or doubled', async () => {
  const { context, page } = await client('fi');
  try {
    const chatId = (await startChat(page)).chat_id;
    await worker.accept(chatId);
    await page.getByTestId('chat-status').and(page.locator('[data-state="active"]')).waitFor({ timeout: WAIT });
    const before = `Ennen katkosta ${Date.now()}`;
    await send(page, before);
    await waitStatus(fromClient(page, before), 'sent');
    await page.getByTestId('connection-state').and(page.locator('[data-state="live"]')).waitFor({ timeout: WAIT });

    await context.setOffline(true);
    await page
      .getByTestId('connection-state')
      .and(page.locator('[data-state="offline"], [data-state="reconnecting"]'))
      .waitFor({ timeout: WAIT });
    const offline = [`Ilman verkkoa yksi ${Date.now()}`, `Ilman verkkoa kaksi ${Date.now()}`];
    for (const text of offline) {
      await send(page, text);
      await waitStatus(fromClient(page, text), 'sending');
    }
    // The worker answers meanwhile.
    const reply = `Vastaus katkon aikana ${Date.now()}`;
    await worker.say(chatId, reply);
    // Still offline: the messages wait (and survive in sessionStorage).
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('paivystys.public.chat')));
    assert.deepEqual(stored.outbox.map((m) => m.body), offline);

    await context.setOffline(false);
    await page.getByTestId('connection-state').and(page.locator('[data-state="live"]')).waitFor({ timeout: WAIT });
    for (const text of offline) await waitStatus(fromClient(page, text), 'sent');
    await fromWorker(page, reply).waitFor({ timeout: WAIT });

    // The server has each message exactly once, in the order written.
    const server = await bodies(chatId, 'client');
    assert.deepEqual(server, [before, ...offline]);
    // The page shows every message exactly once, in stream order.
    for (const text of [before, ...offline]) assert.equal(await fromClient(page, text).count(), 1, text);
    assert.equal(await fromWorker(page, reply).count(), 1);
    assert.equal(await messages(page).count(), 4);
    const seqs = await messages(page).evaluateAll((els) => els.map((el) => Number(el.dataset.seq)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, 4);
    const ids = await messages(page).evaluateAll((els) => els.map((el) => el.dataset.clientId));
    assert.equal(new Set(ids).size, 4);
    assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem('paivystys.public.chat')).outbox.length), 0);
    await endQuietly(chatId);
  } finally {
    await context.close();
  }
});

test('reloading or coming back in the same tab continues the chat; a new tab does not see it', async () => {
  const { context, page } = await client('fi');
  try {
    const chatId = (await startChat(page)).chat_id;
    const mine = `Ensimmäinen viesti ${Date.now()}`;
    await send(page, mine);
    await waitStatus(fromClient(page, mine), 'sent');
    await worker.accept(chatId);
    const reply = `Päivystäjän vastaus ${Date.now()}`;
    await worker.say(chatId, reply);
    await fromWorker(page, reply).waitFor({ timeout: WAIT });

    // sessionStorage belongs to one tab (a new page in the same context starts empty), so
    // "close and reopen within the session" is a reload, or leaving and coming back in the
    // same tab. A new tab shows the introduction: no one else at the device sees the chat.
    const other = await context.newPage();
    await other.goto(`${e2e.server.base}/chat?lang=fi`);
    await other.getByTestId('chat-intro').waitFor({ timeout: WAIT });
    assert.equal(await other.getByTestId('message').count(), 0);
    await other.close();

    await page.reload();
    await fromWorker(page, reply).waitFor({ timeout: WAIT });
    await page.getByTestId('chat-status').and(page.locator('[data-state="active"]')).waitFor({ timeout: WAIT });
    assert.equal(await fromClient(page, mine).count(), 1);
    assert.equal(await messages(page).count(), 2);

    await page.goto(`${e2e.server.base}/healthz`);
    await page.goto(`${e2e.server.base}/chat`);
    await fromWorker(page, reply).waitFor({ timeout: WAIT });
    assert.equal(await fromClient(page, mine).count(), 1);
    assert.equal(await page.getByTestId('chat-intro').isVisible(), false);

    const later = `Jatkan keskustelua ${Date.now()}`;
    await send(page, later);
    await waitStatus(fromClient(page, later), 'sent');
    assert.deepEqual(await bodies(chatId, 'client'), [mine, later]);
    assert.equal(await messages(page).count(), 3);
    await endQuietly(chatId);
  } finally {
    await context.close();
  }
});

test('the client is told when another worker continues the chat', async () => {
  const { context, page } = await client('sv');
  const colleague = await workerApi(e2e.server.base, e2e.server.accounts.supervisor);
  let onShift;
  try {
    const chatId = (await startChat(page)).chat_id;
    await worker.accept(chatId);
    await page.getByTestId('chat-status').and(page.locator('[data-state="active"]')).waitFor({ timeout: WAIT });
    // The colleague has a console open (a socket), so they are on shift.
    onShift = await workerSocket(e2e.browser, e2e.server.base, colleague, chatId);
    await worker.post(`/api/v1/chats/${chatId}/transfer`, {
      to: e2e.server.accounts.supervisor.username,
      note: 'Jatkatko sinä?',
    });
    await page.getByTestId('chat-status').filter({ hasText: publicMessages.sv['chat.status.transferred'] }).waitFor({ timeout: WAIT });
    const reply = `Hej, jag fortsätter ${Date.now()}`;
    await colleague.say(chatId, reply);
    await fromWorker(page, reply).waitFor({ timeout: WAIT });
    // The client never learns the workers' names.
    assert.equal(await page.getByText('(demo)').count(), 0);
    await colleague.end(chatId);
    await page.getByTestId('chat-ended').and(page.locator('[data-reason="worker"]')).waitFor({ timeout: WAIT });
  } finally {
    await onShift?.close();
    await context.close();
  }
});

test('the client can end the chat after confirming', async () => {
  const { context, page } = await client('en');
  try {
    const chatId = (await startChat(page)).chat_id;
    await page.getByTestId('chat-end').click();
    await page.getByTestId('chat-end-confirm').click();
    const ended = page.getByTestId('chat-ended');
    await ended.and(page.locator('[data-reason="client"]')).waitFor({ timeout: WAIT });
    assert.match(await ended.textContent(), new RegExp(publicMessages.en['chat.ended.client']));
    const chat = await worker.chat(chatId);
    assert.equal(chat.state, 'ended');
    assert.equal(chat.end_reason, 'client');
  } finally {
    await context.close();
  }
});

/** A phone where the neutral site answers (this machine has no internet). */
async function clientForQuickExit() {
  const { context, page } = await client('fi');
  let neutralRequested = 0;
  await context.route(`${NEUTRAL}**`, (route) => {
    neutralRequested += 1;
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Google</title><p>Haku</p>' });
  });
  // An earlier page in this tab, so "back" has somewhere to go.
  await page.goto(`${e2e.server.base}/healthz`);
  await page.goto(`${e2e.server.base}/chat?lang=fi`);
  await page.getByTestId('chat-start').waitFor({ timeout: WAIT });
  return { context, page, neutralRequested: () => neutralRequested };
}

async function assertLeftWithoutTrace(page, chatId, secret, neutralRequested) {
  await page.waitForURL(NEUTRAL, { timeout: WAIT });
  assert.ok(neutralRequested() >= 1, 'the neutral site was requested');
  // The server ended the chat, told by the beacon.
  await eventually(async () => {
    const chat = await worker.chat(chatId);
    return chat.state === 'ended' && chat.end_reason === 'quick_exit';
  }, { what: 'the chat to end with quick_exit' });
  // Back does not return to the chat: its history entry was replaced.
  await page.goBack({ timeout: WAIT });
  assert.equal(new URL(page.url()).pathname, '/healthz');
  assert.equal(await page.getByText(secret).count(), 0);
  assert.equal(await page.getByTestId('message-list').count(), 0);
  // Same tab, same origin: nothing stored remains.
  const storage = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
  assert.deepEqual(storage, { session: 0, local: 0 });
  // Forward goes to the neutral site, never to the chat.
  await page.goForward({ timeout: WAIT });
  assert.equal(page.url(), NEUTRAL);
}

test('quick exit leaves at once, ends the chat, forgets everything, and back does not return', async () => {
  const { context, page, neutralRequested } = await clientForQuickExit();
  try {
    const chatId = (await startChat(page)).chat_id;
    const secret = `Salaisuus ${Date.now()}`;
    await send(page, secret);
    await waitStatus(fromClient(page, secret), 'sent');
    await worker.accept(chatId);
    await page.getByTestId('chat-status').and(page.locator('[data-state="active"]')).waitFor({ timeout: WAIT });
    assert.notEqual(await page.evaluate(() => sessionStorage.length), 0);

    await page.getByTestId('quick-exit').click();
    await assertLeftWithoutTrace(page, chatId, secret, neutralRequested);
  } finally {
    await context.close();
  }
});

test('Esc pressed twice is a quick exit too', async () => {
  const { context, page, neutralRequested } = await clientForQuickExit();
  try {
    const chatId = (await startChat(page)).chat_id;
    const secret = `Toinen salaisuus ${Date.now()}`;
    await send(page, secret);
    await waitStatus(fromClient(page, secret), 'sent');
    // Even with the cursor in the message box.
    await page.getByTestId('message-input').focus();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await assertLeftWithoutTrace(page, chatId, secret, neutralRequested);
  } finally {
    await context.close();
  }
});
