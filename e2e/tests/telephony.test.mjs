// Phone calls on the desk, driven by `paivystys telephony simulate` (the phone system's signed
// webhook, as Asterisk would send it): the live calls strip shows a ringing call, who
// answered, and the call's entry; an unmapped answer is claimed with one click; a repeat
// caller is recognised without the number ever reaching the page; the strip passes axe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seriousViolations, messages, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';

const SECRET = process.env.PAIVYSTYS_TELEPHONY_SECRET ?? 'e2e-telephony-secret-0123456789abcdef';
// The server of this file (server.mjs passes the environment on) knows the secret, who sits
// at extension 201 and what the desk's line is called, unless the environment says otherwise.
process.env.PAIVYSTYS_TELEPHONY_SECRET ??= SECRET;
process.env.PAIVYSTYS_TELEPHONY__EXTENSIONS__201 ??= 'paivystaja';
process.env.PAIVYSTYS_TELEPHONY__LINES__0800100200 ??= 'child_welfare';

const LINE = '0800100200';
/** How long a simulated call may take at most before the test gives up on it. */
const CALL_LIMIT_MS = 60_000;

const e2e = suite();
const { worker } = e2e;
const fi = messages.fi;

/**
 * Plays one call with `paivystys telephony simulate`. Returns {done, stop}: done resolves to
 * {code, signal, out, err} when the command exits (it is stopped after CALL_LIMIT_MS).
 */
