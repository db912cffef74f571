// One stay at the shelter as the staff read it: the counts, the forms of violence, how the
// client came, the notes, and the identity fields only when asked for. Actions: edit, and
// "Departed" with the time of leaving.

import { h } from './dom.js';
import { applyTranslations } from './i18n.js';
import { uniqueId } from './form-fields.js';
import { CHILD_BANDS, SEXES, stayDays } from './shelter-common.js';
import { formatLong, now, toLocalInput } from './time.js';

function row(labelKey, ...value) {
  return [h('dt', { i18n: labelKey }), h('dd', {}, ...value)];
}

/** "label n, label n" for the non-zero counts of a map ("0" when all are zero). */
function counts(kind, keys, values) {
  const present = keys.filter((key) => values?.[key]);
  if (!present.length) return h('span', { text: '0' });
  return present.map((key, i) => [
    i ? h('span', { text: ', ' }) : null,
    h('span', { i18n: [kind, key].join('.') }),
    h('span', { text: ` ${values[key]}` }),
  ]);
}

export function violenceList(violence) {
  if (!violence?.length) return h('span', { class: 'muted', i18n: 'common.none' });
  return h(
    'span',
    {},
    violence.map((form, i) => [i ? h('span', { text: ', ' }) : null, h('span', { i18n: ['violence', form].join('.') })]),
  );
}

function identityView(identity, shown, onToggle) {
  const boxId = uniqueId('stay-identity');
  const fields = ['name', 'birth_dates', 'identity_number'];
  const recorded = identity && fields.some((f) => identity[f]);
  return h(
    'section',
    { class: 'detail-section', 'aria-labelledby': `${boxId}-h` },
    h('h3', { id: `${boxId}-h`, i18n: 'shelter.identity.title' }),
    h('button', {
      type: 'button',
      class: 'btn btn-small btn-quiet',
      'data-testid': 'stay-identity-toggle',
      'aria-expanded': String(shown),
      'aria-controls': boxId,
      i18n: shown ? 'shelter.identity.hide' : 'shelter.identity.show',
      on: { click: onToggle },
    }),
    h(
      'div',
      { id: boxId, class: 'stay-identity', hidden: !shown },
      recorded
        ? h('dl', { class: 'detail-fields' }, fields.map((f) => row(['shelter.identity', f].join('.'), h('span', { text: identity[f] || '—' }))))
        : h('p', { class: 'muted', i18n: 'shelter.identity.none' }),
    ),
  );
}

function departForm(onDepart, busy) {
  const id = uniqueId('depart-at');
  const start = toLocalInput(now());
  const input = h('input', { type: 'datetime-local', id, value: start, max: start, 'aria-describedby': `${id}-hint` });
  const form = h(
    'form',
    { class: 'depart-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: id, i18n: 'shelter.depart_at' }), h('p', { class: 'field-hint', id: `${id}-hint`, i18n: 'shelter.hint.depart_at' }), input),
    h('button', { type: 'submit', class: 'btn', 'data-testid': 'stay-depart', 'aria-disabled': busy ? 'true' : 'false', i18n: 'shelter.depart' }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!busy) onDepart(input.value === start ? null : input.value);
  });
  return form;
}

/**
 * The read view of a stay (GET one). ctx: {message {kind,key,args}, busy, identityShown,
 * onToggleIdentity(), onEdit(), onDepart(localTime|null)}.
 */
export function renderStay(stay, ctx) {
  const departed = Boolean(stay.departed_at);
  const view = h(
    'article',
    {
      class: `detail stay-detail${departed ? ' is-departed' : ''}`,
      'data-testid': 'stay-detail',
      dataset: { stayId: stay.id, version: stay.version },
      'aria-labelledby': 'shelter-detail-h',
    },
    h(
      'header',
      { class: 'detail-header' },
      h(
        'p',
        { class: 'detail-badges' },
        h('span', { class: `status ${departed ? 'status-closed' : 'status-in_progress'}`, i18n: departed ? 'shelter.state_departed' : 'shelter.state_current' }),
        stay.referred_by_code ? h('span', { class: 'flag flag-follow', i18n: 'shelter.referred_by_code' }) : null,
      ),
      h('h2', { id: 'shelter-detail-h', class: 'detail-title', tabindex: '-1', text: stay.alias }),
    ),
    h(
      'div',
      { class: 'detail-messages', role: 'status' },
      ctx.message ? h('p', { class: `banner banner-${ctx.message.kind}`, i18n: ctx.message.key, i18nArgs: ctx.message.args }) : null,
    ),
    h(
      'div',
      { class: 'detail-actions', role: 'group', 'aria-labelledby': 'stay-actions-label' },
      h('span', { id: 'stay-actions-label', class: 'sr-only', i18n: 'detail.actions' }),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'stay-edit', i18n: 'shelter.edit', on: { click: ctx.onEdit } }),
    ),
    departed ? null : departForm(ctx.onDepart, ctx.busy),
    h(
      'dl',
      { class: 'detail-fields' },
      row('shelter.field.arrived_at', h('time', { datetime: stay.arrived_at, text: formatLong(stay.arrived_at) })),
      departed ? row('shelter.field.departed_at', h('time', { datetime: stay.departed_at, text: formatLong(stay.departed_at) })) : null,
      row('shelter.col.days', h('span', { text: String(stayDays(stay)) })),
      row('shelter.field.adults', h('span', { text: String(stay.adults) })),
      row('shelter.field.children', counts('age_band', CHILD_BANDS, stay.children)),
      row('shelter.field.sexes', counts('sex', SEXES, stay.sexes)),
      row('shelter.field.violence', violenceList(stay.violence)),
      row('shelter.field.referral_source', h('span', { i18n: ['referral_source', stay.referral_source].join('.') })),
    ),
    h(
      'section',
      { class: 'detail-section', 'aria-labelledby': 'stay-notes-h' },
      h('h3', { id: 'stay-notes-h', i18n: 'shelter.field.notes' }),
      stay.notes?.trim()
        ? h('p', { class: 'prewrap', 'data-testid': 'stay-notes-text', text: stay.notes })
        : h('p', { class: 'muted', i18n: 'common.empty' }),
    ),
    identityView(stay.identity, ctx.identityShown, ctx.onToggleIdentity),
  );
  applyTranslations(view);
  return view;
}
