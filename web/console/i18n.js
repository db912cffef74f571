// UI text in Finnish, Swedish and English from /static/i18n/<lang>.json.
//
// Static elements carry data-i18n="key" (text exactly as in the message file) and
// data-i18n-attr="attr:key;attr:key" (attributes such as placeholder or aria-label). Text
// with {placeholders} carries the key in data-i18n-fmt instead, with the values as JSON in
// data-i18n-args. applyTranslations() rewrites them all, so a language switch changes every
// visible string without a reload. Other dynamic text goes through t(key, args).

import { storage } from './dom.js';

export const LANGUAGES = ['fi', 'sv', 'en'];
const STORAGE_KEY = 'paivystys.lang';
const LOCALES = { fi: 'fi-FI', sv: 'sv-FI', en: 'en-GB' };

const catalogs = new Map();
const listeners = new Set();
let current = 'fi';
let messages = {};

/** ?lang= in the URL, else the stored choice, else the browser's languages, else Finnish. */
export function detectLanguage() {
  const fromUrl = new URLSearchParams(location.search).get('lang');
  if (LANGUAGES.includes(fromUrl)) return fromUrl;
  const stored = storage.get(STORAGE_KEY);
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of navigator.languages || [navigator.language || '']) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'fi';
}

async function loadCatalog(lang) {
  if (catalogs.has(lang)) return catalogs.get(lang);
  const promise = fetch(`/static/i18n/${lang}.json`, { cache: 'no-cache' }).then((res) => {
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

export async function setLanguage(lang, { remember = false } = {}) {
  if (!LANGUAGES.includes(lang)) lang = 'fi';
  messages = await loadCatalog(lang);
  current = lang;
  document.documentElement.lang = lang;
  if (remember) {
    storage.set(STORAGE_KEY, lang);
    const url = new URL(location.href);
    if (url.searchParams.has('lang')) {
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

export function has(key) {
  return Object.prototype.hasOwnProperty.call(messages, key);
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

/** The label of an enum value, e.g. label('channel', 'phone_in'). */
export function label(kind, value) {
  return t([kind, value].join('.'));
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

export function applyTranslations(root = document) {
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

/** Marks an element with a message key (and placeholder values) for language switches. */
export function markText(el, key, args) {
  if (args) {
    el.removeAttribute('data-i18n');
    el.setAttribute('data-i18n-fmt', key);
    el.setAttribute('data-i18n-args', JSON.stringify(args));
  } else {
    el.removeAttribute('data-i18n-fmt');
    el.removeAttribute('data-i18n-args');
    el.setAttribute('data-i18n', key);
  }
}

/** Sets an element's text to a message and remembers the key for language switches. */
export function setText(el, key, args) {
  markText(el, key, args);
  el.textContent = t(key, args);
}
