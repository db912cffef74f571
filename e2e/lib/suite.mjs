// One test file's setup: a real server and a headless Chromium for the whole file, and
// workers logged in through the console, each in a browser context of its own.
import { before, after } from 'node:test';
import { startServer } from './server.mjs';
import { launch, login } from './browser.mjs';

/** The console's desktop window. */
export const DESKTOP = { viewport: { width: 1366, height: 900 } };

/**
 * Registers the file's before/after hooks (start the server and the browser; close them
 * again) and returns the file's handles. Hooks, each optional: `setup(server, browser)` runs
 * in the before hook once both are up; `onContext(context, options)` runs on every context
 * `worker()` and `context()` make, before any page opens in it (e.g. to add an init script).
 */
export function suite({ setup, onContext } = {}) {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await launch();
    if (setup) await setup(server, browser);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A fresh desktop browser context (its own cookies and storage); `options` add to or override it. */
  async function context(options = {}) {
    const made = await browser.newContext({ ...DESKTOP, ...options });
    if (onContext) await onContext(made, options);
    return made;
  }

  /**
   * A fresh browser context logged in as `role`; `errors` collects the page's uncaught
   * errors.
   */
  async function worker(role, lang = 'fi', contextOptions = {}) {
    const made = await context(contextOptions);
    const page = await made.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await login(page, server.base, server.accounts[role], lang);
    return { context: made, page, errors };
  }

  return {
    get server() {
      return server;
    },
    get browser() {
      return browser;
    },
    context,
    worker,
  };
}
