// The detail view of one entry: every field, the actions (claim, release, close, edit) and
// the history of versions with the earlier text of whatever changed. An entry that came
// from an online report shows the report too (report-view.js); a phone call's entry, the
// call's answer time and length and its caller's earlier contacts (call-details.js).
// Supervisors also get "Who has seen this entry" (the entry's access log, access-log-view.js).

import { openEntryAccessLog } from './access-log-view.js';
import { entryCallDetails, entryCallLine } from './call-details.js';
import { detailRow, h } from './dom.js';
import { applyTranslations } from './i18n.js';
import { EDITABLE_FIELDS, FIELD_LABEL, LONG_TEXT_FIELDS, RISK_FLAGS, fieldText, sameValue } from './model.js';
import { detailReportSection } from './report-view.js';
import { formatDate, formatLong } from './time.js';


function textBlock(text, emptyKey = 'common.empty') {
  return text && text.trim()
    ? h('p', { class: 'prewrap', text })
    : h('p', { class: 'muted', i18n: emptyKey });
}

export function subjectView(subject) {
  if (!subject || subject.anonymous !== false) {
    return h(
      'span',
      {},
      h('span', { class: 'tag', i18n: 'subject.anonymous' }),
      subject?.alias ? h('span', { text: ` ${subject.alias}` }) : null,
    );
  }
  return h(
    'span',
    {},
    h('span', { class: 'tag tag-identified', i18n: 'subject.identified_short' }),
    h('span', { text: ` ${subject.name || ''}` }),
    subject.birth_date
      ? h('span', {}, h('span', { text: ', ' }), h('span', { i18n: 'subject.born' }), h('span', { text: ` ${formatDate(subject.birth_date)}` }))
      : null,
    subject.municipality ? h('span', { text: `, ${subject.municipality}` }) : null,
  );
}

export function riskView(risk) {
  const flags = RISK_FLAGS.filter((flag) => risk?.[flag]);
  if (!flags.length && !risk?.timeframe) return h('p', { class: 'muted', i18n: 'risk.none' });
  return h(
    'div',
    {},
    flags.length
      ? h(
          'ul',
          { class: 'risk-list' },
          flags.map((flag) => h('li', {}, h('span', { 'aria-hidden': 'true', text: '⚠ ' }), h('span', { i18n: ['risk', flag].join('.') }))),
        )
      : null,
    risk?.timeframe ? h('p', {}, h('span', { i18n: 'risk.timeframe' }), h('span', { text: `: ${risk.timeframe}` })) : null,
  );
}

/** The fields that differ between two versions (claimed_by included). */
function changedFields(before, after) {
  return [...EDITABLE_FIELDS, 'claimed_by'].filter((field) => !sameValue(field, before[field], after[field]));
}

function historyChange(field, before, after) {
  const label = h('span', { class: 'change-field', i18n: FIELD_LABEL[field] });
  const beforeText = fieldText(field, before);
  const afterText = fieldText(field, after);
  if (LONG_TEXT_FIELDS.has(field)) {
    return h(
      'li',
      { class: 'change change-long' },
      label,
      h(
        'div',
        { class: 'change-compare' },
        h('div', { class: 'change-before' }, h('span', { class: 'change-tag', i18n: 'history.before' }), h('p', { class: 'prewrap', text: beforeText || '—' })),
        h('div', { class: 'change-after' }, h('span', { class: 'change-tag', i18n: 'history.after' }), h('p', { class: 'prewrap', text: afterText || '—' })),
      ),
    );
  }
  return h(
    'li',
    { class: 'change' },
    label,
    h('span', { text: ': ' }),
    h('span', { class: 'change-old', text: beforeText || '—' }),
    h('span', { class: 'arrow' }, h('span', { 'aria-hidden': 'true', text: ' → ' }), h('span', { class: 'sr-only', i18n: 'history.changed_to' })),
    h('span', { class: 'change-new', text: afterText || '—' }),
  );
}

