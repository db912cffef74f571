// UI text in Finnish, Swedish and English, for the console (web/console/i18n.js) and the
// public pages (web/public/i18n.js). Each page module makes its own instance with
// createI18n(): which catalog it loads, and whether the choice of language is remembered.
//
// Static elements carry data-i18n="key" (text exactly as in the message file) and
// data-i18n-attr="attr:key;attr:key" (attributes such as placeholder or aria-label). Text
// with {placeholders} carries the key in data-i18n-fmt instead, with the values as JSON in
// data-i18n-args. applyTranslations() rewrites them all, so a language switch changes every
// visible string without a reload. Other dynamic text goes through t(key, args).
//
// This module touches no storage itself and imports nothing: the public pages load it, and
// must leave nothing behind on a shared device. A page that remembers the choice passes
// its own store in.

export const LANGUAGES = ['fi', 'sv', 'en'];
const LOCALES = { fi: 'fi-FI', sv: 'sv-FI', en: 'en-GB' };

/**
 * catalogDir: where <lang>.json is served, e.g. '/static/i18n'.
 * store: {get() -> lang|null, set(lang)} to remember the choice across visits, or null to
 * keep it in the URL (?lang=) only.
 */
export function createI18n({ catalogDir, store = null }) {
  const catalogs = new Map();
  const listeners = new Set();
  let current = 'fi';
  let messages = {};

  /** ?lang= in the URL, else the stored choice (if any), else the browser's languages, else Finnish. */
  function detectLanguage() {
    const fromUrl = new URLSearchParams(location.search).get('lang');
    if (LANGUAGES.includes(fromUrl)) return fromUrl;
    if (store) {
      const stored = store.get();
      if (LANGUAGES.includes(stored)) return stored;
    }
    for (const tag of navigator.languages || [navigator.language || '']) {
      const base = String(tag).toLowerCase().split('-')[0];
      if (LANGUAGES.includes(base)) return base;
    }
    return 'fi';
  }

  async function loadCatalog(lang) {
    if (catalogs.has(lang)) return catalogs.get(lang);
    const promise = fetch(`${catalogDir}/${lang}.json`, { cache: 'no-cache' }).then((res) => {
      if (!res.ok) throw new Error(`i18n ${lang}: HTTP ${res.status}`);
      return res.json();
    });
    catalogs.set(lang, promise);
    try {
      return await promise;
    } catch (err) {
      catalogs.delete(lang);
      throw err;
    }
  }

  /** Loads the other languages in the background so switching is instant. */
  function preloadLanguages() {
    for (const lang of LANGUAGES) loadCatalog(lang).catch(() => {});
  }

  /**
   * Switches every marked element and the dynamic parts (through the listeners) to `lang`.
   * remember: write it to the store, and keep an existing ?lang= in step (it wins over the
   * store on the next load). updateUrl: set ?lang= in place (no new history entry), so a
   * reload keeps the choice without any storage.
   */
  async function setLanguage(lang, { remember = false, updateUrl = false } = {}) {
    if (!LANGUAGES.includes(lang)) lang = 'fi';
    messages = await loadCatalog(lang);
    current = lang;
    document.documentElement.lang = lang;
    if (remember && store) store.set(lang);
    if (remember || updateUrl) {
      const url = new URL(location.href);
      if (updateUrl || url.searchParams.has('lang')) {
        url.searchParams.set('lang', lang);
        history.replaceState(history.state, '', url);
      }
    }
    applyTranslations(document);
    for (const fn of listeners) {
      try {
        fn(lang);
      } catch (err) {
        console.error(err);
      }
    }
  }

  function language() {
    return current;
  }

  /** The BCP 47 locale for Intl formatting in the current language. */
  function locale() {
    return LOCALES[current];
  }

  function onLanguageChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  }

  function has(key) {
    return Object.prototype.hasOwnProperty.call(messages, key);
  }

  /** The message for key with {name} placeholders filled from args. */
  function t(key, args) {
    let text = messages[key];
    if (typeof text !== 'string') {
      if (Object.keys(messages).length) console.warn('missing message', key);
      text = key;
    }
    if (args) {
      text = text.replace(/\{(\w+)\}/g, (m, name) =>
        Object.prototype.hasOwnProperty.call(args, name) ? String(args[name]) : m,
      );
    }
    return text;
  }

  function argsOf(el) {
    const raw = el.getAttribute('data-i18n-args');
    if (!raw) return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }

  function applyTranslations(root = document) {
    const scope = root.querySelectorAll ? root : document;
    const withText = [...scope.querySelectorAll('[data-i18n], [data-i18n-fmt]')];
    const withAttr = [...scope.querySelectorAll('[data-i18n-attr]')];
    if (root.getAttribute) {
      if (root.hasAttribute('data-i18n') || root.hasAttribute('data-i18n-fmt')) withText.push(root);
      if (root.hasAttribute('data-i18n-attr')) withAttr.push(root);
    }
    for (const el of withText) {
      const key = el.getAttribute('data-i18n') || el.getAttribute('data-i18n-fmt');
      const text = t(key, argsOf(el));
      if (el.textContent !== text) el.textContent = text;
    }
    for (const el of withAttr) {
      const args = argsOf(el);
      for (const pair of el.getAttribute('data-i18n-attr').split(';')) {
        const [attr, key] = pair.split(':').map((s) => s.trim());
        if (attr && key) el.setAttribute(attr, t(key, args));
      }
    }
  }

  return {
    detectLanguage,
    preloadLanguages,
    setLanguage,
    language,
    locale,
    onLanguageChange,
    has,
    t,
    applyTranslations,
  };
}
