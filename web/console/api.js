// HTTP to the Päivystys API: JSON in and out, the CSRF header on writes, one error type.

import { noteServerDate } from './time.js';

const TIMEOUT_MS = 15000;

/** An answer from the server that was an error ({"error":{code,message,field}}). */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
  }

  /** Worth retrying later: the server or something in between failed, not the request. */
  get transient() {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** No answer at all: offline, DNS, connection reset, timeout. */
export class NetworkError extends Error {
  constructor(cause) {
    super('network error');
    this.name = 'NetworkError';
    this.cause = cause;
  }

  get transient() {
    return true;
  }
}

let csrfToken = null;
let unauthorizedHandler = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called with the ApiError whenever an authenticated call answers 401. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

async function send(method, path, body, extraHeaders) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
    });
  } catch (err) {
    throw new NetworkError(err);
  } finally {
    clearTimeout(timer);
  }
}

async function readBody(res) {
  let text;
  try {
    text = await res.text();
  } catch (err) {
    throw new NetworkError(err);
  }
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * One API call. Resolves to {status, data, headers}; rejects with ApiError or NetworkError.
 * A stale CSRF token (another tab logged in again) is refreshed once and the call retried.
 */
export async function request(method, path, { body, headers, auth = true, retried = false } = {}) {
  const res = await send(method, path, body, headers);
  noteServerDate(res.headers.get('Date'));
  const data = await readBody(res);
  if (res.ok) return { status: res.status, data, headers: res.headers };
  const detail = (data && data.error) || {};
  const err = new ApiError(res.status, detail.code || `http_${res.status}`, detail.message, detail.field);
  if (res.status === 403 && err.code === 'csrf_failed' && !retried) {
    try {
      const session = await request('GET', '/api/v1/session', { retried: true });
      setCsrfToken(session.data.csrf_token);
      return request(method, path, { body, headers, auth, retried: true });
    } catch {
      throw err;
    }
  }
  if (res.status === 401 && auth && unauthorizedHandler) unauthorizedHandler(err);
  throw err;
}

// ---- The endpoints the console uses ----

export async function login(username, password) {
  const res = await request('POST', '/api/v1/session', { body: { username, password }, auth: false });
  setCsrfToken(res.data.csrf_token);
  return res.data;
}

export async function currentSession() {
  const res = await request('GET', '/api/v1/session', { auth: false });
  setCsrfToken(res.data.csrf_token);
  return res.data;
}

export async function logout() {
  try {
    await request('DELETE', '/api/v1/session', { auth: false });
  } finally {
    setCsrfToken(null);
  }
}

/** The board. Returns {entries, head} where head is X-Stream-Head. */
export async function listEntries(filters = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    params.set(key, String(value));
  }
  const query = params.toString();
  const res = await request('GET', `/api/v1/entries${query ? `?${query}` : ''}`);
  const head = Number.parseInt(res.headers.get('X-Stream-Head') || '0', 10);
  return { entries: res.data || [], head: Number.isFinite(head) ? head : 0 };
}

/** `?reason=` for a named client's entry outside one's own work (see reason-dialog.js). */
function reasonQuery(reason) {
  return reason ? `?reason=${encodeURIComponent(reason)}` : '';
}

/** One entry; `reason` only when the server asked for one (403 reason_required). */
export async function getEntry(id, reason) {
  return (await request('GET', `/api/v1/entries/${encodeURIComponent(id)}${reasonQuery(reason)}`)).data;
}

export async function createEntry(body) {
  return (await request('POST', '/api/v1/entries', { body })).data;
}

export async function patchEntry(id, version, changes) {
  const res = await request('PATCH', `/api/v1/entries/${encodeURIComponent(id)}`, {
    body: changes,
    headers: { 'If-Match': String(version) },
  });
  return res.data;
}

export async function claimEntry(id) {
  return (await request('POST', `/api/v1/entries/${encodeURIComponent(id)}/claim`)).data;
}

export async function releaseEntry(id) {
  return (await request('POST', `/api/v1/entries/${encodeURIComponent(id)}/release`)).data;
}

export async function entryHistory(id, reason) {
  return (await request('GET', `/api/v1/entries/${encodeURIComponent(id)}/history${reasonQuery(reason)}`)).data || [];
}

export async function presence() {
  return (await request('GET', '/api/v1/presence')).data || [];
}

// ---- Handovers to daytime teams ----

/** The daytime teams: [{key, name_fi, name_sv, name_en}]. */
export async function teams() {
  return (await request('GET', '/api/v1/teams')).data || [];
}

/** The last sequence number of a stream (read before loading what the stream keeps current). */
export async function streamHead(stream) {
  const res = await request('GET', `/api/v1/streams/${encodeURIComponent(stream)}/events?since=0&limit=1`);
  const head = Number.parseInt(res.headers.get('X-Stream-Head') || '0', 10);
  return Number.isFinite(head) ? head : 0;
}

