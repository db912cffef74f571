// The console's UI text, from /static/i18n/<lang>.json, on the shared implementation in
// /static/shared/i18n.js (which documents the data-i18n markup). Unlike the public pages,
// the console remembers the chosen language in localStorage (dom.js's storage).

import { createI18n } from '../shared/i18n.js';
import { storage } from './dom.js';

export { LANGUAGES } from '../shared/i18n.js';
const STORAGE_KEY = 'paivystys.lang';

const i18n = createI18n({
  catalogDir: '/static/i18n',
  store: {
    get: () => storage.get(STORAGE_KEY),
    set: (lang) => storage.set(STORAGE_KEY, lang),
  },
});

export const { detectLanguage, preloadLanguages, language, locale, onLanguageChange, has, t, applyTranslations } = i18n;

/** With `remember`, the choice is stored (and an existing ?lang= kept in step). */
export async function setLanguage(lang, { remember = false } = {}) {
  return i18n.setLanguage(lang, { remember });
}

/** The label of an enum value, e.g. label('channel', 'phone_in'). */
export function label(kind, value) {
  return t([kind, value].join('.'));
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
