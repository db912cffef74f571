// Online reports as the staff meet them: an urgent report raises a banner on the on-call
// desk at once and opens into its entry with the whole report; information the reporter adds
// later appears live; the receiving team reads the report from its inbox and sees that
// something new was added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { seriousViolations, messages, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';

const e2e = suite();
const { worker } = e2e;

/** Sends a report as the public form does; the receipt. */
async function sendReport(fields) {
  const res = await fetch(`${e2e.server.base}/api/v1/public/reports`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      kind: 'child_welfare',
      urgent: false,
      language: 'fi',
      client_id: randomUUID(),
      description: 'Naapurin pienet lapset ovat olleet yksin kotona koko illan.',
      reporter: { professional: false },
      ...fields,
    }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

async function addInformation(receipt, text) {
  const res = await fetch(`${e2e.server.base}/api/v1/public/reports/${receipt.reference}/additions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ secret: receipt.secret, text, client_id: randomUUID() }),
  });
  assert.equal(res.status, 201, await res.clone().text());
}

const banner = (page, receipt) => page.locator(`[data-testid="report-alert"][data-reference="${receipt.reference}"]`);

test('an urgent report raises a banner on the desk that opens the whole report, and additions appear live', async () => {
  const desk = await worker('oncall');
  try {
    await desk.page.getByTestId('board').waitFor({ timeout: WAIT });
    const receipt = await sendReport({
      urgent: true,
      subject: { name: 'Lapsi Esimerkki', age: 4, municipality: 'Porvoo', guardians: 'Äiti Anna, 040 111 2222' },
      reporter: { professional: true, name: 'Aino Aalto', organisation: 'Porvoon päiväkoti', phone: '040 123 4567' },
    });

    const alert = banner(desk.page, receipt);
    await alert.waitFor({ timeout: WAIT });
    const text = await alert.innerText();
    assert.match(text, /lastensuojeluilmoitus/i);
    assert.match(text, new RegExp(receipt.reference));
    assert.deepEqual(await seriousViolations(desk.page), []);

    await alert.getByTestId('report-alert-open').click();
    const section = desk.page.locator('[data-testid="entry-report"][data-state="ready"]');
    await section.waitFor({ timeout: WAIT });
    assert.equal(await section.getAttribute('data-reference'), receipt.reference);
    assert.match(await section.getByTestId('report-description').innerText(), /yksin kotona koko illan/);
    const reporter = await section.getByTestId('report-reporter').innerText();
    assert.match(reporter, /Porvoon päiväkoti/);
    assert.match(reporter, /040 123 4567/);
    assert.match(await section.getByTestId('report-subject').innerText(), /Äiti Anna/);
    assert.equal(await section.getByTestId('report-addition').count(), 0);

    // The reporter remembers something more; the open report shows it without a reload.
    await addInformation(receipt, 'Isä tulee kotiin vasta aamulla.');
    await section.getByTestId('report-addition').filter({ hasText: 'Isä tulee kotiin vasta aamulla.' }).waitFor({ timeout: WAIT });

    await alert.getByTestId('report-alert-dismiss').click();
    await alert.waitFor({ state: 'detached', timeout: WAIT });
    assert.deepEqual(desk.errors, []);
  } finally {
    await desk.context.close();
  }
});

test('a calm report raises no banner; the team reads it from its inbox and sees new information marked', async () => {
  const team = await worker('team', 'sv');
  const desk = await worker('oncall');
  try {
    await team.page.getByTestId('team-inbox').waitFor({ timeout: WAIT });
    const receipt = await sendReport({ language: 'sv', description: 'Barnen verkar hungriga varje morgon.' });

    // The handover reaches the team's inbox live.
    const row = team.page.getByTestId('inbox-item').filter({ hasText: 'hungriga varje morgon' });
    await row.waitFor({ timeout: WAIT });
    await desk.page.getByTestId('board').waitFor({ timeout: WAIT });
    assert.equal(await banner(desk.page, receipt).count(), 0, 'only urgent reports alert the desk');

    // Something is added while the team has not opened it: the row says so.
    await addInformation(receipt, 'Det gäller familjen på tredje våningen.');
    await row.getByTestId('report-new-info').waitFor({ timeout: WAIT });
    assert.match(await row.getByTestId('report-new-info').innerText(), new RegExp(messages.sv['report.new_info']));

    await row.click();
    const section = team.page.locator('[data-testid="entry-report"][data-state="ready"]');
    await section.waitFor({ timeout: WAIT });
    assert.match(await section.getByTestId('report-description').innerText(), /hungriga/);
    assert.match(await section.getByTestId('report-reporter-type').innerText(), new RegExp(messages.sv['report.reporter_anonymous'] ?? 'Anonym'));
    await section.getByTestId('report-addition').filter({ hasText: 'tredje våningen' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(team.page), []);
    assert.deepEqual(team.errors, []);
  } finally {
    await team.context.close();
    await desk.context.close();
  }
});
