// The public report page (/report) as someone worried about a child, an adult or an old
// person uses it: on a phone, often anonymous, perhaps in a hurry. Reports go to the real
// server; the desk's side is read through the staff API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seriousViolations, WAIT } from '../lib/browser.mjs';
import { suite } from '../lib/suite.mjs';
import { publicMessages, assertPublicTranslated, workerApi, eventually } from '../lib/public.mjs';

const NEUTRAL = 'https://www.google.com/';
const PHONE = { viewport: { width: 360, height: 740 }, locale: 'fi-FI', hasTouch: true };
const CODE = '[2-9A-HJ-NP-Z]';
const REFERENCE = new RegExp(`^${CODE}{4}-${CODE}{4}$`);
const KINDS = ['contact', 'concern', 'child_welfare', 'older_person'];
const LOCALES = { fi: 'fi-FI', sv: 'sv-FI', en: 'en-GB' };

let desk;
const e2e = suite({
  async setup(server) {
    desk = await workerApi(server.base, server.accounts.oncall);
  },
});

/** A fresh phone (nothing stored) on /report, at step 1. */
async function phone(lang = 'fi', options = {}) {
  const context = await e2e.browser.newContext({ ...PHONE, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.goto(`${e2e.server.base}/report${lang ? `?lang=${lang}` : ''}`);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT });
  await page.getByTestId('step-kind').waitFor({ timeout: WAIT });
  return { context, page, errors };
}

/** Steps 1 and 2: the kind, and whether it is urgent. */
async function chooseKind(page, kind, { urgent = false } = {}) {
  await page.getByTestId(`kind-${kind}`).check();
  await page.getByTestId('kind-continue').click();
  await page.getByTestId('step-urgent').waitFor({ timeout: WAIT });
  await page.getByTestId(urgent ? 'urgent-yes' : 'urgent-no').check();
  await page.getByTestId('urgent-continue').click();
  await page.getByTestId('step-form').waitFor({ timeout: WAIT });
}

/**
 * Step 3. reporter: null (private, anonymous), {private fields} or {professional: true, …}.
 */
async function fillForm(page, kind, { reporter = null, subject = {}, description, consent = true } = {}) {
  if (reporter?.professional) {
    await page.getByTestId('reporter-professional').check();
    if (reporter.name) await page.getByTestId('reporter-name').fill(reporter.name);
    if (reporter.organisation) await page.getByTestId('reporter-organisation').fill(reporter.organisation);
    if (reporter.phone) await page.getByTestId('reporter-phone').fill(reporter.phone);
    if (reporter.email) await page.getByTestId('reporter-email').fill(reporter.email);
  } else {
    await page.getByTestId('reporter-private').check();
    if (reporter?.name) await page.getByTestId('reporter-name').fill(reporter.name);
    if (reporter?.phone) await page.getByTestId('reporter-phone').fill(reporter.phone);
  }
  if (kind === 'contact' && consent) await page.getByTestId('consent').check();
  if (subject.name) await page.getByTestId('subject-name').fill(subject.name);
  if (subject.birth_date) await page.getByTestId('subject-birth-date').fill(subject.birth_date);
  if (subject.age !== undefined) await page.getByTestId('subject-age').fill(String(subject.age));
  if (subject.municipality) await page.getByTestId('subject-municipality').fill(subject.municipality);
  if (subject.guardians) await page.getByTestId('subject-guardians').fill(subject.guardians);
  await page.getByTestId('description').fill(description);
}

/** Clicks "send" and returns the server's answer: {status, body, request}. */
async function send(page, testId = 'report-submit') {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/public/reports') && r.request().method() === 'POST', {
      timeout: WAIT,
    }),
    page.getByTestId(testId).click(),
  ]);
  return { status: response.status(), body: await response.json(), request: response.request().postDataJSON() };
}

/** The due date as the page must show it: weekday and date in Helsinki, in the language. */
function helsinkiDay(iso, lang) {
  const at = new Date(iso);
  const fmt = (options) => new Intl.DateTimeFormat(LOCALES[lang], { timeZone: 'Europe/Helsinki', ...options }).format(at);
  return `${fmt({ weekday: 'short' })} ${fmt({ day: 'numeric', month: 'numeric', year: 'numeric' })}`;
}

