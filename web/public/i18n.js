// UI text of the public pages (chat, report), from /static/i18n/public/<lang>.json, on the
// shared implementation in /static/shared/i18n.js. The staff console's catalog is never
// loaded here: a person in crisis needs none of it, and it names things about the desk.
//
// Pages re-render their dynamic parts from onLanguageChange().
//
// Unlike the console, the choice of language is never written to storage (no store is
// given to createI18n): a public page leaves nothing behind on a shared device. It lives
// in the URL (?lang=) instead.

import { createI18n } from '../shared/i18n.js';

export { LANGUAGES } from '../shared/i18n.js';

const i18n = createI18n({ catalogDir: '/static/i18n/public' });

export const { detectLanguage, preloadLanguages, language, locale, onLanguageChange, t, applyTranslations } = i18n;

/**
 * Switches every marked element and the dynamic parts (through the listeners) to `lang`.
 * With `updateUrl`, ?lang= is rewritten in place (no new history entry), so a reload keeps it.
 */
export async function setLanguage(lang, { updateUrl = false } = {}) {
  return i18n.setLanguage(lang, { updateUrl });
}