export function renderHistory(revisions) {
  if (!revisions) return h('p', { class: 'muted', i18n: 'common.loading' });
  if (!revisions.length) return h('p', { class: 'muted', i18n: 'history.empty' });
  return h(
    'ol',
    { class: 'history-list' },
    revisions.map((rev, index) => {
      const previous = index > 0 ? revisions[index - 1].entry : null;
      const fields = previous ? changedFields(previous, rev.entry) : [];
      return h(
        'li',
        { class: `history-item change-${rev.change}` },
        h(
          'p',
          { class: 'history-head' },
          h('strong', { i18n: ['change', rev.change].join('.') }),
          h('span', { text: ' · ' }),
          h('span', { text: rev.by?.name || '' }),
          h('span', { text: ' · ' }),
          h('time', { datetime: rev.at, text: formatLong(rev.at) }),
          h('span', { text: ' · ' }),
          h('span', { class: 'muted', i18n: 'history.version', i18nArgs: { version: rev.version } }),
        ),
        fields.length
          ? h('ul', { class: 'change-list' }, fields.map((field) => historyChange(field, previous[field], rev.entry[field])))
          : null,
      );
    }),
  );
}

/**
 * The read view. ctx: {me, busy (queued writes), message {kind,key,args}, history,
 * returnedEdit, onClaim, onRelease, onClose, onReopen, onEdit, onCloseView, onOpenReturned,
 * handovers (the entry's handover section element, kept across re-renders), transcript (a
 * chat entry's transcript section, likewise), referrals (the "Refer to the shelter" section,
 * likewise)}. The "Online report" section of a web report's entry is kept by report-view.js.
 */
export function renderDetail(entry, ctx) {
  const { me, busy } = ctx;
  const closed = entry.status === 'closed';
  const mine = entry.claimed_by && entry.claimed_by.id === me.id;
  // Busy (a write of this entry is still queued): the buttons stay focusable but do nothing.
  const button = (testid, key, handler, extraClass = '') =>
    h('button', {
      type: 'button',
      class: `btn ${extraClass}`,
      'data-testid': testid,
      i18n: key,
      'aria-disabled': busy ? 'true' : null,
      on: { click: () => (busy ? null : handler()) },
    });

  const actions = h('div', { class: 'detail-actions', role: 'group', 'aria-labelledby': 'detail-actions-label' },
    h('span', { id: 'detail-actions-label', class: 'sr-only', i18n: 'detail.actions' }),
    !closed && !entry.claimed_by ? button('claim', 'action.claim', ctx.onClaim, 'btn-primary') : null,
    entry.claimed_by && (mine || me.role === 'supervisor')
      ? button('release', mine ? 'action.release' : 'action.release_other', ctx.onRelease)
      : null,
    button('edit-entry', 'action.edit', ctx.onEdit),
    !closed ? button('close-entry', 'action.close', ctx.onClose) : button('reopen-entry', 'action.reopen', ctx.onReopen),
    // Reading the log changes nothing, so it works while a write is queued too.
    ['supervisor', 'admin'].includes(me.role)
      ? h('button', { type: 'button', class: 'btn btn-quiet', 'data-testid': 'entry-access-log', 'aria-haspopup': 'dialog', i18n: 'access.entry.button', on: { click: () => openEntryAccessLog(entry) } })
      : null,
  );

  const messages = h('div', { class: 'detail-messages', role: 'status' });
  if (busy) messages.appendChild(h('p', { class: 'banner banner-info', i18n: 'detail.unsent' }));
  if (ctx.message) {
    messages.appendChild(h('p', { class: `banner banner-${ctx.message.kind || 'info'}`, i18n: ctx.message.key, i18nArgs: ctx.message.args }));
  }
  if (ctx.returnedEdit) {
    messages.appendChild(
      h('div', { class: 'banner banner-error' },
        h('p', { i18n: 'detail.returned_edit' }),
        h('button', { type: 'button', class: 'btn', i18n: 'detail.open_returned', on: { click: ctx.onOpenReturned } }),
      ),
    );
  }

  const holder = entry.claimed_by
    ? mine
      ? h('span', { i18n: 'board.handled_by_you' })
      : h('span', { text: entry.claimed_by.name })
    : h('span', { class: 'muted', i18n: 'board.not_handled' });

  const view = h(
    'article',
    { class: 'detail', 'data-testid': 'entry-detail', dataset: { entryId: entry.id, version: entry.version }, 'aria-labelledby': 'panel-heading' },
    h(
      'header',
      { class: 'detail-header' },
      h('p', { class: 'detail-badges' },
        h('span', { class: `badge badge-${entry.urgency}`, i18n: ['urgency', entry.urgency].join('.') }),
        h('span', { class: `status status-${entry.status}`, i18n: ['status', entry.status].join('.') }),
        RISK_FLAGS.some((f) => entry.risk?.[f]) ? h('span', { class: 'flag flag-risk' }, h('span', { 'aria-hidden': 'true', text: '⚠ ' }), h('span', { i18n: 'board.flag_risk' })) : null,
        entry.follow_up ? h('span', { class: 'flag flag-follow', i18n: 'board.flag_follow_up' }) : null,
      ),
      h('h2', { id: 'panel-heading', class: 'detail-title', tabindex: '-1', text: entry.summary }),
    ),
    messages,
    actions,
    h(
      'dl',
      { class: 'detail-fields' },
      detailRow('field.claimed_by', holder),
      detailRow('field.channel', h('span', { i18n: ['channel', entry.channel].join('.') })),
      entry.call ? detailRow('call.field', entryCallLine(entry.call)) : null,
      detailRow('field.category', h('span', { i18n: ['category', entry.category].join('.') })),
      detailRow('field.occurred_at', h('time', { datetime: entry.occurred_at, text: formatLong(entry.occurred_at) })),
      detailRow('field.subject', subjectView(entry.subject)),
      detailRow('detail.logged_by', h('span', { text: `${entry.created_by?.name || ''}, ` }), h('time', { datetime: entry.created_at, text: formatLong(entry.created_at) })),
      detailRow('detail.updated', h('time', { datetime: entry.updated_at, text: formatLong(entry.updated_at) }), h('span', { text: ' · ' }), h('span', { class: 'muted', i18n: 'history.version', i18nArgs: { version: entry.version } })),
      entry.police
        ? detailRow('field.police', h('span', { text: entry.police.unit }), entry.police.outcome ? h('p', { class: 'prewrap', text: entry.police.outcome }) : null)
        : null,
    ),
    detailReportSection(entry),
    entry.call ? entryCallDetails(entry.call) : null,
    h('section', { class: 'detail-section', 'aria-labelledby': 'detail-notes-h' }, h('h3', { id: 'detail-notes-h', i18n: 'field.notes' }), textBlock(entry.notes)),
    h('section', { class: 'detail-section', 'aria-labelledby': 'detail-actions-h' }, h('h3', { id: 'detail-actions-h', i18n: 'field.actions' }), textBlock(entry.actions)),
    h('section', { class: 'detail-section', 'aria-labelledby': 'detail-risk-h' }, h('h3', { id: 'detail-risk-h', i18n: 'field.risk' }), riskView(entry.risk)),
    ctx.transcript || null,
    ctx.referrals || null,
    ctx.handovers || null,
    h(
      'section',
      { class: 'detail-section', 'data-testid': 'history', 'aria-labelledby': 'detail-history-h' },
      h('h3', { id: 'detail-history-h', i18n: 'history.title' }),
      renderHistory(ctx.history),
    ),
  );
  applyTranslations(view);
  return view;
}

