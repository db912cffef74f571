// UI text of the public pages (chat, report) in Finnish, Swedish and English, from
// /static/i18n/public/<lang>.json. The staff console's catalog is never loaded here: a
// person in crisis needs none of it, and it names things about the desk.
//
// Static elements carry data-i18n="key" and data-i18n-attr="attr:key;attr:key";
// applyTranslations() rewrites them. Dynamic text goes through t(key, args) with {name}
// placeholders; pages re-render their dynamic parts from onLanguageChange().
//
// Unlike the console, the choice of language is never written to storage: a public page
// leaves nothing behind on a shared device. It lives in the URL (?lang=) instead.

export const LANGUAGES = ['fi', 'sv', 'en'];
const LOCALES = { fi: 'fi-FI', sv: 'sv-FI', en: 'en-GB' };

const catalogs = new Map();
const listeners = new Set();
let current = 'fi';
let messages = {};

/** ?lang= in the URL, else the browser's languages, else Finnish. */
export function detectLanguage() {
  const fromUrl = new URLSearchParams(location.search).get('lang');
  if (LANGUAGES.includes(fromUrl)) return fromUrl;
  for (const tag of navigator.languages || [navigator.language || '']) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'fi';
}

async function loadCatalog(lang) {
  if (catalogs.has(lang)) return catalogs.get(lang);
  const promise = fetch(`/static/i18n/public/${lang}.json`, { cache: 'no-cache' }).then((res) => {
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
export function preloadLanguages() {
  for (const lang of LANGUAGES) loadCatalog(lang).catch(() => {});
}

/**
 * Switches every marked element and the dynamic parts (through the listeners) to `lang`.
 * With `updateUrl`, ?lang= is rewritten in place (no new history entry), so a reload keeps it.
 */
export async function setLanguage(lang, { updateUrl = false } = {}) {
  if (!LANGUAGES.includes(lang)) lang = 'fi';
  messages = await loadCatalog(lang);
  current = lang;
  document.documentElement.lang = lang;
  if (updateUrl) {
    const url = new URL(location.href);
    url.searchParams.set('lang', lang);
    history.replaceState(history.state, '', url);
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

export function language() {
  return current;
}

/** The BCP 47 locale for Intl formatting in the current language. */
export function locale() {
  return LOCALES[current];
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The message for key with {name} placeholders filled from args. */
export function t(key, args) {
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

export function applyTranslations(root = document) {
  const scope = root.querySelectorAll ? root : document;
  for (const el of scope.querySelectorAll('[data-i18n]')) {
    const text = t(el.getAttribute('data-i18n'));
    if (el.textContent !== text) el.textContent = text;
  }
  for (const el of scope.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.getAttribute('data-i18n-attr').split(';')) {
      const [attr, name] = pair.split(':').map((s) => s.trim());
      if (attr && name) el.setAttribute(attr, t(name));
    }
  }
}
