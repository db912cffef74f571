// Handovers to daytime teams in a real browser: the night desk hands an entry over, the
// team sees it in its inbox, acknowledges, forwards or returns it, and the desk sees it live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seriousViolations, assertAllTranslated, messages, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';

const e2e = suite();
const { worker } = e2e;

/** The demo night's entries (fixed ids, see src/demo.rs). */
const NIGHT = {
  childrenAlone: '0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000001',
  olderPerson: '0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000004',
  homeless: '0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000005',
  callback: '0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000006',
};
const TEAM_MEMBER = 'Lastensuojelun tiimi (demo)';

function handoverItem(page, id) {
  return page.locator(`[data-testid="handover-item"][data-handover-id="${id}"]`);
}

function inboxItem(page, id) {
  return page.locator(`[data-testid="inbox-item"][data-handover-id="${id}"]`);
}

/** Opens an entry's detail on the desk and waits for its handover section. */
async function openEntry(page, entryId) {
  await page.locator(`[data-testid="entry-row"][data-entry-id="${entryId}"]`).click();
  await page.locator(`[data-testid="entry-detail"][data-entry-id="${entryId}"]`).waitFor({ timeout: WAIT });
  await page.getByTestId('handover-form').waitFor({ timeout: WAIT });
  // The team names have loaded into the select.
  await page.locator('[data-testid="handover-team"] option[value="child_welfare"]').waitFor({ state: 'attached', timeout: WAIT });
}

/** Fills and sends the handover form; resolves to the new handover's id. */
async function handOver(page, { team, note, urgent = false }) {
  const before = await page.getByTestId('handover-item').evaluateAll((els) => els.map((el) => el.dataset.handoverId));
  await page.getByTestId('handover-team').selectOption(team);
  await page.getByTestId('handover-note').fill(note);
  if (urgent) await page.getByTestId('handover-urgent').check();
  await page.getByTestId('handover-send').click();
  // The server's answer (the live event may show the new handover a moment earlier).
  await page.locator('.handover-message .banner-success').waitFor({ timeout: WAIT });
  const fresh = page
    .locator('[data-testid="handover-item"][data-state="pending"]')
    .filter({ hasNot: page.locator(before.map((id) => `[data-handover-id="${id}"]`).join(',') || '#none *') });
  await fresh.first().waitFor({ timeout: WAIT });
  const ids = await page.getByTestId('handover-item').evaluateAll((els) => els.map((el) => el.dataset.handoverId));
  const added = ids.filter((id) => !before.includes(id));
  assert.equal(added.length, 1, `one new handover: ${added.join(', ')}`);
  // The form is empty again for the next one.
  assert.equal(await page.getByTestId('handover-note').inputValue(), '');
  return added[0];
}

/** Opens a handover in the team's inbox and waits for its detail. */
async function openInInbox(page, id) {
  await inboxItem(page, id).click();
  await page.locator(`[data-testid="inbox-detail"][data-handover-id="${id}"]`).waitFor({ timeout: WAIT });
}