/** A queued (not yet sent) new entry, shown from what is stored locally. */
export function renderQueued(body) {
  const view = h(
    'article',
    { class: 'detail', 'data-testid': 'entry-detail', dataset: { entryId: body.id, pending: 'true' }, 'aria-labelledby': 'panel-heading' },
    h('header', { class: 'detail-header' },
      h('p', { class: 'detail-badges' },
        h('span', { class: `badge badge-${body.urgency}`, i18n: ['urgency', body.urgency].join('.') }),
        h('span', { class: 'flag flag-unsent', i18n: 'board.not_sent' }),
      ),
      h('h2', { id: 'panel-heading', class: 'detail-title', tabindex: '-1', text: body.summary }),
    ),
    h('p', { class: 'banner banner-info', i18n: 'detail.queued_create' }),
    h('dl', { class: 'detail-fields' },
      detailRow('field.channel', h('span', { i18n: ['channel', body.channel].join('.') })),
      detailRow('field.category', h('span', { i18n: ['category', body.category].join('.') })),
      detailRow('field.occurred_at', h('span', { text: formatLong(body.occurred_at) })),
      detailRow('field.subject', subjectView(body.subject)),
    ),
    h('section', { class: 'detail-section' }, h('h3', { i18n: 'field.notes' }), textBlock(body.notes)),
    h('section', { class: 'detail-section' }, h('h3', { i18n: 'field.actions' }), textBlock(body.actions)),
  );
  applyTranslations(view);
  return view;
}
