// Quick exit for every public page: a button in the top corner, and Esc pressed twice.
//
// It must get a person away from the page at once, without a trace a partner or parent
// could follow on the same device:
// - the page's hooks run first (the chat ends itself on the server with a beacon, which
//   the browser delivers even while the page unloads);
// - everything the public pages stored (keys starting with STORAGE_PREFIX, in
//   sessionStorage and localStorage) is removed;
// - the page empties itself, so nothing stays on screen if the neutral site is slow;
// - location.replace() swaps this page's history entry for the neutral site, so the back
//   button cannot return to it.
//
// Usage:
//   import { installQuickExit, onQuickExit } from '/static/public/quick-exit.js';
//   installQuickExit({ button: document.querySelector('[data-testid="quick-exit"]') });
//   onQuickExit(() => navigator.sendBeacon(...));
//
// The neutral site is DEFAULT_EXIT_URL unless installQuickExit({ url }) or the button's
// data-quick-exit-url attribute names another.

export const DEFAULT_EXIT_URL = 'https://www.google.com/';
/** Every key a public page stores starts with this, so quick exit can find them all. */
export const STORAGE_PREFIX = 'paivystys.public.';
/** Two presses of Esc within this time leave the page. */
export const DOUBLE_ESCAPE_MS = 1000;

const hooks = new Set();
let exitUrl = DEFAULT_EXIT_URL;
let leaving = false;

/** Registers something to do just before leaving (e.g. a beacon); returns an unregister. */
export function onQuickExit(fn) {
  hooks.add(fn);
  return () => hooks.delete(fn);
}

/** True once quick exit has started: pages must not store anything after that. */
export function isLeaving() {
  return leaving;
}

/** Removes every key the public pages stored, in both storages. */
export function clearPublicStorage() {
  for (const name of ['sessionStorage', 'localStorage']) {
    let store;
    try {
      store = window[name];
      if (!store) continue;
      const keys = [];
      for (let i = 0; i < store.length; i += 1) {
        const key = store.key(i);
        if (key && key.startsWith(STORAGE_PREFIX)) keys.push(key);
      }
      for (const key of keys) store.removeItem(key);
    } catch {
      /* storage disabled: nothing was stored */
    }
  }
}

/** Leaves now: hooks, storage, an empty page, and the neutral site in place of this one. */
export function quickExit() {
  if (leaving) return;
  leaving = true;
  for (const fn of hooks) {
    try {
      fn();
    } catch (err) {
      console.error(err);
    }
  }
  clearPublicStorage();
  try {
    document.title = '';
    document.body.replaceChildren();
  } catch {
    /* leave anyway */
  }
  location.replace(exitUrl);
}

/**
 * Wires the button (a link to the neutral site, so it works even without this script)
 * and the double Esc. Options: button, url (the neutral site), doubleEscapeMs.
 */
export function installQuickExit({ button, url, doubleEscapeMs = DOUBLE_ESCAPE_MS } = {}) {
  exitUrl = url || button?.getAttribute('data-quick-exit-url') || DEFAULT_EXIT_URL;
  if (button) {
    if (button.tagName === 'A') button.setAttribute('href', exitUrl);
    button.addEventListener('click', (event) => {
      event.preventDefault();
      quickExit();
    });
  }
  let lastEscape = -Infinity;
  document.addEventListener(
    'keydown',
    (event) => {
      if (event.key !== 'Escape' && event.key !== 'Esc') return;
      if (event.repeat) return;
      const now = performance.now();
      if (now - lastEscape <= doubleEscapeMs) {
        event.preventDefault();
        quickExit();
      } else {
        lastEscape = now;
      }
    },
    true,
  );
}