const TIME_WORD = { fi: /klo \d{1,2}\.\d{2}/, sv: /kl\. \d{1,2}\.\d{2}/, en: /at \d{1,2}:\d{2}/ };

/** The receipt shows what the server answered, in the page's language. */
async function assertReceipt(page, answer, lang) {
  const m = publicMessages[lang];
  const heading = page.getByTestId('receipt-heading');
  await heading.waitFor({ timeout: WAIT });
  assert.equal((await heading.textContent()).trim(), m['report.receipt.heading']);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'receipt-heading', 'focus moves to the receipt');

  const reference = (await page.getByTestId('receipt-reference').textContent()).trim();
  assert.match(reference, REFERENCE);
  assert.equal(reference, answer.reference);
  const secret = (await page.getByTestId('receipt-secret').textContent()).trim();
  assert.ok(secret.length >= 10, 'a secret is shown');
  assert.equal(secret, answer.secret);
  assert.equal(
    (await page.getByTestId('receipt-secret-warning').textContent()).trim(),
    m['report.receipt.secret_warning'],
  );

  const due = await page.getByTestId('receipt-due').textContent();
  assert.ok(due.includes(helsinkiDay(answer.due_at, lang)), `due "${due}" names ${helsinkiDay(answer.due_at, lang)}`);
  assert.match(due, TIME_WORD[lang]);
  assert.match(await page.getByTestId('receipt-received').textContent(), TIME_WORD[lang]);
  assert.ok((await page.getByTestId('receipt-team').textContent()).includes(answer.team_name));
  assert.equal(await page.getByTestId('receipt-urgent').isVisible(), answer.urgent === true);
  return { reference, secret };
}

/** Nothing of the report may stay on a shared device. */
async function assertNothingStored(page) {
  const stored = await page.evaluate(() => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookie: document.cookie,
  }));
  assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
}

/** Every event on the desk stream so far. */
async function deskEvents() {
  const all = [];
  let since = 0;
  for (let pages = 0; pages < 200; pages += 1) {
    const batch = await desk.get(`/api/v1/streams/desk/events?since=${since}`);
    if (!Array.isArray(batch) || batch.length === 0) break;
    all.push(...batch);
    since = batch[batch.length - 1].seq;
  }
  return all;
}

const FI_CASES = [
  {
    kind: 'contact',
    reporter: null,
    subject: { name: 'Matti Meikäläinen', age: 47, municipality: 'Tampere' },
    description: 'Naapurini on pyytänyt apua asumiseen ja raha-asioihin. Hän tietää, että otan yhteyttä.',
  },
  {
    kind: 'concern',
    reporter: { professional: true, name: 'Terhi Terveydenhoitaja', organisation: 'Hervannan terveysasema', phone: '040 123 4567' },
    subject: { name: 'Pekka Virtanen', birth_date: '1961-04-12' },
    description: 'Potilas ei ole käynyt hakemassa lääkkeitään ja vaikuttaa sekavalta.',
  },
  {
    kind: 'child_welfare',
    reporter: null,
    subject: { age: 9, municipality: 'Nokia', guardians: 'Äiti, puh. 050 111 2222' },
    description: 'Lapsi on ollut usein yksin kotona myöhään illalla, ja hän on kertonut olevansa nälkäinen.',
  },
  {
    kind: 'older_person',
    reporter: { professional: true, name: 'Kalle Kotihoitaja', organisation: 'Kotihoito Itä', phone: '+358 40 765 4321', email: 'kalle@example.fi' },
    subject: { name: 'Aino Lehtonen', birth_date: '1936-01-30', municipality: 'Kangasala' },
    description: 'Asiakas on kaatunut kotona kahdesti viikon aikana eikä enää pärjää yksin.',
  },
];