export async function createHandover(entryId, body) {
  return (await request('POST', `/api/v1/entries/${encodeURIComponent(entryId)}/handovers`, { body })).data;
}

export async function entryHandovers(entryId) {
  return (await request('GET', `/api/v1/entries/${encodeURIComponent(entryId)}/handovers`)).data || [];
}

/** Every team's handovers (desk roles). state: 'open' | 'all'. */
export async function allHandovers(state = 'open') {
  return (await request('GET', `/api/v1/handovers?state=${encodeURIComponent(state)}`)).data || [];
}

/** A team's inbox. state: 'open' | 'all'. */
export async function teamInbox(team, state = 'open') {
  const path = `/api/v1/teams/${encodeURIComponent(team)}/handovers?state=${encodeURIComponent(state)}`;
  return (await request('GET', path)).data || [];
}

/** {handover, entry}: the handover with the night's full entry. */
export async function getHandover(id) {
  return (await request('GET', `/api/v1/handovers/${encodeURIComponent(id)}`)).data;
}

/** action: 'ack' | 'done' | 'forward' {team, reason} | 'return' {question} | 'answer' {note}. */
export async function handoverAction(id, action, body) {
  const path = `/api/v1/handovers/${encodeURIComponent(id)}/${encodeURIComponent(action)}`;
  return (await request('POST', path, body === undefined ? {} : { body })).data;
}

// ---- Client chats (desk side) ----

function chatPath(id, action) {
  return `/api/v1/chats/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

/** The chats in queue order. query: {state: 'queued'|'active'|'ended'|'open', mine}. */
export async function listChats({ state = 'queued', mine = false } = {}) {
  const params = new URLSearchParams({ state });
  if (mine) params.set('mine', 'true');
  return (await request('GET', `/api/v1/chats?${params}`)).data || [];
}

export async function getChat(id) {
  return (await request('GET', chatPath(id))).data;
}

/** Accepts the most urgent waiting chat: the chat, or null when nobody waits. */
export async function takeNextChat() {
  const res = await request('POST', '/api/v1/chats/next');
  return res.status === 204 ? null : res.data;
}

/** action: 'accept' | 'end' | 'transfer' {to, note} | 'risk' {level} | 'delivered' {seq}
 * | 'messages' {client_id, body}. */
export async function chatAction(id, action, body) {
  return (await request('POST', chatPath(id, action), body === undefined ? {} : { body })).data;
}

/** The transcript, oldest first: [{seq, client_id, from, body|null, at}]. */
export async function chatTranscript(id) {
  return (await request('GET', chatPath(id, 'messages'))).data || [];
}

// ---- The shelter (turvakoti): desk side (numbers and statuses only) ----

/** {family_places, beds, family_places_free, beds_free, updated_at}. */
export async function shelterCapacity() {
  return (await request('GET', '/api/v1/shelter/capacity')).data;
}

/** A one-time referral code for a client going to the shelter (entryId may be null). */
export async function createReferral(entryId) {
  return (await request('POST', '/api/v1/shelter/referrals', { body: { entry_id: entryId || null } })).data;
}

/** The desk's referrals, newest first: [{code, status, entry_id, issued_at, expires_at, status_at, issued_by}]. */
export async function referrals() {
  return (await request('GET', '/api/v1/shelter/referrals')).data || [];
}

// ---- The shelter: staff side (role shelter only) ----

function stayPath(id, action) {
  return `/api/v1/shelter/stays/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

/** state: 'current' | 'departed' | 'all'. Stays without notes and identity. */
export async function stays(state = 'current') {
  return (await request('GET', `/api/v1/shelter/stays?state=${encodeURIComponent(state)}`)).data || [];
}

/** One stay with its notes and identity. */
export async function getStay(id) {
  return (await request('GET', stayPath(id))).data;
}

export async function createStay(body) {
  return (await request('POST', '/api/v1/shelter/stays', { body })).data;
}

export async function patchStay(id, version, changes) {
  return (await request('PATCH', stayPath(id), { body: changes, headers: { 'If-Match': String(version) } })).data;
}

/** at: an RFC 3339 time, or undefined for now. */
export async function departStay(id, at) {
  return (await request('POST', stayPath(id, 'depart'), { body: at ? { at } : {} })).data;
}

/** People turned away for lack of space (counts only): {date?, adults, children}. */
export async function logTurnedAway(body) {
  return (await request('POST', '/api/v1/shelter/turned-away', { body })).data;
}

export async function turnedAway(year) {
  return (await request('GET', `/api/v1/shelter/turned-away?year=${encodeURIComponent(year)}`)).data || [];
}

export function shelterStatisticsPath(year, format) {
  return `/api/v1/shelter/statistics?year=${encodeURIComponent(year)}${format ? `&format=${encodeURIComponent(format)}` : ''}`;
}

export async function shelterStatistics(year) {
  return (await request('GET', shelterStatisticsPath(year))).data;
}
