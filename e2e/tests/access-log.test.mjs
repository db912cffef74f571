// The access log in a real browser: an on-call worker opening a named client's entry
// outside their own work is asked why, and the reason goes with the two requests that open
// it and is kept nowhere; the shift supervisor sees such reads flagged live, who has seen an
// entry, and a client's access report that prints on its own.
//
// What the real server cannot be made to do here: an entry counts as the worker's own work
// for 16 hours after anyone touched it (audit.shift_hours, at least 1), on the real clock,
// and every entry — the demo night's too, which are all anonymous — is touched when it is
// made. So no entry can be outside own work within a test run: the server's one refusal
// (403 reason_required) is played by page.route, and its one supervision event
// (access.outside_work) is put into the supervisor's real websocket by routeWebSocket. The
// rest — the named entry, the retried requests, the access-log rows, the client's report —
// is the real server's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { login, seriousViolations, assertAllTranslated, messages, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';

const e2e = suite();
const { worker } = e2e;

const ONCALL_NAME = 'Päivystäjä (demo)';
/** Client names of this run only, so the client's report finds exactly one test's entry. */
const RUN = randomUUID().slice(0, 8);
const CLIENT = { name: `Maija Testinen ${RUN}`, birth_date: '1984-05-17' };
const OTHER_CLIENT = { name: `Matti Kokeilu ${RUN}`, birth_date: '1979-11-02' };

/** Logs a named client's entry through the API as the page's user; the entry. */
async function createNamedEntry(page, summary, client) {
  return page.evaluate(
    async (body) => {
      const session = await (await fetch('/api/v1/session')).json();
      const res = await fetch('/api/v1/entries', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`${res.status} ${await res.text()}`);
      return res.json();
    },
    {
      id: randomUUID(),
      channel: 'phone_in',
      category: 'adult',
      urgency: 'normal',
      summary,
      subject: { anonymous: false, name: client.name, birth_date: client.birth_date, municipality: 'Vantaa' },
      notes: 'Asiakas kertoi toimeentulotuen viivästyneen.',
    },
  );
}

function row(page, entryId) {
  return page.locator(`[data-testid="entry-row"][data-entry-id="${entryId}"]`);
}

/**
 * Answers the first `times` plain GETs of the entry (no ?reason=) with the server's refusal,
 * as the server does for a named client's entry outside the worker's own work. Returns the
 * URLs of every GET of the entry and of its history.
 */
async function refuseWithoutReason(page, entryId, times) {
  const seen = [];
  let left = times;
  const path = `/api/v1/entries/${entryId}`;
  await page.route(
    (url) => url.pathname === path || url.pathname === `${path}/history`,
    async (route) => {
      const request = route.request();
      if (request.method() !== 'GET') return route.continue();
      const url = new URL(request.url());
      seen.push(url);
      if (left > 0 && url.pathname === path && !url.searchParams.has('reason')) {
        left -= 1;
        return route.fulfill({
          status: 403,
          contentType: 'application/json',
          body: JSON.stringify({
            error: {
              code: 'reason_required',
              message: "this named client's entry is outside your own work; give the reason for opening it (10–500 characters)",
            },
          }),
        });
      }
      return route.continue();
    },
  );
  return seen;
}

async function focusedTestId(page) {
  return page.evaluate(() => document.activeElement?.getAttribute('data-testid') || document.activeElement?.closest('[data-testid]')?.getAttribute('data-testid') || null);
}