test('Finnish: each of the four kinds is sent and gives a receipt with reference, secret and due date', async () => {
  const fi = publicMessages.fi;
  const { context, page, errors } = await phone('fi');
  try {
    for (const [i, c] of FI_CASES.entries()) {
      await chooseKind(page, c.kind);
      assert.equal((await page.getByTestId('form-heading').textContent()).trim(), fi[`report.kind.${c.kind}`]);
      assert.equal(await page.getByTestId('consent').isVisible(), c.kind === 'contact');
      assert.equal(await page.getByTestId('subject-guardians').isVisible(), c.kind === 'child_welfare');
      await fillForm(page, c.kind, c);
      const answer = await send(page);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));

      // The request says what was chosen, in the page language.
      const sent = answer.request;
      assert.equal(sent.kind, c.kind);
      assert.equal(sent.urgent, false);
      assert.equal(sent.language, 'fi');
      assert.equal(sent.website, '');
      assert.equal(sent.reporter.professional, Boolean(c.reporter?.professional));
      if (c.kind === 'contact') assert.equal(sent.consent, true);
      if (c.reporter?.professional) {
        assert.equal(sent.reporter.organisation, c.reporter.organisation);
      } else {
        assert.deepEqual(sent.reporter, { professional: false }, 'an anonymous reporter sends no contact details');
      }
      if (c.subject.guardians) assert.equal(sent.subject.guardians, c.subject.guardians);
      if (c.subject.age !== undefined) assert.equal(sent.subject.age, c.subject.age);

      await assertReceipt(page, answer.body, 'fi');
      await assertNothingStored(page);

      // Start over: an empty form, back at step 1.
      await page.getByTestId('receipt-new').click();
      await page.getByTestId('step-kind').waitFor({ timeout: WAIT });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'kind-heading');
      assert.equal(await page.getByTestId('description').inputValue(), '');
      assert.equal(await page.getByTestId('receipt-secret').textContent(), '');
      assert.equal(await page.getByTestId(`kind-${c.kind}`).isChecked(), false, `case ${i}`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('Swedish: each of the four kinds is sent and the receipt is in Swedish', async () => {
  const sv = publicMessages.sv;
  for (const kind of KINDS) {
    const { context, page, errors } = await phone('sv');
    try {
      await assertPublicTranslated(page, 'sv');
      await chooseKind(page, kind);
      assert.equal((await page.getByTestId('form-heading').textContent()).trim(), sv[`report.kind.${kind}`]);
      const professional = kind === 'child_welfare' || kind === 'older_person';
      await fillForm(page, kind, {
        reporter: professional
          ? { professional: true, name: 'Sara Lärare', organisation: 'Skolan i Vasa', phone: '050 222 3333' }
          : null,
        subject: { name: 'Elsa Andersson', municipality: 'Vasa', ...(kind === 'child_welfare' ? { age: 12 } : {}) },
        description: `Jag är orolig för hur hon klarar sig (${kind}).`,
      });
      const answer = await send(page);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.request.language, 'sv');
      await assertReceipt(page, answer.body, 'sv');
      assert.equal((await page.getByTestId('receipt-heading').textContent()).trim(), 'Anmälan har tagits emot');
      await assertPublicTranslated(page, 'sv');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  }
});

test('a professional without organisation and phone gets the server\'s answer under those fields, and keeps what was typed', async () => {
  const fi = publicMessages.fi;
  const { context, page } = await phone('fi');
  try {
    await chooseKind(page, 'concern');

    // The browser's own checks first: nothing is sent, the summary takes focus.
    let posted = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/public/reports')) posted += 1;
    });
    await page.getByTestId('report-submit').click();
    await page.getByTestId('error-summary').waitFor({ timeout: WAIT });
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'error-summary');
    assert.equal(posted, 0);
    assert.equal((await page.getByTestId('error-description').textContent()).trim(), fi['report.error.description_missing']);
    assert.deepEqual(await seriousViolations(page), [], 'the form with the browser\'s errors');

    const name = 'Paula Poliisi';
    const description = 'Henkilö löytyi kadulta kylmissään eikä osannut kertoa, missä asuu.\nToinen rivi.';
    await fillForm(page, 'concern', { reporter: { professional: true, name }, description });
    // Let the server judge: take away the browser's required-field checks.
    await page.evaluate(() => {
      for (const el of document.querySelectorAll('#report-form [required]')) el.removeAttribute('required');
    });
    const answer = await send(page);
    assert.equal(answer.status, 422);
    assert.equal(answer.body.error.code, 'validation_failed');
    const named = new Set([answer.body.error.field, ...(answer.body.error.fields ?? [])]);
    assert.ok(named.has('reporter.organisation') && named.has('reporter.phone'), JSON.stringify(answer.body));

    const summary = page.getByTestId('error-summary');
    await page.waitForFunction(() => document.activeElement?.dataset.testid === 'error-summary', null, { timeout: WAIT });
    for (const [field, key] of [
      ['reporter-organisation', 'report.error.reporter_organisation'],
      ['reporter-phone', 'report.error.reporter_phone'],
    ]) {
      const error = page.getByTestId(`error-${field}`);
      assert.equal(await error.isVisible(), true, field);
      assert.equal((await error.textContent()).trim(), fi[key]);
      const input = page.getByTestId(field);
      assert.equal(await input.getAttribute('aria-invalid'), 'true');
      assert.ok((await input.getAttribute('aria-describedby')).split(' ').includes(`${field}-error`));
      assert.equal(await summary.getByRole('link', { name: fi[key] }).count(), 1);
    }
    assert.equal(await page.getByTestId('error-reporter-name').isVisible(), false);
    assert.equal(await page.getByTestId('error-description').isVisible(), false);

    // Nothing typed is lost.
    assert.equal(await page.getByTestId('reporter-name').inputValue(), name);
    assert.equal(await page.getByTestId('description').inputValue(), description);
    assert.equal(await page.getByTestId('reporter-professional').isChecked(), true);
    assert.deepEqual(await seriousViolations(page), [], 'the form with the server\'s errors');

    // A link in the summary takes the person to the field.
    await summary.getByRole('link', { name: fi['report.error.reporter_phone'] }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'reporter-phone');

    // Put right, it goes through.
    await page.getByTestId('reporter-organisation').fill('Sisä-Suomen poliisilaitos');
    await page.getByTestId('reporter-phone').fill('0295 123 456');
    const again = await send(page);
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.request.description, description);
    await assertReceipt(page, again.body, 'fi');
  } finally {
    await context.close();
  }
});

