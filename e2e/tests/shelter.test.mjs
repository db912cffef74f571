// The shelter (turvakoti) in real browsers: the desk refers a client with a one-time code,
// the shelter logs the arrival by that code, and the desk sees it live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seriousViolations, assertAllTranslated, messages, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';

const e2e = suite();
const { worker } = e2e;

/** The desk's free family places, once the tile has them. */
async function tileFamilyFree(page) {
  const tile = page.locator('[data-testid="tile-shelter"][data-family-free]');
  await tile.waitFor({ timeout: WAIT });
  return Number(await tile.getAttribute('data-family-free'));
}

/** Opens the first entry on the board and asks for a referral code; returns its digits. */
async function referFromEntry(page) {
  await page.getByTestId('entry-row').first().click();
  const detail = page.getByTestId('entry-detail');
  await detail.waitFor({ timeout: WAIT });
  await detail.getByTestId('refer-shelter').click();
  const shown = detail.getByTestId('referral-code');
  await shown.waitFor({ timeout: WAIT });
  const text = (await shown.textContent()).trim();
  assert.match(text, /^\d{4} \d{4}$/, 'the code is shown grouped');
  return text.replace(/\s/g, '');
}

/** Fills the new-arrival form (a mother and a small child) and saves it. */
async function logArrival(page, { code = '', alias = `Asiakas ${Date.now()}` } = {}) {
  await page.getByTestId('stay-new').click();
  const form = page.getByTestId('stay-form');
  await form.waitFor({ timeout: WAIT });
  await page.getByTestId('stay-referral-code').fill(code);
  await page.getByTestId('stay-alias').fill(alias);
  await page.getByTestId('stay-adults').fill('1');
  await page.getByTestId('stay-children-0_6').fill('1');
  await page.getByTestId('stay-children-7_12').fill('0');
  await page.getByTestId('stay-children-13_17').fill('0');
  await page.getByTestId('stay-sex-female').fill('1');
  await page.getByTestId('stay-sex-male').fill('0');
  await page.getByTestId('stay-sex-other').fill('0');
  await page.getByTestId('stay-sex-unknown').fill('1');
  await page.getByTestId('stay-violence-psychological').check();
  await page.getByTestId('stay-violence-physical').check();
  if (!code) await page.getByTestId('stay-source').selectOption('self');
  await page.getByTestId('stay-save').click();
  return alias;
}

test('a referral code given at the desk is used at the shelter, and the desk sees the arrival live', async () => {
  const desk = await worker('oncall');
  const shelter = await worker('shelter');
  try {
    const freeBefore = await tileFamilyFree(desk.page);
    const code = await referFromEntry(desk.page);
    const status = desk.page.getByTestId('entry-detail').locator(`[data-testid="referral-status"][data-code="${code}"]`);
    await status.and(desk.page.locator('[data-status="issued"]')).waitFor({ timeout: WAIT });

    await shelter.page.getByTestId('shelter-console').waitFor({ timeout: WAIT });
    // The code is typed as the client says it, with a space in the middle.
    const alias = await logArrival(shelter.page, { code: `${code.slice(0, 4)} ${code.slice(4)}` });
    const detail = shelter.page.getByTestId('stay-detail');
    await detail.filter({ hasText: alias }).waitFor({ timeout: WAIT });
    await shelter.page.getByTestId('stay-row').filter({ hasText: alias }).waitFor({ timeout: WAIT });

    // The desk, without reloading: the referral arrived, and one family place fewer is free.
    await status.and(desk.page.locator('[data-status="arrived"]')).waitFor({ timeout: WAIT });
    await desk.page
      .locator(`[data-testid="tile-shelter"][data-family-free="${freeBefore - 1}"]`)
      .waitFor({ timeout: WAIT });
    const shelterFree = shelter.page.locator(`[data-testid="shelter-capacity"][data-family-free="${freeBefore - 1}"]`);
    await shelterFree.waitFor({ timeout: WAIT });

    // Nothing about the client crosses to the desk: the alias is nowhere on its page.
    assert.ok(!(await desk.page.locator('body').innerText()).includes(alias));
  } finally {
    await desk.context.close();
    await shelter.context.close();
  }
});

test('a wrong or already used code is refused with the same message', async () => {
  const desk = await worker('oncall');
  const shelter = await worker('shelter');
  try {
    const code = await referFromEntry(desk.page);
    await logArrival(shelter.page, { code });
    await shelter.page.getByTestId('stay-detail').waitFor({ timeout: WAIT });

    const wrong = code === '00000000' ? '11111111' : '00000000';
    for (const attempt of [wrong, code]) {
      await logArrival(shelter.page, { code: attempt });
      const error = shelter.page.getByTestId('stay-error');
      await error.filter({ hasText: 'the code is not valid' }).waitFor({ timeout: WAIT });
      assert.equal(await shelter.page.getByTestId('stay-referral-code').getAttribute('aria-invalid'), 'true');
      // Nothing was saved: the form is still there with what was typed.
      assert.equal(await shelter.page.getByTestId('stay-form').count(), 1);
      assert.notEqual(await shelter.page.getByTestId('stay-alias').inputValue(), '');
    }
  } finally {
    await desk.context.close();
    await shelter.context.close();
  }
});

