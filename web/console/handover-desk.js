// The entry detail's "Handover to daytime services" section: the form that hands the entry
// over to a daytime team, and the entry's handovers with their state, deadlines, who
// acknowledged them, and a returned one's question with a form to answer it.
//
// The section lives as long as its entry is open: the detail re-renders around the same
// element, so a half-written note or answer is never lost (both are drafts as well). Writes
// go through the outbox with a client-generated id, so a resend never hands over twice.

import * as api from './api.js';
import { fill, h, uuid } from './dom.js';
import { applyTranslations, t } from './i18n.js';
import { announce, notify } from './notices.js';
import { app, drafts } from './state.js';
import {
  LEGAL_BASES,
  MAX_NOTE,
  applyTeamNames,
  compareHandovers,
  fillTeamSelect,
  handoverBadges,
  handoverFacts,
  isOverdue,
  loadTeams,
  mergeHandover,
  teamName,
  teamNameEl,
} from './handovers.js';

const WAIT_MS = 8000;
const RELOAD_DELAY_MS = 250;
let sectionCount = 0;

function emptyValues() {
  return { id: uuid(), team: '', note: '', urgent: false, legal_basis: '' };
}

/** The section for one entry. Returns {element, entryId, setEntry, refresh, onEvent, saved,
 * languageChanged, destroy}. */