test('without a connection the report waits on the page and can be sent again', async () => {
  const fi = publicMessages.fi;
  const { context, page } = await phone('fi');
  try {
    await chooseKind(page, 'older_person');
    const description = `Isä ei vastaa puhelimeen, ja postia on kertynyt ovelle. ${Date.now()}`;
    await fillForm(page, 'older_person', { description, subject: { name: 'Veikko Ahonen', age: 88 } });
    await context.setOffline(true);
    await page.getByTestId('report-submit').click();
    const problem = page.getByTestId('send-error');
    await problem.waitFor({ timeout: WAIT });
    assert.equal((await problem.textContent()).trim(), fi['report.error.network']);
    assert.equal(await page.getByTestId('description').inputValue(), description);
    assert.equal(await page.getByTestId('subject-name').inputValue(), 'Veikko Ahonen');
    assert.equal(await page.getByTestId('report-submit').isEnabled(), true);

    await context.setOffline(false);
    const answer = await send(page, 'send-retry');
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.request.description, description);
    await assertReceipt(page, answer.body, 'fi');
  } finally {
    await context.close();
  }
});

test('the description counter warns near the limit, and a too-long text is not sent', async () => {
  const fi = publicMessages.fi;
  const { context, page } = await phone('fi');
  try {
    await chooseKind(page, 'concern');
    await page.getByTestId('reporter-private').check();
    const counter = page.getByTestId('description-count');
    assert.equal((await counter.textContent()).trim(), fi['report.counter'].replace('{count}', '0').replace('{max}', '10\u00a0000'));
    // Near the limit the count says how much is left, and screen readers are told once.
    await page.getByTestId('description').fill('a'.repeat(9950));
    await page.locator('#description-count-live').filter({ hasText: /50/ }).waitFor({ timeout: WAIT });
    assert.match(await counter.textContent(), /jäljellä 50 merkkiä/);

    let posted = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/public/reports')) posted += 1;
    });
    await page.getByTestId('description').fill('a'.repeat(10_010));
    assert.match(await counter.textContent(), /10 liian pitkä|10 merkkiä liian pitkä/);
    await page.getByTestId('report-submit').click();
    const error = page.getByTestId('error-description');
    await error.waitFor({ timeout: WAIT });
    assert.equal((await error.textContent()).trim(), fi['report.error.too_long'].replace('{max}', '10\u00a0000'));
    assert.equal(posted, 0);
    assert.equal((await page.getByTestId('description').inputValue()).length, 10_010, 'nothing is cut off');
  } finally {
    await context.close();
  }
});