test("a named client's entry outside own work opens only with a reason, sent with both requests and kept nowhere", async () => {
  const boss = await worker('supervisor');
  const desk = await worker('oncall');
  try {
    const entry = await createNamedEntry(boss.page, `Toimeentulotuki viivästynyt ${Date.now()}`, OTHER_CLIENT);
    await row(desk.page, entry.id).waitFor({ timeout: WAIT });
    // The on-call worker has no supervision section and no access-log button.
    assert.equal(await desk.page.getByTestId('supervision').isVisible(), false);

    const seen = await refuseWithoutReason(desk.page, entry.id, 3);
    const dialog = desk.page.getByTestId('reason-dialog');
    const input = desk.page.getByTestId('reason-input');

    // 1. The prompt explains itself, takes focus, and Esc goes back to the board.
    await row(desk.page, entry.id).click();
    await dialog.waitFor({ timeout: WAIT });
    assert.equal(await dialog.getAttribute('role'), 'dialog');
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    assert.match(await dialog.innerText(), new RegExp(messages.fi['access.reason.explain'].slice(0, 40)));
    assert.equal(await focusedTestId(desk.page), 'reason-input');
    assert.deepEqual(await seriousViolations(desk.page), []);
    await desk.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: WAIT });
    await desk.page.locator('#panel').waitFor({ state: 'hidden', timeout: WAIT });
    assert.equal(await desk.page.evaluate(() => document.activeElement?.closest('[data-entry-id]')?.dataset.entryId), entry.id);
    assert.equal(await desk.page.getByTestId('entry-detail').count(), 0);

    // 2. Cancel does the same.
    await row(desk.page, entry.id).click();
    await dialog.waitFor({ timeout: WAIT });
    await desk.page.getByTestId('reason-cancel').click();
    await dialog.waitFor({ state: 'detached', timeout: WAIT });
    await desk.page.locator('#panel').waitFor({ state: 'hidden', timeout: WAIT });

    // 3. A too short reason is refused on the spot; a proper one opens the entry.
    await row(desk.page, entry.id).click();
    await dialog.waitFor({ timeout: WAIT });
    await input.fill('lyhyt');
    await desk.page.getByTestId('reason-submit').click();
    await desk.page.getByTestId('reason-error').filter({ hasText: messages.fi['access.reason.too_short'] }).waitFor({ timeout: WAIT });
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    assert.equal(await dialog.isVisible(), true);
    const reason = `Asiakas soitti uudelleen & kysyi päätöksestä ${Date.now()} — 100 % varma?`;
    await input.fill(reason);
    assert.equal(await desk.page.getByTestId('reason-error').isVisible(), false);
    assert.match(await desk.page.getByTestId('reason-count').innerText(), new RegExp(`^${[...reason].length}/500`));
    await desk.page.getByTestId('reason-submit').click();
    await dialog.waitFor({ state: 'detached', timeout: WAIT });
    await desk.page.locator(`[data-testid="entry-detail"][data-entry-id="${entry.id}"]`).waitFor({ timeout: WAIT });
    await desk.page.locator('[data-testid="history"] .history-list').waitFor({ timeout: WAIT });
    assert.equal(await desk.page.getByTestId('entry-access-log').count(), 0);

    // Both the entry and its history went with the reason, URL-encoded.
    const withReason = seen.filter((url) => url.searchParams.has('reason'));
    const entryGet = withReason.find((url) => !url.pathname.endsWith('/history'));
    const historyGet = withReason.find((url) => url.pathname.endsWith('/history'));
    assert.ok(entryGet, `the entry was asked again with the reason: ${seen.join(' ')}`);
    assert.ok(historyGet, `the history was asked with the reason: ${seen.join(' ')}`);
    assert.equal(entryGet.searchParams.get('reason'), reason);
    assert.equal(historyGet.searchParams.get('reason'), reason);
    assert.match(entryGet.search, /%26/, 'the & is encoded');
    // Only the refused openings went without a reason.
    assert.equal(seen.filter((url) => !url.searchParams.has('reason')).length, 3);

    // The reason is kept nowhere: not on the page, not in the browser's storage.
    const kept = await desk.page.evaluate(
      (text) => ({
        page: document.documentElement.outerHTML.includes(text.slice(0, 30)),
        storage: [localStorage, sessionStorage].some((s) => Object.keys(s).some((k) => String(s.getItem(k)).includes(text.slice(0, 30)))),
      }),
      reason,
    );
    assert.deepEqual(kept, { page: false, storage: false });
    assert.deepEqual(desk.errors, []);
  } finally {
    await desk.context.close();
    await boss.context.close();
  }
});

/**
 * A supervisor logged in through a context whose websocket goes through a tap: everything
 * passes both ways, and `inject(frame)` adds a server frame.
 */
async function tappedSupervisor() {
  const context = await e2e.context();
  const taps = [];
  await context.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    const server = ws.connectToServer();
    const tap = { ws, head: null, open: true };
    taps.push(tap);
    ws.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      try {
        const frame = JSON.parse(String(message));
        if (frame.type === 'subscribed' && frame.stream === 'supervision') tap.head = frame.head;
      } catch {
        /* not JSON: pass it on as it is */
      }
      ws.send(message);
    });
    ws.onClose(() => {
      tap.open = false;
      server.close();
    });
    server.onClose(() => {
      tap.open = false;
      ws.close();
    });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await login(page, e2e.server.base, e2e.server.accounts.supervisor);
  return {
    context,
    page,
    errors,
    /** The supervision stream's head on the live socket, once it has subscribed. */
    async supervisionHead() {
      for (let i = 0; i < 100; i += 1) {
        const tap = taps.findLast((x) => x.open && x.head !== null);
        if (tap) return tap;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the supervision stream was never subscribed');
    },
  };
}

