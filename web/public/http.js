// JSON over HTTP for the public pages (/chat, /report), and what they share around it: the
// error types, the on-call number and the language links.
//
// No cookies are sent and nothing is cached or stored: the public pages have no session
// and must leave nothing behind on a shared device.

import { LANGUAGES, language, setLanguage } from './i18n.js';

const DEFAULT_TIMEOUT_MS = 15000;

/** The server answered with an error: {"error":{code,message,field?,fields?,retry_after?}}. */
export class ApiError extends Error {
  constructor(status, error, retryAfter) {
    super(error.message || error.code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = error.code || null;
    /** Every request field the server named, `field` first. */
    this.fields = [...new Set([error.field, ...(Array.isArray(error.fields) ? error.fields : [])].filter(Boolean))];
    this.retryAfter = retryAfter;
  }
}

/** No answer at all: offline, connection reset, timeout. */
export class NetworkError extends Error {
  constructor(cause) {
    super('network error');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

/** A request with an optional JSON body and a chat token (sent as Bearer). */
export async function api(method, path, { body, token, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let res;
  let text;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal: controller.signal,
    });
    text = await res.text();
  } catch (err) {
    throw new NetworkError(err);
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = (data && typeof data.error === 'object' && data.error) || {};
    let retryAfter = Number(error.retry_after);
    if (!Number.isFinite(retryAfter)) retryAfter = Number(res.headers.get('Retry-After'));
    if (!Number.isFinite(retryAfter) || retryAfter < 0) retryAfter = null;
    throw new ApiError(res.status, error, retryAfter);
  }
  return { status: res.status, data };
}

/** The on-call number as a `tel:` link target. */
export function telHref(phone) {
  return `tel:${phone.replace(/[^\d+]/g, '')}`;
}

/** Points the language links in `nav` at this page in each language, marking the current. */
export function renderLanguageLinks(nav) {
  for (const a of nav.querySelectorAll('a[data-lang]')) {
    const url = new URL(location.href);
    url.searchParams.set('lang', a.dataset.lang);
    a.href = url.pathname + url.search;
    if (a.dataset.lang === language()) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  }
}

/** Switches language in place on a plain click (a reload would lose what was typed). */
export function wireLanguageLinks(nav) {
  for (const a of nav.querySelectorAll('a[data-lang]')) {
    a.addEventListener('click', (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      if (!LANGUAGES.includes(a.dataset.lang)) return;
      event.preventDefault();
      setLanguage(a.dataset.lang, { updateUrl: true }).catch(() => {
        location.href = a.href;
      });
    });
  }
}