test('too many reports or attempts: the page says how long to wait and keeps the text', async () => {
  const fi = publicMessages.fi;
  const { context, page } = await phone('fi');
  try {
    // The server's limit is lifted for these tests, so its 429 is played here.
    const limited = (seconds) => (route) =>
      route.fulfill({
        status: 429,
        contentType: 'application/json',
        headers: { 'Retry-After': String(seconds) },
        body: JSON.stringify({ error: { code: 'rate_limited', message: 'too many', retry_after: seconds } }),
      });
    await page.route('**/api/v1/public/reports', limited(1500));
    await chooseKind(page, 'concern');
    const description = 'Tämä odottaa, kunnes saa lähettää.';
    await fillForm(page, 'concern', { description });
    await page.getByTestId('report-submit').click();
    const problem = page.getByTestId('send-error');
    await problem.waitFor({ timeout: WAIT });
    assert.equal((await problem.textContent()).trim(), fi['report.error.rate_limited'].replace('{minutes}', '25'));
    assert.equal(await page.getByTestId('description').inputValue(), description);
    assert.equal(await page.getByTestId('report-submit').isEnabled(), true);

    await page.route('**/api/v1/public/reports/*/additions', limited(61));
    await page.getByTestId('form-back').click();
    await page.getByTestId('urgent-back').click();
    await page.getByTestId('open-addition').click();
    await page.getByTestId('add-reference').fill('K7M3-Q9XP');
    await page.getByTestId('add-secret').fill('ABCDE-FGHJK-LMNPQ-RSTUV');
    await page.getByTestId('add-text').fill('Lisätieto');
    await page.getByTestId('add-submit').click();
    const addProblem = page.getByTestId('add-error');
    await addProblem.waitFor({ timeout: WAIT });
    assert.equal((await addProblem.textContent()).trim(), fi['report.add.rate_limited'].replace('{minutes}', '2'));
    assert.equal(await page.getByTestId('add-text').inputValue(), 'Lisätieto');
  } finally {
    await context.close();
  }
});

test('an urgent report shows "call now" first, still gives a receipt, and alerts the desk', async () => {
  const fi = publicMessages.fi;
  const { context, page } = await phone('fi');
  try {
    await page.getByTestId('kind-child_welfare').check();
    await page.getByTestId('kind-continue').click();
    await page.getByTestId('step-urgent').waitFor({ timeout: WAIT });
    assert.equal(await page.getByTestId('call-now').isVisible(), false);
    await page.getByTestId('urgent-yes').check();
    const callNow = page.getByTestId('call-now');
    await callNow.waitFor({ timeout: WAIT });
    assert.ok((await callNow.textContent()).includes(fi['report.urgent.call_heading']));
    assert.equal(await page.getByTestId('call-now-112').getAttribute('href'), 'tel:112');
    const oncall = page.getByTestId('call-now-oncall');
    await oncall.waitFor({ timeout: WAIT });
    assert.match(await oncall.getAttribute('href'), /^tel:\+?\d+$/);
    assert.deepEqual(await seriousViolations(page), [], 'the call-now panel');

    await page.getByTestId('urgent-continue').click();
    await page.getByTestId('step-form').waitFor({ timeout: WAIT });
    assert.equal(await page.getByTestId('form-urgent-note').isVisible(), true);
    await fillForm(page, 'child_welfare', {
      subject: { name: 'Eetu', age: 6, guardians: 'Isä, ei tavoitettu' },
      description: 'Lapsi on yksin kotona, eikä aikuisia ole näkynyt eilisen jälkeen.',
    });
    const answer = await send(page);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.request.urgent, true);
    const { reference } = await assertReceipt(page, answer.body, 'fi');
    const alert = page.getByTestId('receipt-urgent');
    assert.equal(await alert.isVisible(), true);
    assert.equal((await alert.textContent()).trim(), fi['report.receipt.urgent_alert']);

    // The on-call desk saw it at once.
    const event = await eventually(
      async () => (await deskEvents()).find((e) => e.kind === 'report.urgent' && e.data?.report?.reference === reference),
      { what: `report.urgent for ${reference} on the desk` },
    );
    assert.equal(event.data.report.kind, 'child_welfare');
    assert.equal(event.data.report.team, 'child_welfare');

    // The staff see the report as the page sent it.
    const stored = await desk.get(`/api/v1/entries/${event.data.report.entry_id}/report`);
    assert.equal(stored.reference, reference);
    assert.equal(stored.urgent, true);
    assert.equal(stored.language, 'fi');
    assert.equal(stored.description, answer.request.description);
    assert.equal(stored.subject.guardians, 'Isä, ei tavoitettu');
    assert.equal(stored.subject.age, 6);
    assert.equal(stored.reporter.professional, false);
  } finally {
    await context.close();
  }
});