test('a stale edit of a stay is reloaded and explained, and "Departed" frees the place', async () => {
  const a = await worker('shelter');
  const b = await worker('shelter');
  try {
    const alias = await logArrival(a.page, { alias: `Muokattava ${Date.now()}` });
    await a.page.getByTestId('stay-detail').filter({ hasText: alias }).waitFor({ timeout: WAIT });
    // The source chosen in the form comes back as the same value (shown with its label).
    assert.match(await a.page.getByTestId('stay-detail').innerText(), new RegExp(messages.fi['referral_source.self']));

    // Both open the same stay for editing; A saves first.
    await b.page.reload();
    const capacity = b.page.locator('[data-testid="shelter-capacity"][data-family-free]');
    await capacity.waitFor({ timeout: WAIT });
    const free = Number(await capacity.getAttribute('data-family-free'));
    await b.page.getByTestId('stay-row').filter({ hasText: alias }).click();
    await b.page.getByTestId('stay-detail').filter({ hasText: alias }).waitFor({ timeout: WAIT });
    for (const w of [a, b]) await w.page.getByTestId('stay-edit').click();
    await a.page.getByTestId('stay-notes').fill('Aamun huomio.');
    await a.page.getByTestId('stay-save').click();
    await a.page.getByTestId('stay-detail').filter({ hasText: 'Aamun huomio.' }).waitFor({ timeout: WAIT });

    // B's save meets a newer version: B is told, and what B typed is still in the form.
    await b.page.getByTestId('stay-notes').fill('Illan huomio.');
    await b.page.getByTestId('stay-save').click();
    await b.page.locator('.banner-error').filter({ hasText: messages.fi['shelter.changed_meanwhile'].slice(0, 20) }).waitFor({ timeout: WAIT });
    assert.equal(await b.page.getByTestId('stay-notes').inputValue(), 'Illan huomio.');
    await b.page.getByTestId('stay-save').click();
    await b.page.getByTestId('stay-detail').filter({ hasText: 'Illan huomio.' }).waitFor({ timeout: WAIT });

    // The identity fields stay hidden until asked for.
    const toggle = b.page.getByTestId('stay-identity-toggle');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');

    await b.page.getByTestId('stay-depart').click();
    await b.page.locator('[data-testid="stay-detail"].is-departed').waitFor({ timeout: WAIT });
    await b.page.getByTestId('stay-row').filter({ hasText: alias }).waitFor({ state: 'detached', timeout: WAIT });
    await b.page.locator(`[data-testid="shelter-capacity"][data-family-free="${free + 1}"]`).waitFor({ timeout: WAIT });
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('the shelter console and the referral in the entry detail pass an automated accessibility check', async () => {
  const shelter = await worker('shelter');
  const desk = await worker('oncall');
  try {
    await logArrival(shelter.page, { alias: 'Saavutettavuus' });
    await shelter.page.getByTestId('stay-detail').waitFor({ timeout: WAIT });
    await shelter.page.getByTestId('stay-row').first().waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(shelter.page), [], 'stays list and a stay');

    await shelter.page.getByTestId('stay-new').click();
    await shelter.page.getByTestId('stay-form').waitFor({ timeout: WAIT });
    await shelter.page.getByTestId('stay-identity-toggle').click();
    assert.deepEqual(await seriousViolations(shelter.page), [], 'arrival form');

    await referFromEntry(desk.page);
    await desk.page.getByTestId('entry-detail').getByTestId('referral-status').first().waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(desk.page), [], 'entry detail with a referral');
  } finally {
    await shelter.context.close();
    await desk.context.close();
  }
});

test('the shelter console speaks Swedish and English too', async () => {
  const shelter = await worker('shelter', 'sv');
  try {
    await shelter.page.getByTestId('shelter-console').waitFor({ timeout: WAIT });
    await shelter.page.locator('[data-testid="shelter-capacity"][data-family-free]').waitFor({ timeout: WAIT });
    await shelter.page.getByTestId('stay-new').click();
    await shelter.page.getByTestId('stay-form').waitFor({ timeout: WAIT });
    await assertAllTranslated(shelter.page, 'sv');
    assert.match(await shelter.page.getByTestId('stay-form').innerText(), new RegExp(messages.sv['shelter.hint.alias']));

    await shelter.page.getByTestId('lang-en').click();
    await assertAllTranslated(shelter.page, 'en');
    assert.match(await shelter.page.getByTestId('stay-form').innerText(), /Chosen with the client; no real name needed/);
    assert.match(await shelter.page.getByTestId('shelter-capacity').innerText(), /family places/);

    await shelter.page.getByTestId('shelter-nav-stats').click();
    await shelter.page.getByTestId('shelter-stats').locator('table').first().waitFor({ timeout: WAIT });
    await assertAllTranslated(shelter.page, 'en');
    assert.match(await shelter.page.getByTestId('shelter-stats-csv').getAttribute('href'), /format=csv/);
  } finally {
    await shelter.context.close();
  }
});
