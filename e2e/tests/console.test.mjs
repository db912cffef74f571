// The on-call console in a real browser: two workers share the live log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { login, seriousViolations, assertAllTranslated, messages, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';

const e2e = suite();
const { worker } = e2e;

function row(page, summary) {
  return page.getByTestId('entry-row').filter({ hasText: summary });
}

/** Fills and saves the new-entry form. */
async function logCall(page, summary, notes = 'Soittaja huolissaan.') {
  await page.getByTestId('new-entry').click();
  const form = page.getByTestId('entry-form');
  await form.waitFor({ timeout: WAIT });
  await page.getByTestId('entry-category').selectOption('child_welfare');
  await page.getByTestId('entry-urgency').selectOption('urgent');
  await page.getByTestId('entry-summary').fill(summary);
  await page.getByTestId('entry-alias').fill('Perhe X');
  await page.getByTestId('entry-notes').fill(notes);
  await page.getByTestId('entry-save').click();
}

test('a call logged by one worker appears on a colleague\'s board without reload', async () => {
  const a = await worker('oncall');
  const b = await worker('supervisor');
  try {
    const summary = `Naapuri soitti ${Date.now()}`;
    await logCall(a.page, summary);
    await row(b.page, summary).waitFor({ timeout: 1_500 + WAIT });
    await row(a.page, summary).waitFor({ timeout: WAIT });
    assert.equal(await row(b.page, summary).count(), 1);
    // Both see each other on shift.
    await b.page.getByTestId('presence').filter({ hasText: 'Päivystäjä (demo)' }).waitFor({ timeout: WAIT });
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('a console whose network drops catches up with everything it missed, and sends what was typed offline exactly once', async () => {
  const a = await worker('oncall');
  const b = await worker('supervisor');
  try {
    await b.context.setOffline(true);
    await b.page
      .getByTestId('connection-state')
      .and(b.page.locator('[data-state="offline"], [data-state="reconnecting"]'))
      .waitFor({ timeout: WAIT });

    const missed = [`Ohi mennyt 1 ${Date.now()}`, `Ohi mennyt 2 ${Date.now()}`];
    for (const summary of missed) {
      await logCall(a.page, summary);
      await row(a.page, summary).waitFor({ timeout: WAIT });
    }
    // B types a call while offline: it waits in the outbox.
    const typedOffline = `Kirjattu ilman verkkoa ${Date.now()}`;
    await logCall(b.page, typedOffline);
    await b.page.getByTestId('outbox-count').filter({ hasText: '1' }).waitFor({ timeout: WAIT });

    await b.context.setOffline(false);
    await b.page.getByTestId('connection-state').and(b.page.locator('[data-state="live"]')).waitFor({ timeout: 15_000 });
    for (const summary of missed) {
      await row(b.page, summary).waitFor({ timeout: WAIT });
    }
    await row(a.page, typedOffline).waitFor({ timeout: WAIT });
    await a.page.waitForTimeout(0);
    assert.equal(await row(a.page, typedOffline).count(), 1, 'sent exactly once');
    assert.equal(await row(b.page, typedOffline).count(), 1);

    // The server agrees: one entry with that summary.
    const found = await a.page.evaluate(async (q) => {
      const r = await fetch(`/api/v1/entries?status=all&q=${encodeURIComponent(q)}`);
      return r.json();
    }, typedOffline);
    assert.equal(found.length, 1);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('two workers editing the same entry get a clear choice instead of a lost text', async () => {
  const a = await worker('oncall');
  const b = await worker('supervisor');
  try {
    const summary = `Yhteinen kirjaus ${Date.now()}`;
    await logCall(a.page, summary, 'Alkuperäinen teksti.');
    await row(b.page, summary).waitFor({ timeout: WAIT });

    for (const w of [a, b]) {
      await row(w.page, summary).click();
      await w.page.getByTestId('entry-detail').waitFor({ timeout: WAIT });
      await w.page.getByTestId('edit-entry').click();
    }
    await a.page.getByTestId('entry-notes').fill('Annan korjaus: osoite Koivukuja 3.');
    await a.page.getByTestId('entry-save').click();
    await a.page.getByTestId('entry-detail').filter({ hasText: 'Annan korjaus' }).waitFor({ timeout: WAIT });

    await b.page.getByTestId('entry-notes').fill('Bertin lisäys: soitettu takaisin.');
    await b.page.getByTestId('entry-save').click();
    const dialog = b.page.getByTestId('conflict-dialog');
    await dialog.waitFor({ timeout: WAIT });
    const text = await dialog.innerText();
    assert.match(text, /Annan korjaus/);
    assert.match(text, /Bertin lisäys/);
    await b.page.getByTestId('conflict-keep-mine').click();
    await b.page.getByTestId('entry-detail').filter({ hasText: 'Bertin lisäys' }).waitFor({ timeout: WAIT });

    // Nothing was lost: the history keeps Anna's text too.
    const id = await row(b.page, summary).getAttribute('data-entry-id');
    const history = await b.page.evaluate(async (entryId) => (await fetch(`/api/v1/entries/${entryId}/history`)).json(), id);
    const notes = history.map((r) => r.entry.notes);
    assert.ok(notes.includes('Annan korjaus: osoite Koivukuja 3.'), notes.join(' | '));
    assert.equal(notes.at(-1), 'Bertin lisäys: soitettu takaisin.');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});



test('the language switch changes every visible string', async () => {
  const a = await worker('oncall', 'fi');
  try {
    await a.page.getByTestId('entry-row').first().waitFor({ timeout: WAIT });
    await assertAllTranslated(a.page, 'fi');
    for (const lang of ['sv', 'en', 'fi']) {
      await a.page.getByTestId(`lang-${lang}`).click();
      await assertAllTranslated(a.page, lang);
      const board = await a.page.getByTestId('board').innerText();
      // Enum labels on the board follow the language too.
      assert.ok(board.includes(messages[lang]['urgency.urgent']) || board.includes(messages[lang]['urgency.immediate']), board.slice(0, 300));
    }
  } finally {
    await a.context.close();
  }
});

test('the console pages pass an automated accessibility check', async () => {
  const context = await e2e.context();
  const page = await context.newPage();
  try {
    await page.goto(`${e2e.server.base}/?lang=fi`);
    await page.getByTestId('login-form').waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(page), [], 'login page');

    await login(page, e2e.server.base, e2e.server.accounts.oncall);
    await page.getByTestId('entry-row').first().waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(page), [], 'board');
    mkdirSync(new URL('../../docs/', import.meta.url), { recursive: true });
    if (process.env.PAIVYSTYS_E2E_SCREENSHOT) {
      await page.screenshot({ path: process.env.PAIVYSTYS_E2E_SCREENSHOT, fullPage: false });
    }

    await page.getByTestId('new-entry').click();
    await page.getByTestId('entry-form').waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(page), [], 'entry form');
    await page.keyboard.press('Escape');

    await page.getByTestId('entry-row').first().click();
    await page.getByTestId('entry-detail').waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(page), [], 'entry detail');
  } finally {
    await context.close();
  }
});