test('the supervisor sees reads outside own work live, who has seen an entry, and a client\'s access report', async () => {
  const boss = await tappedSupervisor();
  const desk = await worker('oncall');
  try {
    const supervision = boss.page.getByTestId('supervision');
    await supervision.waitFor({ timeout: WAIT });
    assert.match(await supervision.innerText(), new RegExp(messages.fi['access.supervision.title']));
    await boss.page.getByTestId('supervision-flags-status').filter({ hasText: messages.fi['access.flags.empty'] }).waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(boss.page), []);

    // A named client's entry, which the on-call worker opens with a reason (the real API).
    const summary = `Häätöuhka, asiakas pyytää neuvoa ${Date.now()}`;
    const entry = await createNamedEntry(boss.page, summary, CLIENT);
    const reason = `Asiakas soitti uudelleen ja pyysi aiempia tietoja ${Date.now()}`;
    const opened = await desk.page.evaluate(
      async ({ id, why }) => {
        const q = `?reason=${encodeURIComponent(why)}`;
        const a = await fetch(`/api/v1/entries/${id}${q}`);
        const b = await fetch(`/api/v1/entries/${id}/history${q}`);
        return [a.status, b.status];
      },
      { id: entry.id, why: reason },
    );
    assert.deepEqual(opened, [200, 200]);

    // The flag the server sends for such a read (one for the entry, one for its history),
    // put into the supervisor's live socket (see the top of this file).
    const tap = await boss.supervisionHead();
    const at = new Date().toISOString();
    const data = { user: { id: 1, username: e2e.server.accounts.oncall.username, name: ONCALL_NAME }, entry_id: entry.id, reason, at };
    for (const seq of [tap.head + 1, tap.head + 2]) {
      tap.ws.send(JSON.stringify({ type: 'event', stream: 'supervision', seq, kind: 'access.outside_work', at, data }));
    }
    const flag = boss.page.locator(`[data-testid="supervision-flag"][data-entry-id="${entry.id}"]`);
    await flag.waitFor({ timeout: WAIT });
    assert.equal(await flag.count(), 1, 'one opening, one flag');
    assert.equal(await flag.getByTestId('supervision-flag-name').innerText(), ONCALL_NAME);
    assert.equal(await flag.getByTestId('supervision-flag-reason').innerText(), reason);
    assert.match(await flag.innerText(), new RegExp(summary));
    assert.match(await flag.locator('time').innerText(), /\d{1,2}:\d{2}$/);
    await boss.page.locator('#live-region').filter({ hasText: ONCALL_NAME }).waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(boss.page), []);

    // The flag's link opens the entry; a supervisor needs no reason.
    await flag.getByTestId('supervision-flag-open').click();
    await boss.page.locator(`[data-testid="entry-detail"][data-entry-id="${entry.id}"]`).waitFor({ timeout: WAIT });
    assert.equal(await boss.page.getByTestId('reason-dialog').count(), 0);

    // Who has seen this entry: the supervisor who logged it and the on-call worker's read.
    const logButton = boss.page.getByTestId('entry-access-log');
    await logButton.click();
    const logDialog = boss.page.getByTestId('access-log-dialog');
    await logDialog.waitFor({ timeout: WAIT });
    assert.equal(await logDialog.getAttribute('aria-modal'), 'true');
    const table = logDialog.getByTestId('access-log-table');
    await table.waitFor({ timeout: WAIT });
    const oncallRead = table.locator(`[data-testid="access-log-row"][data-username="${e2e.server.accounts.oncall.username}"][data-action="read"]`);
    assert.ok((await oncallRead.count()) >= 1, 'the on-call worker\'s read is listed');
    const cells = await oncallRead.first().locator('td').allInnerTexts();
    assert.equal(cells[1], e2e.server.accounts.oncall.username);
    assert.equal(cells[2], messages.fi['role.oncall']);
    assert.equal(cells[3], messages.fi['access.action.read']);
    assert.equal(cells[6], messages.fi['access.result.allowed']);
    assert.match(cells[0], /\d{1,2}:\d{2}$/);
    const written = table.locator(`[data-testid="access-log-row"][data-username="${e2e.server.accounts.supervisor.username}"][data-action="write"]`);
    assert.equal(await written.count(), 1);
    assert.deepEqual(await seriousViolations(boss.page), []);
    await boss.page.keyboard.press('Escape');
    await logDialog.waitFor({ state: 'detached', timeout: WAIT });
    assert.equal(await focusedTestId(boss.page), 'entry-access-log');

    // A read outside own work carries its reason in the log's purpose, and a refused one is
    // marked: those rows can only come from a server whose clock has moved on (see the top),
    // so the log answers them here through page.route.
    await boss.page.route(`**/api/v1/access-log?entry=${entry.id}`, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify([
          { at: at, user_id: 1, username: 'paivystaja', role: 'oncall', action: 'read', record_type: 'entry', record_id: entry.id, purpose: null, result: 'refused' },
          { at: at, user_id: 1, username: 'paivystaja', role: 'oncall', action: 'read', record_type: 'entry', record_id: entry.id, purpose: `outside own work: ${reason}`, result: 'allowed' },
        ]),
      }),
    );
    await logButton.click();
    await logDialog.getByTestId('access-log-row').nth(1).waitFor({ timeout: WAIT });
    const rows = logDialog.getByTestId('access-log-row');
    assert.equal(await rows.nth(0).locator('td').nth(6).innerText(), messages.fi['access.result.refused']);
    const purpose = await rows.nth(1).getByTestId('access-log-purpose').innerText();
    assert.match(purpose, new RegExp(messages.fi['access.purpose.outside_work']));
    assert.match(purpose, new RegExp(reason));
    await boss.page.getByTestId('access-log-close').click();
    await logDialog.waitFor({ state: 'detached', timeout: WAIT });
    await boss.page.unroute(`**/api/v1/access-log?entry=${entry.id}`);
    await boss.page.getByTestId('panel-close').click();

    // The client's access report (folded until opened): found by name (spacing and case
    // ignored) and birth date.
    const form = boss.page.getByTestId('subject-report-form');
    assert.equal(await form.isVisible(), false);
    await boss.page.getByTestId('subject-report').locator('summary').click();
    await form.getByTestId('subject-report-submit').click();
    await form.locator('.field-error').filter({ hasText: messages.fi['access.report.name_required'] }).waitFor({ timeout: WAIT });
    await form.getByTestId('subject-report-name').fill(`  ${CLIENT.name.toUpperCase().replace(' ', '   ')} `);
    await form.getByTestId('subject-report-birth-date').fill(CLIENT.birth_date);
    await form.getByTestId('subject-report-submit').click();
    const result = boss.page.getByTestId('subject-report-result');
    await result.getByTestId('access-log-table').waitFor({ timeout: WAIT });
    assert.equal(await result.getByTestId('subject-report-entries').innerText(), '1');
    const reportRows = result.getByTestId('access-log-row');
    assert.ok((await reportRows.count()) >= 2, 'the write and the read');
    assert.equal(await result.locator(`[data-testid="access-log-row"][data-username="${e2e.server.accounts.oncall.username}"][data-action="read"]`).count() >= 1, true);
    assert.equal(await result.getByTestId('subject-report-warning').count(), 0);
    assert.deepEqual(await seriousViolations(boss.page), []);

    // Another birth date: nobody. A period beginning three years ago: the warning.
    await form.getByTestId('subject-report-birth-date').fill('1990-01-01');
    await form.getByTestId('subject-report-submit').click();
    await result.getByTestId('subject-report-none').waitFor({ timeout: WAIT });
    assert.equal(await result.getByTestId('subject-report-entries').innerText(), '0');
    await form.getByTestId('subject-report-birth-date').fill(CLIENT.birth_date);
    const threeYearsAgo = new Date(Date.now() - 3 * 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    await form.getByTestId('subject-report-from').fill(threeYearsAgo);
    await form.getByTestId('subject-report-submit').click();
    await result.getByTestId('subject-report-warning').waitFor({ timeout: WAIT });
    assert.match(await result.getByTestId('subject-report-warning').innerText(), new RegExp(messages.fi['access.report.warning'].slice(0, 30)));
    assert.equal(await result.getByTestId('subject-report-entries').innerText(), '1');

    // Print: the report alone.
    await boss.page.evaluate(() => {
      window.print = () => {};
    });
    await result.getByTestId('subject-report-print').click();
    await boss.page.emulateMedia({ media: 'print' });
    const printed = await boss.page.evaluate(() => {
      const shown = (el) => Boolean(el && el.getClientRects().length > 0);
      return {
        report: shown(document.querySelector('[data-testid="subject-report-result"] [data-testid="access-log-table"]')),
        board: shown(document.querySelector('[data-testid="board"]')),
        flags: shown(document.querySelector('[data-testid="supervision-flags"]')),
        form: shown(document.querySelector('[data-testid="subject-report-form"]')),
        printButton: shown(document.querySelector('[data-testid="subject-report-print"]')),
        topbar: shown(document.querySelector('.topbar')),
      };
    });
    assert.deepEqual(printed, { report: true, board: false, flags: false, form: false, printButton: false, topbar: false });
    await boss.page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
    await boss.page.emulateMedia({ media: 'screen' });
    assert.equal(await boss.page.getByTestId('board').isVisible(), true);

    // In Swedish, every label follows.
    await boss.page.getByTestId('lang-sv').click();
    await supervision.locator('h2').filter({ hasText: messages.sv['access.supervision.title'] }).waitFor({ timeout: WAIT });
    await assertAllTranslated(boss.page, 'sv');
    assert.deepEqual(boss.errors, []);
    assert.deepEqual(desk.errors, []);
  } finally {
    await desk.context.close();
    await boss.context.close();
  }
});
