// Both sides of a chat in real browsers: an anonymous client on a phone-sized page at /chat
// and an on-call worker in the console, each in a browser context of its own. Nothing is
// driven through the API: what each person does, the other sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';
import { startChat } from '../lib/public.mjs';

const e2e = suite();

test('a client and a worker talk from the waiting room to the end, each in a browser', async () => {
  const { context: workerContext, page: desk } = await e2e.worker('oncall', 'fi');
  const clientContext = await e2e.browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true });
  try {
    await desk.getByTestId('chat-queue-empty').waitFor({ timeout: WAIT });

    // The client opens the chat and writes while waiting.
    const phone = await clientContext.newPage();
    await phone.goto(`${e2e.server.base}/chat?lang=fi`);
    const chat = await startChat(phone);
    const first = `Mieheni lyö minua, en tiedä mitä tehdä (${Date.now()})`;
    await phone.getByTestId('message-input').fill(first);
    await phone.getByTestId('message-send').click();
    const own = phone.getByTestId('message').and(phone.locator('[data-from="client"]')).filter({ hasText: first });
    await own.and(phone.locator('[data-status="sent"]')).waitFor({ timeout: WAIT });
    await phone.getByTestId('queue-position').filter({ hasText: '1' }).waitFor({ timeout: WAIT });

    // The worker sees the chat in the queue, raised by its words, and accepts it.
    const row = desk.locator(`[data-testid="chat-queue-row"][data-chat-id="${chat.chat_id}"]`);
    await row.and(desk.locator('[data-risk="high"]')).waitFor({ timeout: WAIT });
    await desk.getByTestId('new-chat-alert').waitFor({ timeout: WAIT });
    await row.getByTestId('chat-accept').click();
    const win = desk.locator(`[data-testid="chat-window"][data-chat-id="${chat.chat_id}"]`);
    await win.getByTestId('chat-window-message').filter({ hasText: first }).waitFor({ timeout: WAIT });
    await phone.getByTestId('chat-status').and(phone.locator('[data-state="active"]')).waitFor({ timeout: WAIT });
    // Shown on the worker's screen: the client's message turns delivered.
    await own.and(phone.locator('[data-status="delivered"]')).waitFor({ timeout: WAIT });

    // Typing shows on the client's phone, then the reply arrives.
    await win.getByTestId('chat-reply-input').pressSequentially('Olen täällä');
    await phone.getByTestId('typing-indicator').waitFor({ state: 'visible', timeout: WAIT });
    await win.getByTestId('chat-reply-input').fill('Olen täällä ja kuuntelen. Oletko nyt turvassa?');
    await win.getByTestId('chat-reply-send').click();
    const reply = phone.getByTestId('message').and(phone.locator('[data-from="worker"]'));
    await reply.filter({ hasText: 'Oletko nyt turvassa?' }).waitFor({ timeout: WAIT });

    // The client answers; the worker sees it once.
    await phone.getByTestId('message-input').fill('Olen nyt naapurissa.');
    await phone.getByTestId('message-send').click();
    const answer = win.getByTestId('chat-window-message').filter({ hasText: 'Olen nyt naapurissa.' });
    await answer.waitFor({ timeout: WAIT });
    assert.equal(await answer.count(), 1);
    assert.equal(await reply.count(), 1);

    // The worker ends the chat; the client is told why.
    await win.getByTestId('chat-end').click();
    await win.getByTestId('chat-end-confirm').click();
    const ended = phone.getByTestId('chat-ended');
    await ended.and(phone.locator('[data-reason="worker"]')).waitFor({ state: 'visible', timeout: WAIT });
    // Every message is on both screens exactly once.
    assert.equal(await phone.getByTestId('message').count(), 3);
  } finally {
    await clientContext.close();
    await workerContext.close();
  }
});