test('information can be added with the reference and the code; a wrong code is refused', async () => {
  const fi = publicMessages.fi;
  const { context, page } = await phone('fi');
  try {
    await chooseKind(page, 'concern');
    await fillForm(page, 'concern', { description: 'Ystäväni ei ole syönyt kunnolla viikkoon.' });
    const answer = await send(page);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const { reference, secret } = await assertReceipt(page, answer.body, 'fi');

    await page.getByTestId('receipt-new').click();
    await page.getByTestId('open-addition').click();
    await page.getByTestId('step-add').waitFor({ timeout: WAIT });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'add-heading');
    assert.deepEqual(await seriousViolations(page), [], 'the add-information view');

    // Typed as people do: lower case, spaces for dashes.
    await page.getByTestId('add-reference').fill(reference.toLowerCase().replace('-', ' '));
    await page.getByTestId('add-secret').fill(secret);
    const added = `Muistin vielä: hän asuu Hervannassa. ${Date.now()}`;
    await page.getByTestId('add-text').fill(added);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/additions') && r.request().method() === 'POST', { timeout: WAIT }),
      page.getByTestId('add-submit').click(),
    ]);
    assert.ok([200, 201].includes(response.status()), `HTTP ${response.status()}`);
    const body = response.request().postDataJSON();
    assert.match(body.client_id, /^[0-9a-f-]{36}$/);
    assert.equal(body.text, added);
    const result = page.getByTestId('add-result');
    await result.waitFor({ timeout: WAIT });
    assert.equal((await result.textContent()).trim(), fi['report.add.added'].replace('{reference}', reference));
    assert.equal(await page.getByTestId('add-text').inputValue(), '');
    // The report itself is never shown back.
    assert.equal(await page.getByText('Ystäväni ei ole syönyt').count(), 0);

    // The desk is told information was added (never the text).
    const event = await eventually(
      async () => (await deskEvents()).find((e) => e.kind === 'report.added' && e.data?.report?.reference === reference),
      { what: `report.added for ${reference}` },
    );
    assert.equal(JSON.stringify(event).includes('Hervannassa'), false);

    // A wrong code: the same answer as a wrong reference, and the text stays.
    await page.getByTestId('add-secret').fill('AAAAA-AAAAA-AAAAA-AAAAA');
    const more = 'Tämä ei saa mennä perille.';
    await page.getByTestId('add-text').fill(more);
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/additions') && r.request().method() === 'POST', { timeout: WAIT }),
      page.getByTestId('add-submit').click(),
    ]);
    assert.equal(refused.status(), 403);
    const wrong = page.getByTestId('add-error');
    await wrong.waitFor({ timeout: WAIT });
    assert.equal((await wrong.textContent()).trim(), fi['report.add.wrong']);
    assert.equal(await page.getByTestId('add-result').isVisible(), false);
    assert.equal(await page.getByTestId('add-text').inputValue(), more);
    assert.deepEqual(await seriousViolations(page), [], 'the add-information view with an error');
  } finally {
    await context.close();
  }
});