export function createHandoverSection(entry) {
  const entryId = entry.id;
  const prefix = `ho${(sectionCount += 1)}`;
  const draftName = `handover.${entryId}`;
  const handovers = new Map();
  /** Typed answers to returned handovers, by handover id (also kept as drafts). */
  const answers = new Map();
  /** Answer forms by handover id, reused across re-renders (typed text and caret stay). */
  const answerForms = new Map();
  const openNotes = new Set();
  const waiting = new Set();
  let loadState = 'loading';
  let busy = false;
  let destroyed = false;
  let category = entry.category;
  let reloadTimer = null;

  let values = { ...emptyValues(), ...(drafts.load(draftName)?.values || {}) };

  // ---- The form ----

  const ids = {
    heading: `${prefix}-h`,
    team: `${prefix}-team`,
    note: `${prefix}-note`,
    urgent: `${prefix}-urgent`,
    legal: `${prefix}-legal`,
    list: `${prefix}-list-h`,
  };

  const errorSlots = {
    team: h('p', { class: 'field-error', id: `${ids.team}-error`, hidden: true }),
    note: h('p', { class: 'field-error', id: `${ids.note}-error`, hidden: true }),
  };

  const teamSelect = h('select', {
    id: ids.team,
    'data-testid': 'handover-team',
    'aria-required': 'true',
    'aria-describedby': `${ids.team}-error`,
  });
  fillTeamSelect(teamSelect, { wanted: values.team });

  const noteInput = h('textarea', {
    id: ids.note,
    'data-testid': 'handover-note',
    rows: 6,
    maxlength: MAX_NOTE,
    value: values.note,
    'aria-required': 'true',
    'aria-describedby': `${ids.note}-hint ${ids.note}-error`,
    i18nAttr: 'placeholder:handover.note_placeholder',
  });

  const urgentBox = h('input', {
    type: 'checkbox',
    id: ids.urgent,
    'data-testid': 'handover-urgent',
    checked: values.urgent,
    'aria-describedby': `${ids.urgent}-hint`,
  });

  const legalSelect = h(
    'select',
    { id: ids.legal, 'data-testid': 'handover-legal-basis', 'aria-describedby': `${ids.legal}-hint` },
    h('option', { value: '', i18n: 'handover.legal_none' }),
    LEGAL_BASES.map((basis) => h('option', { value: basis, i18n: ['legal', basis].join('.') })),
  );
  legalSelect.value = values.legal_basis || '';
  const legalHint = h('p', { class: 'field-hint', id: `${ids.legal}-hint` });

  const formError = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const sendButton = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'handover-send', i18n: 'handover.send' });
  const message = h('div', { class: 'handover-message', role: 'status' });

  const label = (forId, key, required) =>
    h(
      'label',
      { for: forId },
      h('span', { i18n: key }),
      required ? [' ', h('span', { class: 'required-mark', i18n: 'form.required_suffix' })] : null,
    );

  const form = h(
    'form',
    { class: 'handover-form', 'data-testid': 'handover-form', novalidate: true, 'aria-labelledby': ids.heading },
    formError,
    h('div', { class: 'field' }, label(ids.team, 'handover.team', true), teamSelect, errorSlots.team),
    h(
      'div',
      { class: 'field' },
      label(ids.note, 'handover.note', true),
      h('p', { class: 'field-hint', id: `${ids.note}-hint`, i18n: 'handover.note_hint' }),
      noteInput,
      errorSlots.note,
    ),
    h(
      'div',
      { class: 'check' },
      urgentBox,
      h(
        'div',
        {},
        h('label', { for: ids.urgent, i18n: 'handover.urgent' }),
        h('p', { class: 'field-hint', id: `${ids.urgent}-hint`, i18n: 'handover.urgent_hint' }),
      ),
    ),
    h('div', { class: 'field' }, label(ids.legal, 'handover.legal_basis'), legalHint, legalSelect),
    h('div', { class: 'handover-form-actions' }, sendButton),
    message,
  );

  // ---- The list ----

  const list = h('ul', { class: 'handover-list', 'data-testid': 'handover-list', 'aria-labelledby': ids.list });
  const listNote = h('p', { class: 'muted handover-list-note' });

  const element = h(
    'section',
    { class: 'detail-section handover-section', 'data-testid': 'handovers', 'aria-labelledby': ids.heading },
    h('h3', { id: ids.heading, i18n: 'handover.title' }),
    form,
    h('h4', { id: ids.list, class: 'handover-list-title', i18n: 'handover.list_title' }),
    list,
    listNote,
  );

  function updateLegalHint() {
    legalHint.setAttribute('data-i18n', category === 'child_welfare' ? 'handover.legal_hint_child' : 'handover.legal_hint');
    applyTranslations(legalHint);
  }

  function read() {
    values = {
      id: values.id,
      team: teamSelect.value,
      note: noteInput.value,
      urgent: urgentBox.checked,
      legal_basis: legalSelect.value,
    };
    return values;
  }

  function saveDraft() {
    read();
    if (values.team || values.note.trim() || values.urgent || values.legal_basis) drafts.save(draftName, { values });
    else drafts.remove(draftName);
  }

  function clearErrors() {
    formError.hidden = true;
    formError.textContent = '';
    for (const [field, slot] of Object.entries(errorSlots)) {
      slot.hidden = true;
      slot.textContent = '';
      (field === 'team' ? teamSelect : noteInput).removeAttribute('aria-invalid');
    }
  }

  /** errors: [{field: 'team'|'note', key, args, detail}] */
  function showErrors(errors) {
    clearErrors();
    for (const err of errors) {
      const slot = errorSlots[err.field];
      const input = err.field === 'team' ? teamSelect : noteInput;
      slot.hidden = false;
      fill(
        slot,
        h('span', { i18n: err.key, i18nArgs: err.args }),
        err.detail ? h('span', { class: 'server-detail', lang: 'en', text: ` (${err.detail})` }) : null,
      );
      input.setAttribute('aria-invalid', 'true');
    }
    applyTranslations(form);
    form.querySelector('[aria-invalid="true"]')?.focus();
  }

  function showFormMessage(key, args) {
    formError.hidden = false;
    fill(formError, h('span', { i18n: key, i18nArgs: args }));
    applyTranslations(formError);
  }

  function showMessage(kind, key, args) {
    fill(message, h('p', { class: `banner banner-${kind}`, i18n: key, i18nArgs: args }));
    applyTranslations(message);
  }

  function setBusy(on) {
    busy = on;
    if (on) sendButton.setAttribute('aria-disabled', 'true');
    else sendButton.removeAttribute('aria-disabled');
    sendButton.setAttribute('aria-busy', on ? 'true' : 'false');
    sendButton.setAttribute('data-i18n', on ? 'handover.sending' : 'handover.send');
    applyTranslations(sendButton);
  }

  function resetForm() {
    values = emptyValues();
    teamSelect.value = '';
    noteInput.value = '';
    urgentBox.checked = false;
    legalSelect.value = '';
    drafts.remove(draftName);
  }

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    read();
    const note = values.note.trim();
    const errors = [];
    if (!values.team) errors.push({ field: 'team', key: 'handover.error.team_required' });
    if (!note) errors.push({ field: 'note', key: 'handover.error.note_required' });
    else if ([...note].length > MAX_NOTE) errors.push({ field: 'note', key: 'error.too_long', args: { max: MAX_NOTE } });
    if (errors.length) {
      showErrors(errors);
      return;
    }
    clearErrors();
    message.replaceChildren();
    const body = {
      id: values.id,
      team: values.team,
      note,
      urgent: values.urgent,
      legal_basis: values.legal_basis || null,
    };
    const team = body.team;
    setBusy(true);
    let sent;
    try {
      sent = app.outbox.send({ kind: 'handover', entryId: null, handoverEntryId: entryId, handoverId: body.id, body }, WAIT_MS);
    } catch {
      setBusy(false);
      showFormMessage('error.storage');
      return;
    }
    waiting.add(body.id);
    const result = await sent.result;
    waiting.delete(body.id);
    setBusy(false);
    if (result.status === 'rejected' && destroyed) {
      // The worker moved on while the server refused it: the note goes back to the form.
      drafts.save(draftName, { values: { ...values, note: body.note } });
      notify('error', 'handover.rejected_kept', { team: teamName(team) });
      return;
    }
    if (destroyed) return;
    switch (result.status) {
      case 'done':
        resetForm();
        handovers.set(result.handover.id, mergeHandover(handovers.get(result.handover.id), result.handover));
        loadState = 'ready';
        showMessage('success', 'handover.sent', { team: teamName(team) });
        renderList();
        break;
      case 'rejected': {
        const error = result.error;
        if (error.status === 422 && (error.field === 'team' || error.field === 'note')) {
          showErrors([
            {
              field: error.field,
              key: error.field === 'team' ? 'handover.error.team_invalid' : 'handover.error.note_invalid',
              detail: error.message,
            },
          ]);
        } else {
          showFormMessage('error.save_failed', { message: error.message || error.code });
        }
        saveDraft();
        break;
      }
      default:
        // Offline or the server is failing: the outbox sends it later, exactly once.
        resetForm();
        showMessage('info', 'handover.queued');
        renderList();
    }
  }

  form.addEventListener('input', saveDraft);
  form.addEventListener('change', saveDraft);
  form.addEventListener('submit', submit);

  // ---- Rendering the list ----

  function queuedOps() {
    return (app.outbox?.read().ops || []).filter(
      (op) => op.kind === 'handover' && op.handoverEntryId === entryId && !handovers.has(op.handoverId) && !waiting.has(op.handoverId),
    );
  }

  function queuedItem(op) {
    return h(
      'li',
      { class: 'handover-item is-unsent', 'data-testid': 'handover-item', dataset: { handoverId: op.handoverId, state: 'unsent' } },
      h(
        'p',
        { class: 'handover-head' },
        teamNameEl('strong', op.body.team, { class: 'handover-team' }),
        ' ',
        h('span', { class: 'flag flag-unsent', i18n: 'board.not_sent' }),
        op.body.urgent ? [' ', h('span', { class: 'flag flag-urgent', i18n: 'handover.urgent_flag' })] : null,
      ),
      h('p', { class: 'prewrap handover-note-text', text: op.body.note }),
    );
  }

  function answerForm(handover) {
    if (!answerForms.has(handover.id)) answerForms.set(handover.id, buildAnswerForm(handover));
    return answerForms.get(handover.id);
  }

  function buildAnswerForm(handover) {
    const id = `${prefix}-answer-${handover.id}`;
    const draftKey = `answer.${handover.id}`;
    if (!answers.has(handover.id)) answers.set(handover.id, drafts.load(draftKey)?.text || '');
    const errorSlot = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
    const input = h('textarea', {
      id,
      rows: 3,
      maxlength: MAX_NOTE,
      value: answers.get(handover.id),
      'data-testid': 'handover-answer',
      'aria-describedby': `${id}-hint ${id}-error`,
      'aria-required': 'true',
    });
    const send = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'handover-answer-send', i18n: 'handover.answer_send' });
    input.addEventListener('input', () => {
      answers.set(handover.id, input.value);
      if (input.value.trim()) drafts.save(draftKey, { text: input.value });
      else drafts.remove(draftKey);
    });
    const answerElement = h(
      'form',
      { class: 'handover-answer-form', novalidate: true },
      h('label', { for: id, i18n: 'handover.answer_label' }),
      h('p', { class: 'field-hint', id: `${id}-hint`, i18n: 'handover.answer_hint' }),
      input,
      errorSlot,
      h('div', { class: 'handover-form-actions' }, send),
    );
    answerElement.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (send.getAttribute('aria-disabled') === 'true') return;
      const note = input.value.trim();
      if (!note) {
        errorSlot.hidden = false;
        fill(errorSlot, h('span', { i18n: 'handover.error.answer_required' }));
        applyTranslations(errorSlot);
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      send.setAttribute('aria-disabled', 'true');
      let sent;
      try {
        sent = app.outbox.send({ kind: 'handover-act', entryId: null, handoverId: handover.id, action: 'answer', body: { note } }, WAIT_MS);
      } catch {
        send.removeAttribute('aria-disabled');
        notify('error', 'error.storage');
        return;
      }
      const result = await sent.result;
      if (destroyed) return;
      if (result.status === 'rejected') {
        send.removeAttribute('aria-disabled');
        errorSlot.hidden = false;
        fill(errorSlot, h('span', { i18n: 'error.action_failed', i18nArgs: { message: result.error.message || result.error.code } }));
        applyTranslations(errorSlot);
        reload();
        return;
      }
      answers.delete(handover.id);
      answerForms.delete(handover.id);
      drafts.remove(draftKey);
      if (result.status === 'done') {
        handovers.set(handover.id, mergeHandover(handovers.get(handover.id), result.handover));
        showMessage('success', 'handover.answered', { team: teamName(handover.team) });
      } else {
        showMessage('info', 'detail.queued_action');
      }
      renderList();
    });
    return answerElement;
  }

  function item(handover) {
    const noteBlock = handover.note
      ? h(
          'details',
          { class: 'handover-note', open: openNotes.has(handover.id) ? '' : null },
          h('summary', { i18n: 'handover.note' }),
          h('p', { class: 'prewrap handover-note-text', text: handover.note }),
        )
      : null;
    noteBlock?.addEventListener('toggle', () => {
      if (noteBlock.open) openNotes.add(handover.id);
      else openNotes.delete(handover.id);
    });
    return h(
      'li',
      {
        class: `handover-item state-${handover.state}${isOverdue(handover) ? ' is-overdue' : ''}`,
        'data-testid': 'handover-item',
        dataset: { handoverId: handover.id, state: handover.state, version: handover.version },
      },
      h('p', { class: 'handover-head' }, teamNameEl('strong', handover.team, { class: 'handover-team' }), ' ', handoverBadges(handover)),
      handoverFacts(handover),
      noteBlock,
      handover.state === 'returned'
        ? h(
            'div',
            { class: 'handover-returned' },
            h('p', { class: 'handover-question-label', i18n: 'handover.question' }),
            handover.reason
              ? h('p', { class: 'prewrap handover-question', 'data-testid': 'handover-question', text: handover.reason })
              : h('p', { class: 'muted', i18n: 'common.loading' }),
            answerForm(handover),
          )
        : null,
    );
  }

  function renderList() {
    if (destroyed) return;
    const active = document.activeElement;
    const inList = active && list.contains(active) ? active : null;
    const focusKey = inList
      ? { testid: inList.getAttribute('data-testid'), id: inList.closest('[data-handover-id]')?.dataset.handoverId }
      : null;
    const sorted = [...handovers.values()].sort(compareHandovers);
    for (const id of answerForms.keys()) {
      if (handovers.get(id)?.state !== 'returned') answerForms.delete(id);
    }
    list.replaceChildren(...queuedOps().map(queuedItem), ...sorted.map(item));
    const empty = list.children.length === 0;
    listNote.hidden = !empty && loadState !== 'failed';
    if (!listNote.hidden) {
      listNote.setAttribute(
        'data-i18n',
        loadState === 'failed' ? 'handover.load_failed' : loadState === 'loading' ? 'common.loading' : 'handover.none',
      );
    }
    applyTranslations(element);
    if (inList && list.contains(inList)) {
      inList.focus({ preventScroll: true });
    } else if (focusKey?.testid && focusKey.id) {
      list.querySelector(`[data-handover-id="${CSS.escape(focusKey.id)}"] [data-testid="${CSS.escape(focusKey.testid)}"]`)?.focus({ preventScroll: true });
    }
  }

  async function reload() {
    clearTimeout(reloadTimer);
    try {
      const fresh = await api.entryHandovers(entryId);
      if (destroyed) return;
      for (const handover of fresh) handovers.set(handover.id, mergeHandover(handovers.get(handover.id), handover));
      loadState = 'ready';
    } catch {
      if (destroyed) return;
      if (loadState !== 'ready') loadState = 'failed';
    }
    renderList();
  }

  function scheduleReload() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, RELOAD_DELAY_MS);
  }

  updateLegalHint();
  applyTranslations(element);
  renderList();
  loadTeams()
    .then(() => {
      if (destroyed) return;
      fillTeamSelect(teamSelect, { wanted: values.team });
      applyTranslations(teamSelect);
      renderList();
    })
    .catch(() => {});
  reload();

  return {
    element,
    entryId,
    /** The entry changed (its category decides the legal deadline hint). */
    setEntry(next) {
      if (next.category !== category) {
        category = next.category;
        updateLegalHint();
      }
    },
    /** The outbox changed: queued handovers show as not yet sent. */
    refresh() {
      renderList();
    },
    /** A live event about one of this entry's handovers (without note and reason). */
    onEvent(summary) {
      handovers.set(summary.id, mergeHandover(handovers.get(summary.id), summary));
      loadState = 'ready';
      renderList();
      // Read again for the note and the team's question.
      scheduleReload();
    },
    /** A handover write of this entry went through later (from the outbox). */
    saved(handover) {
      handovers.set(handover.id, mergeHandover(handovers.get(handover.id), handover));
      renderList();
    },
    languageChanged() {
      applyTeamNames(element);
      applyTranslations(element);
      renderList();
    },
    destroy() {
      destroyed = true;
      clearTimeout(reloadTimer);
    },
  };
}

/** Announcement of a handover change the desk should hear about. */
export function announceHandover(kind, handover, entrySummary) {
  if (kind === 'handover.returned') {
    announce(t('announce.handover_returned', { team: teamName(handover.team), summary: entrySummary?.summary || '' }));
  } else if (kind === 'handover.overdue') {
    announce(t('announce.handover_overdue', { team: teamName(handover.team), summary: entrySummary?.summary || '' }));
  }
}