test('a handover reaches the team inbox live, and the acknowledgement reaches the desk live', async () => {
  const desk = await worker('oncall');
  const team = await worker('team');
  try {
    // The team member sees the inbox of their own team, not the desk's board.
    await team.page.getByTestId('team-inbox').waitFor({ timeout: WAIT });
    assert.match(await team.page.getByTestId('inbox-title').innerText(), /Lastensuojelu/);
    assert.equal(await team.page.getByTestId('board').isVisible(), false);

    await openEntry(desk.page, NIGHT.childrenAlone);
    const note = `Lapset yksin kotona, äiti palasi klo 23.40. Pyydetään palvelutarpeen arviointia. Soita äidille aamulla. ${Date.now()}`;
    const id = await handOver(desk.page, { team: 'child_welfare', note });
    const item = handoverItem(desk.page, id);
    // A child welfare entry starts the LsL 26 § clock by itself.
    assert.match(await item.innerText(), new RegExp(messages.fi['handover.legal_due']));
    assert.match(await item.innerText(), /LsL 26 §/);

    // The open inbox shows it without a reload.
    await inboxItem(team.page, id).waitFor({ timeout: WAIT });
    assert.equal(await inboxItem(team.page, id).getAttribute('data-state'), 'pending');
    await team.page.locator('#live-region').filter({ hasText: messages.fi['announce.new_handover'].split(',')[0] }).waitFor({ state: 'attached', timeout: WAIT });

    await openInInbox(team.page, id);
    const detail = team.page.getByTestId('inbox-detail');
    assert.equal(await team.page.getByTestId('inbox-note').innerText(), note);
    const entryText = await team.page.getByTestId('inbox-entry').innerText();
    assert.match(entryText, /Naapuri huolissaan: pienet lapset yksin kotona/);
    assert.match(entryText, /Naapuri kuullut itkua/);
    assert.match(entryText, /Perhe, Koivukuja/);
    assert.match(entryText, new RegExp(messages.fi['channel.phone_in']));

    await team.page.getByTestId('inbox-ack').click();
    await detail.and(team.page.locator('[data-state="acknowledged"]')).waitFor({ timeout: WAIT });
    await inboxItem(team.page, id).and(team.page.locator('[data-state="acknowledged"]')).waitFor({ timeout: WAIT });

    // The night worker's console shows who acknowledged it, without a reload.
    await item.and(desk.page.locator('[data-state="acknowledged"]')).waitFor({ timeout: WAIT });
    await item.filter({ hasText: TEAM_MEMBER }).waitFor({ timeout: WAIT });
    // The tile counts it as open (acknowledged is still open until done).
    const open = Number(await desk.page.getByTestId('handovers-open-count').innerText());
    assert.ok(open >= 1, `open handovers: ${open}`);

    assert.deepEqual(desk.errors, []);
    assert.deepEqual(team.errors, []);
  } finally {
    await desk.context.close();
    await team.context.close();
  }
});

test('a team member forwards a handover with a reason and it leaves their open inbox', async () => {
  const desk = await worker('oncall');
  try {
    await openEntry(desk.page, NIGHT.olderPerson);
    const note = `Muistisairas asiakas eksyi yöllä. ${Date.now()}`;
    const id = await handOver(desk.page, { team: 'child_welfare', note, urgent: true });

    // The team member logs in afterwards and finds it waiting.
    const team = await worker('team');
    try {
      await inboxItem(team.page, id).waitFor({ timeout: WAIT });
      assert.match(await inboxItem(team.page, id).innerText(), new RegExp(messages.fi['handover.urgent_flag']));
      await openInInbox(team.page, id);
      await team.page.getByTestId('inbox-forward').click();
      await team.page.getByTestId('inbox-forward-team').selectOption('families');
      await team.page.getByTestId('inbox-forward-reason').fill('Ikääntyneen asia, ei lastensuojelua: perhepalveluiden kautta omaisille.');
      await team.page.getByTestId('inbox-forward-send').click();

      await team.page.locator(`[data-testid="inbox-detail"][data-handover-id="${id}"][data-state="forwarded"]`).waitFor({ timeout: WAIT });
      await inboxItem(team.page, id).waitFor({ state: 'detached', timeout: WAIT });
      assert.match(await team.page.getByTestId('inbox-detail').innerText(), /Lapsiperheiden palvelut/);

      // The desk sees it forwarded, and the families team has a new handover from it.
      await handoverItem(desk.page, id).and(desk.page.locator('[data-state="forwarded"]')).waitFor({ timeout: WAIT });
      const copy = await desk.page.evaluate(async (from) => {
        const r = await fetch('/api/v1/teams/families/handovers');
        return (await r.json()).find((x) => x.forwarded_from === from) || null;
      }, id);
      assert.ok(copy, 'families got the forwarded handover');
      assert.equal(copy.state, 'pending');
      // The desk's tile counts what is open at any team, as the server does.
      const open = await desk.page.evaluate(async () => (await (await fetch('/api/v1/handovers?state=open')).json()).length);
      await desk.page.getByTestId('handovers-open-count').filter({ hasText: new RegExp(`^${open}$`) }).waitFor({ timeout: WAIT });
      assert.deepEqual(team.errors, []);
    } finally {
      await team.context.close();
    }
  } finally {
    await desk.context.close();
  }
});