function simulate(args) {
  const dir = mkdtempSync(join(tmpdir(), 'paivystys-sim-'));
  const child = spawn(process.env.PAIVYSTYS_BIN, ['telephony', 'simulate', '--url', e2e.server.base, ...args], {
    cwd: dir,
    env: { ...process.env, PAIVYSTYS_TELEPHONY_SECRET: SECRET },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    err += chunk;
  });
  const done = new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), CALL_LIMIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, out, err });
    });
  });
  return {
    done,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

async function finished(sim) {
  const result = await sim.done;
  assert.equal(result.code, 0, `simulate failed (${result.signal ?? result.code}):\n${result.out}\n${result.err}`);
  assert.match(result.out, /call\.ended/);
  return result;
}

const callRow = (page, id) => page.locator(`[data-testid="call-row"][data-call-id="${id}"]`);

/** The first ringing row that appears: its locator (by call id) and the id. */
async function ringingCall(page) {
  const ringing = page.locator('[data-testid="call-row"][data-state="ringing"]').first();
  await ringing.waitFor({ timeout: WAIT });
  const id = await ringing.getAttribute('data-call-id');
  return { id, row: callRow(page, id) };
}

/** Neither the page's text nor its markup carries the caller's number, in any form. */
async function assertNoNumber(page, digits) {
  const html = await page.content();
  const text = await page.locator('body').innerText();
  for (const form of digits) {
    assert.ok(!html.includes(form), `the page's markup shows the number (${form})`);
    assert.ok(!text.includes(form), `the page shows the number (${form})`);
  }
}

test('the simulate command drives the console: ringing, answered by the mapped worker, the claimed entry, its length', async () => {
  const w = await worker('oncall');
  const number = ['123 4567', '401234567', '1234567'];
  const sim = simulate(['--from', '040 123 4567', '--to', LINE, '--extension', '201', '--ring-secs', '3', '--talk-secs', '3']);
  try {
    const { id, row } = await ringingCall(w.page);
    const ringingText = await row.innerText();
    assert.ok(ringingText.includes(fi['call.incoming_on_line'].replace('{line}', 'Lastensuojelu')), ringingText);
    assert.ok(ringingText.includes(fi['call.ringing_for']), ringingText);
    assert.equal(await row.getByTestId('call-repeat').count(), 0, 'a first call is no repeat');
    assert.equal(await w.page.getByTestId('calls').isVisible(), true);
    await assertNoNumber(w.page, number);

    // Answered at extension 201: the mapped worker, and the entry made for them.
    await w.page.locator(`[data-testid="call-row"][data-call-id="${id}"][data-state="answered"]`).waitFor({ timeout: WAIT });
    assert.match(await row.getByTestId('call-worker').innerText(), /Päivystäjä \(demo\)/);
    assert.equal(await row.getByTestId('call-claim').count(), 0);
    const entryId = await row.getAttribute('data-entry-id');
    assert.ok(entryId, 'the answered call names its entry');
    const boardRow = w.page.locator(`[data-testid="entry-row"][data-entry-id="${entryId}"]`);
    await boardRow.waitFor({ timeout: WAIT });
    const boardText = await boardRow.innerText();
    assert.ok(boardText.includes(fi['channel.phone_in']), boardText);
    assert.ok(boardText.includes(fi['board.handled_by_you']), boardText);
    await assertNoNumber(w.page, number);

    // The entry opens from the call; once the call ends it shows how long it lasted.
    await row.getByTestId('call-open-entry').click();
    const detail = w.page.locator(`[data-testid="entry-detail"][data-entry-id="${entryId}"]`);
    await detail.waitFor({ timeout: WAIT });
    const line = detail.locator('[data-testid="entry-call"][data-state="ended"]');
    await line.waitFor({ timeout: WAIT });
    const lineText = await line.innerText();
    assert.match(lineText, /vastattu \d{1,2}:\d{2}/);
    assert.match(lineText, /kesto \d+ s/);
    await row.waitFor({ state: 'detached', timeout: WAIT });
    await finished(sim);
    await assertNoNumber(w.page, number);
    assert.deepEqual(w.errors, []);
  } finally {
    sim.stop();
    await w.context.close();
  }
});

test('an answer at an unmapped extension is claimed with "I answered", and the number is recorded only on request', async () => {
  const w = await worker('oncall');
  const sim = simulate(['--from', '050 765 4321', '--to', LINE, '--extension', '999', '--ring-secs', '1', '--talk-secs', '12']);
  try {
    const { id, row } = await ringingCall(w.page);
    await w.page.locator(`[data-testid="call-row"][data-call-id="${id}"][data-state="answered"]`).waitFor({ timeout: WAIT });
    const claim = row.getByTestId('call-claim');
    await claim.waitFor({ timeout: WAIT });
    assert.equal(await claim.innerText(), fi['call.claim']);
    assert.ok((await row.innerText()).includes(fi['call.answered_unknown']));
    const entryId = await row.getAttribute('data-entry-id');

    // One click: the entry is mine, and it opens.
    await claim.click();
    const detail = w.page.locator(`[data-testid="entry-detail"][data-entry-id="${entryId}"]`);
    await detail.waitFor({ timeout: WAIT });
    await detail.getByTestId('release').waitFor({ timeout: WAIT });
    const boardRow = w.page.locator(`[data-testid="entry-row"][data-entry-id="${entryId}"]`);
    await boardRow.filter({ hasText: fi['board.handled_by_you'] }).waitFor({ timeout: WAIT });
    await row.getByTestId('call-worker').filter({ hasText: 'Päivystäjä (demo)' }).waitFor({ timeout: WAIT });
    assert.equal(await claim.count(), 0);
    assert.ok(!(await w.page.locator('body').innerText()).includes('765 4321'));

    // The client agrees: the number goes into the entry's notes (and only there).
    await row.getByTestId('call-details-toggle').click();
    assert.equal(await row.getByTestId('call-details-toggle').getAttribute('aria-expanded'), 'true');
    const record = row.getByTestId('call-record-number');
    await record.waitFor({ timeout: WAIT });
    await record.click();
    await row.locator('[data-testid="call-number-status"][data-outcome="recorded"]').waitFor({ timeout: WAIT });
    await detail.filter({ hasText: '050 765 4321' }).waitFor({ timeout: WAIT });
    assert.ok(!(await row.innerText()).includes('765 4321'), 'the strip never shows the number');

    await row.waitFor({ state: 'detached', timeout: CALL_LIMIT_MS });
    await finished(sim);
    assert.deepEqual(w.errors, []);
  } finally {
    sim.stop();
    await w.context.close();
  }
});

test('a repeat caller is recognised: the ringing call says so, and its details list the earlier entry', async () => {
  const w = await worker('oncall');
  const first = simulate(['--from', '044 222 3333', '--to', LINE, '--extension', '201', '--ring-secs', '1', '--talk-secs', '4']);
  let second = null;
  try {
    const earlier = await ringingCall(w.page);
    await w.page.locator(`[data-testid="call-row"][data-call-id="${earlier.id}"][data-state="answered"]`).waitFor({ timeout: WAIT });
    const earlierEntry = await earlier.row.getAttribute('data-entry-id');
    await finished(first);
    await earlier.row.waitFor({ state: 'detached', timeout: WAIT });

    second = simulate(['--from', '+358 44 222 3333', '--to', LINE, '--unanswered', '--ring-secs', '10']);
    const { row } = await ringingCall(w.page);
    const repeat = row.getByTestId('call-repeat');
    await repeat.waitFor({ timeout: WAIT });
    assert.match(await repeat.innerText(), /2\. puhelu 30 päivän aikana, edellinen \S+ \d{1,2}\.\d{1,2}\.? \d{2}:\d{2}/);

    await row.getByTestId('call-details-toggle').click();
    const links = row.getByTestId('call-earlier-entry');
    await links.first().waitFor({ timeout: WAIT });
    assert.equal(await links.count(), 1);
    assert.equal(await links.first().getAttribute('href'), `#/entry/${earlierEntry}`);
    // Nobody has answered: there is no entry to write the number into.
    assert.equal(await row.getByTestId('call-record-number').count(), 0);
    await assertNoNumber(w.page, ['222 3333', '442223333']);

    await links.first().click();
    const detail = w.page.locator(`[data-testid="entry-detail"][data-entry-id="${earlierEntry}"]`);
    await detail.getByTestId('entry-call').waitFor({ timeout: WAIT });

    // The caller gives up: the row goes, and a notice says the call was not answered.
    await row.waitFor({ state: 'detached', timeout: WAIT });
    await w.page.locator('#notices').filter({ hasText: fi['call.abandoned_notice'] }).waitFor({ timeout: WAIT });
    await finished(second);
    assert.deepEqual(w.errors, []);
  } finally {
    first.stop();
    second?.stop();
    await w.context.close();
  }
});

test('a ringing call passes axe, follows the language, and a reconnect replays it without a second row', async () => {
  const w = await worker('oncall');
  const sim = simulate(['--from', '045 876 5432', '--to', LINE, '--unanswered', '--ring-secs', '15']);
  try {
    const { id, row } = await ringingCall(w.page);
    assert.deepEqual(await seriousViolations(w.page), []);
    await row.getByTestId('call-details-toggle').click();
    await row.locator('[data-testid="call-details"][data-state="ready"]').waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(w.page), []);

    // The row speaks the language chosen, the line's name included.
    await w.page.getByTestId('lang-sv').click();
    await row.filter({ hasText: messages.sv['call.incoming_on_line'].replace('{line}', 'Barnskydd') }).waitFor({ timeout: WAIT });
    assert.ok((await row.innerText()).includes(messages.sv['call.ringing_for']));
    await w.page.getByTestId('lang-fi').click();
    await row.filter({ hasText: fi['call.ringing_for'] }).waitFor({ timeout: WAIT });

    // The keyboard reaches the call's buttons.
    await row.getByTestId('call-details-toggle').focus();
    await w.page.keyboard.press('Enter');
    assert.equal(await row.getByTestId('call-details-toggle').getAttribute('aria-expanded'), 'false');

    await w.context.setOffline(true);
    await w.page.getByTestId('connection-state').and(w.page.locator(':not([data-state="live"])')).waitFor({ timeout: WAIT });
    await w.context.setOffline(false);
    await w.page.getByTestId('connection-state').and(w.page.locator('[data-state="live"]')).waitFor({ timeout: WAIT });
    assert.equal(await w.page.locator(`[data-testid="call-row"][data-call-id="${id}"]`).count(), 1);

    await row.waitFor({ state: 'detached', timeout: WAIT });
    await finished(sim);
    assert.equal(await w.page.getByTestId('call-row').count(), 0);
    assert.equal(await w.page.getByTestId('calls').isVisible(), false);
    assert.deepEqual(w.errors, []);
  } finally {
    sim.stop();
    await w.context.close();
  }
});
