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
  /** Anything the Content-Security-Policy blocked: the pages must need no inline code. */
  const cspViolations = [];

  before(async () => {
    server = await startServer();
    browser = await launch();
    // Every context, also those a test makes itself, reports what the policy blocks.
    const newContext = browser.newContext.bind(browser);
    browser.newContext = async (...args) => {
      const made = await newContext(...args);
      made.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
          cspViolations.push(message.text());
        }
      });
      return made;
    };
    if (setup) await setup(server, browser);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (cspViolations.length) {
      throw new Error(`the Content-Security-Policy blocked:\n${cspViolations.join('\n')}`);
    }
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