test('a team returns a handover with a question and the desk answers it', async () => {
  const desk = await worker('oncall');
  const team = await worker('team');
  try {
    await openEntry(desk.page, NIGHT.callback);
    const id = await handOver(desk.page, { team: 'child_welfare', note: `Takaisinsoitto tehty, perhe rauhoittunut. ${Date.now()}` });
    await openInInbox(team.page, id);
    await team.page.getByTestId('inbox-return').click();
    await team.page.getByTestId('inbox-return-question').fill('Kenen puhelinnumeroon soitetaan?');
    await team.page.getByTestId('inbox-return-send').click();
    await team.page.locator('[data-testid="inbox-detail"][data-state="returned"]').waitFor({ timeout: WAIT });

    // The desk sees the question live, and the tile lists the returned handover.
    const item = handoverItem(desk.page, id);
    await item.and(desk.page.locator('[data-state="returned"]')).waitFor({ timeout: WAIT });
    await item.getByTestId('handover-question').filter({ hasText: 'Kenen puhelinnumeroon' }).waitFor({ timeout: WAIT });
    await desk.page.locator(`[data-testid="tile-returned-handover"][data-handover-id="${id}"]`).waitFor({ timeout: WAIT });

    assert.deepEqual(await seriousViolations(desk.page), [], 'entry detail with a returned handover');
    await item.getByTestId('handover-answer').fill('Äidin numeroon, 040 123 4567.');
    await item.getByTestId('handover-answer-send').click();
    await item.and(desk.page.locator('[data-state="pending"]')).waitFor({ timeout: WAIT });
    await desk.page.locator(`[data-testid="tile-returned-handover"][data-handover-id="${id}"]`).waitFor({ state: 'detached', timeout: WAIT });

    // Back in the team's inbox with the answer in the note.
    await team.page.locator(`[data-testid="inbox-detail"][data-handover-id="${id}"][data-state="pending"]`).waitFor({ timeout: WAIT });
    await team.page.getByTestId('inbox-note').filter({ hasText: '040 123 4567' }).waitFor({ timeout: WAIT });
    assert.deepEqual(desk.errors, []);
    assert.deepEqual(team.errors, []);
  } finally {
    await desk.context.close();
    await team.context.close();
  }
});

test('a handover whose answer was lost, or that was written offline, reaches the team exactly once', async () => {
  const desk = await worker('oncall');
  try {
    await openEntry(desk.page, NIGHT.homeless);
    // The server gets the first POST but its answer never arrives: the outbox sends it again
    // with the same client-generated id, and the server answers with the same handover.
    let posts = 0;
    await desk.page.route('**/api/v1/entries/*/handovers', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      posts += 1;
      if (posts > 1) return route.continue();
      await route.fetch();
      return route.abort('connectionreset');
    });
    const lostNote = `Vastaus katosi matkalla. ${Date.now()}`;
    await desk.page.getByTestId('handover-team').selectOption('adults');
    await desk.page.getByTestId('handover-note').fill(lostNote);
    await desk.page.getByTestId('handover-send').click();
    // The worker is told it waits to be sent; the resend then goes through.
    await desk.page.locator('.handover-message').filter({ hasText: messages.fi['handover.queued'] }).waitFor({ timeout: WAIT });
    await desk.page.locator('.notice').filter({ hasText: messages.fi['handover.sent_later'].split(':')[0] }).waitFor({ timeout: 15_000 });
    assert.equal(posts, 2, 'sent twice');
    await desk.page.unroute('**/api/v1/entries/*/handovers');
    const afterLost = await desk.page.evaluate(async (entryId) => (await fetch(`/api/v1/entries/${entryId}/handovers`)).json(), NIGHT.homeless);
    const lostId = afterLost.find((x) => x.note === lostNote)?.id;
    assert.ok(lostId, 'stored');
    await handoverItem(desk.page, lostId).and(desk.page.locator('[data-state="pending"]')).waitFor({ timeout: WAIT });

    // Offline: the handover waits in the outbox and goes out once the network is back.
    await desk.context.setOffline(true);
    await desk.page
      .getByTestId('connection-state')
      .and(desk.page.locator('[data-state="offline"], [data-state="reconnecting"]'))
      .waitFor({ timeout: WAIT });
    const offlineNote = `Kirjoitettu ilman verkkoa. ${Date.now()}`;
    await desk.page.getByTestId('handover-team').selectOption('adults');
    await desk.page.getByTestId('handover-note').fill(offlineNote);
    await desk.page.getByTestId('handover-send').click();
    const unsent = desk.page.locator('[data-testid="handover-item"][data-state="unsent"]');
    await unsent.waitFor({ timeout: WAIT });
    const offlineId = await unsent.getAttribute('data-handover-id');
    await desk.page.getByTestId('outbox-count').filter({ hasText: '1' }).waitFor({ timeout: WAIT });
    await desk.context.setOffline(false);
    await desk.page.getByTestId('connection-state').and(desk.page.locator('[data-state="live"]')).waitFor({ timeout: 15_000 });
    await handoverItem(desk.page, offlineId).and(desk.page.locator('[data-state="pending"]')).waitFor({ timeout: WAIT });

    const stored = await desk.page.evaluate(async (entryId) => (await fetch(`/api/v1/entries/${entryId}/handovers`)).json(), NIGHT.homeless);
    assert.equal(stored.filter((x) => x.note === lostNote).length, 1, 'the lost answer did not double it');
    assert.equal(stored.filter((x) => x.note === offlineNote).length, 1, 'sent once after the network returned');
    assert.equal(await handoverItem(desk.page, lostId).count(), 1);
    assert.equal(await handoverItem(desk.page, offlineId).count(), 1);
    assert.deepEqual(desk.errors, []);
  } finally {
    await desk.context.close();
  }
});

