// Entry keys, field comparison and the board projection of a full entry.

import { t, label } from './i18n.js';
import { formatDate, formatLong } from './time.js';

export const CHANNELS = ['phone_in', 'phone_out', 'chat', 'walk_in', 'police_request', 'web_report', 'other'];
/** Channels a worker logs by hand; chat and web reports come from other features. */
export const LOGGABLE_CHANNELS = ['phone_in', 'phone_out', 'walk_in', 'police_request', 'other'];
export const CATEGORIES = [
  'child_family',
  'child_welfare',
  'adult',
  'older_person',
  'disability',
  'domestic_violence',
  'crisis',
  'mental_health',
  'other',
];
export const URGENCIES = ['immediate', 'urgent', 'normal'];
export const STATUSES = ['open', 'in_progress', 'waiting', 'closed'];
export const RISK_FLAGS = [
  'suicide_thoughts',
  'suicide_plan',
  'suicide_means',
  'violence_thoughts',
  'violence_plan',
  'violence_means',
];

/** The fields a PATCH may change, in the order the UI lists them. */
export const EDITABLE_FIELDS = [
  'status',
  'urgency',
  'channel',
  'category',
  'summary',
  'subject',
  'occurred_at',
  'notes',
  'actions',
  'risk',
  'follow_up',
  'police',
];

/** The message key naming each field (also for history and conflicts). */
export const FIELD_LABEL = {
  status: 'field.status',
  urgency: 'field.urgency',
  channel: 'field.channel',
  category: 'field.category',
  summary: 'field.summary',
  subject: 'field.subject',
  occurred_at: 'field.occurred_at',
  notes: 'field.notes',
  actions: 'field.actions',
  risk: 'field.risk',
  follow_up: 'field.follow_up',
  police: 'field.police',
  claimed_by: 'field.claimed_by',
};

const URGENCY_RANK = { immediate: 0, urgent: 1, normal: 2 };

/** Board order: most urgent first, then the newest contact. */
export function compareEntries(a, b) {
  const rank = (URGENCY_RANK[a.urgency] ?? 9) - (URGENCY_RANK[b.urgency] ?? 9);
  if (rank) return rank;
  const time = Date.parse(b.occurred_at) - Date.parse(a.occurred_at);
  if (time) return time;
  return String(a.id).localeCompare(String(b.id));
}

function emptyToNull(v) {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '') ? null : v;
}

/** A field's value in a canonical form, so that equal meaning compares equal. */
export function normalize(field, value) {
  switch (field) {
    case 'summary':
      return String(value ?? '').trim();
    case 'notes':
    case 'actions':
      return String(value ?? '').replace(/\r\n/g, '\n');
    case 'follow_up':
      return Boolean(value);
    case 'occurred_at': {
      const ms = Date.parse(value);
      // Minutes are what the form can express.
      return Number.isNaN(ms) ? null : Math.floor(ms / 60000);
    }
    case 'subject': {
      if (!value || value.anonymous !== false) {
        return { anonymous: true, alias: String(value?.alias ?? '').trim() };
      }
      return {
        anonymous: false,
        name: String(value.name ?? '').trim(),
        birth_date: emptyToNull(value.birth_date),
        municipality: emptyToNull(value.municipality),
      };
    }
    case 'risk': {
      const out = {};
      for (const flag of RISK_FLAGS) out[flag] = Boolean(value?.[flag]);
      out.timeframe = String(value?.timeframe ?? '').trim();
      return out;
    }
    case 'police':
      if (!value) return null;
      return { unit: String(value.unit ?? '').trim(), outcome: String(value.outcome ?? '').trim() };
    case 'claimed_by':
      return value ? value.id : null;
    default:
      return value ?? null;
  }
}

export function sameValue(field, a, b) {
  return JSON.stringify(normalize(field, a)) === JSON.stringify(normalize(field, b));
}

/** Initials the way the server makes them: "Maija Liisa Virtanen" -> "M. L. V.". */
function initialsOf(name) {
  return String(name || '')
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => `${[...part][0].toUpperCase()}.`)
    .join(' ');
}

/** The board's projection of a full entry (as the server's EntrySummary). */
export function toSummary(entry) {
  const s = entry.subject || { anonymous: true, alias: '' };
  const subject =
    s.anonymous === false
      ? { anonymous: false, initials: initialsOf(s.name), municipality: s.municipality ?? undefined }
      : { anonymous: true, alias: s.alias ?? '' };
  const risk = RISK_FLAGS.some((flag) => entry.risk?.[flag]);
  return {
    id: entry.id,
    version: entry.version,
    channel: entry.channel,
    category: entry.category,
    urgency: entry.urgency,
    status: entry.status,
    summary: entry.summary,
    subject,
    risk,
    follow_up: Boolean(entry.follow_up),
    occurred_at: entry.occurred_at,
    updated_at: entry.updated_at,
    created_by: entry.created_by,
    claimed_by: entry.claimed_by ?? null,
    // As the server's summary: the chat or call the entry records.
    ...(entry.chat ? { chat: entry.chat } : {}),
    ...(entry.call ? { call: entry.call } : {}),
  };
}

/** The subject as the board shows it: alias, or initials and municipality. */
export function subjectLabel(subject) {
  if (!subject) return '';
  if (subject.anonymous === false) {
    const who = subject.initials || initialsOf(subject.name);
    return [who, subject.municipality].filter(Boolean).join(', ');
  }
  return subject.alias || '';
}

/** A field's value as readable text in the current language (history, conflicts). */
export function fieldText(field, value) {
  switch (field) {
    case 'status':
    case 'urgency':
    case 'channel':
    case 'category':
      return value ? label(field, value) : '';
    case 'follow_up':
      return value ? t('common.yes') : t('common.no');
    case 'occurred_at':
      return value ? formatLong(value) : '';
    case 'subject': {
      if (!value) return '';
      if (value.anonymous !== false) {
        return value.alias ? `${t('subject.anonymous')}: ${value.alias}` : t('subject.anonymous');
      }
      const parts = [value.name];
      if (value.birth_date) parts.push(formatDate(value.birth_date));
      if (value.municipality) parts.push(value.municipality);
      return parts.filter(Boolean).join(', ');
    }
    case 'risk': {
      if (!value) return '';
      const flags = RISK_FLAGS.filter((flag) => value[flag]).map((flag) => label('risk', flag));
      const lines = [flags.length ? flags.join(', ') : t('risk.none')];
      if (value.timeframe) lines.push(`${t('risk.timeframe')}: ${value.timeframe}`);
      return lines.join('\n');
    }
    case 'police':
      if (!value) return t('common.none');
      return [
        `${t('police.unit')}: ${value.unit || ''}`,
        value.outcome ? `${t('police.outcome')}: ${value.outcome}` : null,
      ]
        .filter(Boolean)
        .join('\n');
    case 'claimed_by':
      return value ? value.name : t('common.nobody');
    default:
      return value === null || value === undefined ? '' : String(value);
  }
}

/** Fields that are free text, shown as before/after blocks rather than inline. */
export const LONG_TEXT_FIELDS = new Set(['summary', 'notes', 'actions', 'risk', 'police', 'subject']);