test('the page passes axe on a 360 px phone at every step, and shows 112 and the on-call number first', async () => {
  const { context, page } = await phone('fi');
  try {
    assert.equal(await page.getByTestId('emergency-112').getAttribute('href'), 'tel:112');
    const oncall = page.getByTestId('oncall-phone');
    await oncall.waitFor({ timeout: WAIT });
    assert.match(await oncall.getAttribute('href'), /^tel:\+?\d+$/);
    await page.getByTestId('quick-exit').waitFor();
    await assertPublicTranslated(page, 'fi');
    assert.deepEqual(await seriousViolations(page), [], 'step 1');
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 360), true, 'nothing wider than the phone');

    // Continuing without a choice says why, in place.
    await page.getByTestId('kind-continue').click();
    const kindError = page.locator('#kind-error');
    await kindError.waitFor({ timeout: WAIT });
    assert.equal((await kindError.textContent()).trim(), publicMessages.fi['report.error.kind']);
    assert.deepEqual(await seriousViolations(page), [], 'step 1 with its error');

    await chooseKind(page, 'child_welfare');
    await page.getByTestId('reporter-professional').check();
    assert.deepEqual(await seriousViolations(page), [], 'the form');
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 360), true, 'the form fits the phone');
    // A professional's name, organisation and phone are required and marked so.
    for (const field of ['reporter-name', 'reporter-organisation', 'reporter-phone']) {
      const input = page.getByTestId(field);
      assert.equal(await input.getAttribute('aria-required'), 'true', field);
      assert.equal(await input.evaluate((el) => el.required), true, field);
    }
    assert.equal(await page.getByTestId('reporter-email').evaluate((el) => el.required), false);

    await page.getByTestId('report-submit').click();
    await page.getByTestId('error-summary').waitFor({ timeout: WAIT });
    assert.deepEqual(await seriousViolations(page), [], 'the form with errors');

    await fillForm(page, 'child_welfare', {
      reporter: { professional: true, name: 'Outi Opettaja', organisation: 'Kalevan koulu', phone: '03 565 1234' },
      subject: { name: 'Nea', age: 11 },
      description: 'Oppilas on kertonut, ettei uskalla mennä kotiin.',
    });
    const answer = await send(page);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    await assertReceipt(page, answer.body, 'fi');
    assert.deepEqual(await seriousViolations(page), [], 'the receipt');
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 360), true, 'the receipt fits the phone');

    // Printing shows the receipt, not the navigation or the buttons.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.getByTestId('receipt-reference').isVisible(), true);
    assert.equal(await page.getByTestId('receipt-secret').isVisible(), true);
    assert.equal(await page.getByTestId('quick-exit').isVisible(), false);
    assert.equal(await page.getByTestId('receipt-print').isVisible(), false);
    assert.equal(await page.getByTestId('report-language').isVisible(), false);
    await page.emulateMedia({ media: 'screen' });
  } finally {
    await context.close();
  }
});

test('switching the language keeps what was typed and the request follows the page language', async () => {
  const { context, page } = await phone('fi');
  try {
    await chooseKind(page, 'concern');
    const description = 'Kirjoitin tämän ensin suomeksi.';
    await fillForm(page, 'concern', { description });
    await page.getByTestId('report-language').getByRole('link', { name: 'In English' }).click();
    await page.locator('html[lang="en"]').waitFor({ timeout: WAIT });
    await assertPublicTranslated(page, 'en');
    assert.match(page.url(), /[?&]lang=en\b/);
    assert.equal((await page.getByTestId('form-heading').textContent()).trim(), publicMessages.en['report.kind.concern']);
    assert.equal(await page.getByTestId('description').inputValue(), description);
    const answer = await send(page);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.request.language, 'en');
    await assertReceipt(page, answer.body, 'en');
  } finally {
    await context.close();
  }
});

test('quick exit leaves /report at once, and back does not return to it', async () => {
  const { context, page } = await phone('fi');
  try {
    let neutralRequested = 0;
    await context.route(`${NEUTRAL}**`, (route) => {
      neutralRequested += 1;
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Google</title><p>Haku</p>' });
    });
    // An earlier page in this tab, so "back" has somewhere to go.
    await page.goto(`${e2e.server.base}/healthz`);
    await page.goto(`${e2e.server.base}/report?lang=fi`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT });
    await chooseKind(page, 'child_welfare');
    const secret = `Naapurin lapsi ${Date.now()}`;
    await page.getByTestId('description').fill(secret);

    await page.getByTestId('quick-exit').click();
    await page.waitForURL(NEUTRAL, { timeout: WAIT });
    assert.ok(neutralRequested >= 1, 'the neutral site was requested');
    await page.goBack({ timeout: WAIT });
    assert.equal(new URL(page.url()).pathname, '/healthz');
    assert.equal(await page.getByText(secret).count(), 0);
    await assertNothingStored(page);

    // Esc twice does the same, even with the cursor in the text.
    await page.goto(`${e2e.server.base}/report?lang=fi`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT });
    await chooseKind(page, 'concern');
    await page.getByTestId('description').fill(secret);
    await page.getByTestId('description').focus();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.waitForURL(NEUTRAL, { timeout: WAIT });
    await page.goBack({ timeout: WAIT });
    assert.equal(new URL(page.url()).pathname, '/healthz');
  } finally {
    await context.close();
  }
});