test('the team inbox and its detail pass an automated accessibility check in every language', async () => {
  const desk = await worker('oncall');
  const team = await worker('team');
  try {
    await openEntry(desk.page, NIGHT.homeless);
    const id = await handOver(desk.page, { team: 'child_welfare', note: `Yöpaikka järjestetty. ${Date.now()}` });
    assert.deepEqual(await seriousViolations(desk.page), [], 'entry detail with handovers');

    await inboxItem(team.page, id).waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(team.page), [], 'team inbox');
    await openInInbox(team.page, id);
    assert.deepEqual(await seriousViolations(team.page), [], 'inbox detail');
    await team.page.getByTestId('inbox-forward').click();
    await team.page.getByTestId('inbox-forward-reason').waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(team.page), [], 'forward form');

    for (const lang of ['sv', 'en', 'fi']) {
      await team.page.getByTestId(`lang-${lang}`).click();
      await assertAllTranslated(team.page, lang);
      const title = await team.page.getByTestId('inbox-title').innerText();
      assert.ok(title.includes({ fi: 'Lastensuojelu', sv: 'Barnskydd', en: 'Child welfare' }[lang]), title);
    }
    assert.deepEqual(team.errors, []);

    // Signing out works as on the desk.
    await team.page.getByTestId('logout').click();
    await team.page.getByTestId('login-form').waitFor({ timeout: WAIT });
    assert.equal(await team.page.getByTestId('team-inbox').isVisible(), false);
  } finally {
    await desk.context.close();
    await team.context.close();
  }
});

test('the team prints its morning digest of what the night handed over', async () => {
  const night = await worker('oncall');
  const team = await worker('team');
  try {
    await openEntry(night.page, NIGHT.callback);
    const note = `Aamukoosteeseen ${Date.now()}: soita perheelle klo 9.`;
    await handOver(night.page, { team: 'child_welfare', note });

    const link = team.page.getByTestId('digest-link');
    assert.match(await link.getAttribute('href'), /\/digest\?team=child_welfare$/);
    const digest = await team.context.newPage();
    await digest.goto(`${e2e.server.base}/digest?team=child_welfare&lang=fi`);
    await digest.getByTestId('digest-row').filter({ hasText: note }).waitFor({ timeout: WAIT });
    assert.match(await digest.getByTestId('digest-heading').innerText(), /Lastensuojelu/);
    await assertAllTranslated(digest, 'fi');
    assert.deepEqual(await seriousViolations(digest), [], 'digest page');

    // The print stylesheet hides the buttons; the table stays.
    await digest.emulateMedia({ media: 'print' });
    assert.equal(await digest.getByTestId('digest-print').isVisible(), false);
    assert.equal(await digest.getByTestId('digest-table').isVisible(), true);

    const csvHref = await digest.getByTestId('digest-csv').getAttribute('href');
    const csv = await digest.evaluate(async (href) => (await fetch(href)).text(), csvHref);
    assert.ok(csv.startsWith('handed_over,due,legal_due'), csv.slice(0, 80));
    assert.ok(csv.includes(note), 'the note is in the CSV');
  } finally {
    await night.context.close();
    await team.context.close();
  }
});
