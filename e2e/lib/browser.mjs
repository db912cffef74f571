// A real headless Chromium (Debian's package), driven by playwright-core.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// Bounded waits for what a user would see; generous because CI shares two cores.
export const WAIT = 20_000;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    // This machine has no network beyond loopback: keep Chromium from trying.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Logs in through the console's own form, as a worker would. */
export async function login(page, base, account, lang = 'fi') {
  await page.goto(`${base}/?lang=${lang}`);
  await page.getByTestId('login-username').fill(account.username);
  await page.getByTestId('login-password').fill(account.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('connection-state').and(page.locator('[data-state="live"]')).waitFor({ timeout: WAIT });
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousViolations(page) {
  // evaluate() runs outside the page's CSP, which forbids injected script tags.
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The UI texts of every language, as the pages load them. */
export const messages = Object.fromEntries(
  ['fi', 'sv', 'en'].map((lang) => [lang, JSON.parse(readFileSync(new URL(`../../web/i18n/${lang}.json`, import.meta.url)))]),
);

/**
 * Every visible element marked for translation shows the given language's text, from
 * `catalog` (lang -> messages; the console's by default).
 */
export async function assertAllTranslated(page, lang, catalog = messages) {
  const wrong = await page.evaluate(
    ({ table }) =>
      [...document.querySelectorAll('[data-i18n]')]
        .filter((el) => el.getClientRects().length > 0)
        .filter((el) => el.textContent.trim() !== (table[el.dataset.i18n] ?? '').trim())
        .map((el) => `${el.dataset.i18n}: "${el.textContent.trim()}"`),
    { table: catalog[lang] },
  );
  if (wrong.length) throw new Error(`untranslated in ${lang}: ${wrong.join(', ')}`);
  const htmlLang = await page.getAttribute('html', 'lang');
  if (htmlLang !== lang) throw new Error(`<html lang="${htmlLang}">, expected ${lang}`);
}
