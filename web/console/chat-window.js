// One chat window on the desk: the transcript from the chat's stream (in sequence order,
// each message once), the reply box with a small outbox of its own (a message keeps its
// client_id until the server has it, so a retry never doubles it and nothing typed is
// lost), the client's typing indicator, "delivered" marks, ready replies in the chat's
// language, the risk assessment, handing the chat to a colleague, and ending it.

import * as api from './api.js';
import { NetworkError } from './api.js';
import { h, uuid } from './dom.js';
import { applyTranslations, setText, t } from './i18n.js';
import { notify } from './notices.js';
import { app, drafts } from './state.js';
import { CANNED_KEYS, cannedText } from './canned.js';
import { formatLong, formatShort } from './time.js';
import { ASSESSABLE_LEVELS, RISK_LEVELS, chatTitle, languageName, messageLine, riskBadge, riskLabel, shortCode, signalList, stream } from './chat-common.js';

const TYPING_SEND_MS = 2000;
const TYPING_SHOW_MS = 4000;
const DELIVERED_DELAY_MS = 300;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15000;
const DESK_ROLES = ['oncall', 'supervisor'];
let windowCount = 0;

/** Worth sending again with the same client_id: no answer, a failing server, or a lost session. */
function retryable(err) {
  return err instanceof NetworkError || err?.transient || err?.status === 401;
}

function errorText(err) {
  return err?.message || err?.code || '';
}

export class ChatWindow {
  /**
   * summary: the chat as the desk sees it. hooks: onAccept(id), onOpenEntry(entryId),
   * onClose(win), onTransferred(summary) (it went to a colleague).
   */
  constructor(summary, hooks) {
    this.id = summary.id;
    this.stream = stream(summary.id);
    this.summary = summary;
    this.hooks = hooks;
    this.prefix = `cw${(windowCount += 1)}`;
    this.bySeq = new Map();
    this.pending = new Map(); // client_id -> li (not yet in the stream)
    this.outboxName = `chat.${this.id}.outbox`;
    this.replyName = `chat.${this.id}.reply`;
    this.outgoing = drafts.load(this.outboxName) || [];
    this.shownClientSeq = 0;
    this.deliveredSent = 0;
    this.lastTypingSent = 0;
    this.retryDelay = 0;
    this.destroyed = false;
    this.feed = {
      onEvent: (frame) => this.onStreamEvent(frame),
      onTyping: (frame) => this.onTyping(frame),
      onError: (frame) => this.onStreamError(frame),
    };
    this.build();
    this.refresh();
    for (const item of this.outgoing) this.showPending(item, 'sending');
    this.pump();
  }

  isMine() {
    return this.summary.state === 'active' && this.summary.worker?.id === app.me?.id;
  }

  // ---- Building ----

  build() {
    const p = this.prefix;
    const code = shortCode(this.id);
    this.title = h('h3', { id: `${p}-title`, class: 'chat-window-title', tabindex: '-1' });
    this.badges = h('div', { class: 'chat-window-badges' });
    this.stateLine = h('p', { class: 'chat-window-state' });
    this.transferNote = h('div', { class: 'banner banner-info chat-transfer-shown', hidden: true });
    this.streamError = h('p', { class: 'banner banner-error', role: 'alert', hidden: true });
    // The log region scrolls; the list inside keeps the messages' list semantics.
    this.list = h('ol', { class: 'chat-messages' });
    this.log = h(
      'div',
      { class: 'chat-transcript', role: 'log', tabindex: '0', i18nAttr: 'aria-label:chat.transcript_label', i18nArgs: { code } },
      this.list,
    );
    this.typingEl = h('p', { class: 'chat-typing', 'data-testid': 'chat-typing', i18n: 'chat.client_typing', hidden: true });

    this.input = h('textarea', {
      id: `${p}-reply`,
      class: 'chat-reply-input',
      'data-testid': 'chat-reply-input',
      rows: '3',
      maxlength: '4000',
      lang: this.summary.language,
      'aria-describedby': `${p}-reply-hint`,
      value: drafts.load(this.replyName)?.text || '',
      on: { input: () => this.onInput(), keydown: (event) => this.onReplyKey(event) },
    });
    this.cannedLabel = h('label', { for: `${p}-canned` });
    this.canned = h(
      'select',
      { id: `${p}-canned`, 'data-testid': 'chat-canned', on: { change: () => this.insertCanned() } },
      h('option', { value: '', i18n: 'chat.canned_choose' }),
      CANNED_KEYS.map((key) => h('option', { value: key, lang: this.summary.language, text: cannedText(this.summary.language, key) })),
    );
    this.composer = h(
      'form',
      { class: 'chat-composer', novalidate: true, on: { submit: (event) => this.onSubmit(event) } },
      h('div', { class: 'field' },
        h('label', { for: `${p}-reply`, i18n: 'chat.reply_label' }),
        this.input,
        h('p', { id: `${p}-reply-hint`, class: 'field-hint', i18n: 'chat.reply_hint' }),
      ),
      h('div', { class: 'chat-composer-row' },
        h('div', { class: 'field chat-canned-field' }, this.cannedLabel, this.canned),
        h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'chat-reply-send', i18n: 'chat.send' }),
      ),
    );

    this.risk = h(
      'select',
      { id: `${p}-risk`, 'data-testid': 'chat-risk', on: { change: () => this.assessRisk() } },
      h('option', { value: '', i18n: 'chat.risk_not_assessed' }),
      ASSESSABLE_LEVELS.map((level) => h('option', { value: level, i18n: ['chat_risk', level].join('.') })),
    );
    const button = (testid, key, handler, extra = '') =>
      h('button', { type: 'button', class: `btn btn-small ${extra}`, 'data-testid': testid, i18n: key, on: { click: handler } });
    this.acceptButton = button('chat-window-accept', 'chat.accept', () => this.hooks.onAccept(this.id), 'btn-primary');
    this.transferButton = button('chat-transfer', 'chat.transfer', () => this.openTransfer());
    this.endButton = button('chat-end', 'chat.end', () => this.openEnd());
    this.entryButton = button('chat-open-entry', 'chat.open_entry', () => this.hooks.onOpenEntry(this.summary.entry_id));
    this.closeButton = button('chat-window-close', 'chat.close_window', () => this.hooks.onClose(this), 'btn-quiet');
    this.riskField = h('div', { class: 'field field-inline chat-risk-field' }, h('label', { for: `${p}-risk`, i18n: 'chat.risk_label' }), this.risk);
    this.tools = h(
      'div',
      { class: 'chat-tools', role: 'group', 'aria-labelledby': `${p}-title` },
      this.riskField,
      h('div', { class: 'chat-tool-buttons' }, this.acceptButton, this.transferButton, this.endButton, this.entryButton, this.closeButton),
    );

    this.transferTo = h('select', { id: `${p}-to`, 'data-testid': 'chat-transfer-to', 'aria-describedby': `${p}-transfer-error` });
    this.transferNoteInput = h('textarea', { id: `${p}-note`, 'data-testid': 'chat-transfer-note', rows: '3', maxlength: '2000' });
    this.transferError = h('p', { id: `${p}-transfer-error`, class: 'field-error', role: 'alert', hidden: true });
    this.transferConfirm = button('chat-transfer-confirm', 'chat.transfer_confirm', () => this.transfer(), 'btn-primary');
    this.transferForm = h(
      'div',
      { class: 'chat-subform', role: 'group', 'aria-labelledby': `${p}-transfer-h`, hidden: true },
      h('h4', { id: `${p}-transfer-h`, i18n: 'chat.transfer_title' }),
      h('div', { class: 'field' }, h('label', { for: `${p}-to`, i18n: 'chat.transfer_to' }), this.transferTo),
      h('div', { class: 'field' },
        h('label', { for: `${p}-note`, i18n: 'chat.transfer_note' }),
        h('p', { class: 'field-hint', i18n: 'chat.transfer_note_hint' }),
        this.transferNoteInput,
      ),
      this.transferError,
      h('div', { class: 'chat-subform-actions' }, this.transferConfirm, button('chat-transfer-cancel', 'common.cancel', () => this.closeSubforms(this.transferButton))),
    );

    this.endConfirm = button('chat-end-confirm', 'chat.end_confirm', () => this.end(), 'btn-danger');
    this.endForm = h(
      'div',
      { class: 'chat-subform', role: 'group', 'aria-labelledby': `${p}-end-q`, hidden: true },
      h('p', { id: `${p}-end-q`, i18n: 'chat.end_question' }),
      h('div', { class: 'chat-subform-actions' }, this.endConfirm, button('chat-end-cancel', 'common.cancel', () => this.closeSubforms(this.endButton))),
    );

    this.element = h(
      'section',
      { class: 'chat-window', 'data-testid': 'chat-window', dataset: { chatId: this.id }, 'aria-labelledby': `${p}-title` },
      h('header', { class: 'chat-window-head' }, this.title, this.badges, this.stateLine),
      this.transferNote,
      this.streamError,
      this.log,
      this.typingEl,
      this.composer,
      this.tools,
      this.transferForm,
      this.endForm,
    );
    applyTranslations(this.element);
  }

  // ---- What the summary decides ----

  /** A newer version of the chat (desk event or an answer): the window follows it. */
  update(summary) {
    if (summary.version < this.summary.version) return;
    const wasMine = this.isMine();
    this.summary = summary;
    this.refresh();
    if (!wasMine && this.isMine()) this.scheduleDelivered();
  }

  refresh() {
    const s = this.summary;
    const mine = this.isMine();
    const ended = s.state === 'ended';
    this.element.dataset.state = s.state;
    this.element.dataset.risk = s.risk?.level || 'none';
    this.element.classList.toggle('is-mine', mine);
    this.title.textContent = chatTitle(s);
    this.badges.replaceChildren(riskBadge(s.risk?.level), signalList(s.risk?.signals) || '');
    if (ended) setText(this.stateLine, ['chat_end', s.end_reason || 'worker'].join('.'));
    else if (s.state === 'queued') setText(this.stateLine, 'chat.state_queued');
    else if (mine) setText(this.stateLine, 'chat.state_mine');
    else setText(this.stateLine, 'chat.state_other', { name: s.worker?.name || '' });
    this.renderTransferNote();
    setText(this.cannedLabel, 'chat.canned_label', { language: languageName(s.language) });

    this.composer.hidden = !mine;
    this.riskField.hidden = ended;
    this.risk.value = s.risk?.assessed || '';
    const assessed = RISK_LEVELS.indexOf(s.risk?.assessed || 'none');
    for (const option of this.risk.options) {
      option.disabled = option.value === '' ? assessed > 0 : RISK_LEVELS.indexOf(option.value) < assessed;
    }
    this.acceptButton.hidden = s.state !== 'queued';
    this.transferButton.hidden = !mine;
    this.endButton.hidden = !mine;
    this.entryButton.hidden = !s.entry_id;
    this.closeButton.hidden = mine;
    if (!mine) {
      this.transferForm.hidden = true;
      this.endForm.hidden = true;
      this.typingEl.hidden = true;
    }
    applyTranslations(this.badges);
  }

  /** The note of the transfer that gave the chat to me. */
  renderTransferNote() {
    const last = this.summary.transfers?.at(-1);
    const forMe = last && last.to?.id === app.me?.id && this.summary.state !== 'ended';
    this.transferNote.hidden = !forMe;
    if (!forMe) return;
    const intro = h('span', { class: 'chat-transfer-from' });
    setText(intro, last.note ? 'chat.transferred_to_you_note' : 'chat.transferred_to_you', { name: last.from?.name || '' });
    this.transferNote.replaceChildren(intro, last.note ? h('p', { class: 'prewrap chat-transfer-text', text: last.note }) : '');
  }

  languageChanged() {
    applyTranslations(this.element);
    this.refresh();
  }

  // ---- The transcript ----

  nearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
  }

  place(li, stick) {
    const firstPending = this.list.querySelector('.is-pending');
    this.list.insertBefore(li, firstPending);
    applyTranslations(li);
    if (stick) this.log.scrollTop = this.log.scrollHeight;
  }

  systemLine(seq, key, at) {
    return h(
      'li',
      { class: 'chat-sys', dataset: { seq } },
      h('span', { i18n: key }),
      ' ',
      at ? h('time', { class: 'chat-msg-time', datetime: at, title: formatLong(at), text: formatShort(at) }) : null,
    );
  }

  onStreamEvent(frame) {
    const seq = frame.seq;
    if (this.bySeq.has(seq)) return;
    const data = frame.data || {};
    let li;
    switch (frame.kind) {
      case 'chat.message': {
        li = messageLine({ seq, from: data.from, body: data.body, at: frame.at, client_id: data.client_id }, 'chat-window-message');
        if (data.from === 'worker') li.append(h('p', { class: 'chat-msg-status', i18n: 'chat.msg_sent' }));
        const pending = this.pending.get(data.client_id);
        if (pending) {
          pending.remove();
          this.pending.delete(data.client_id);
        }
        if (data.from === 'client') {
          this.shownClientSeq = Math.max(this.shownClientSeq, seq);
          this.hideTyping();
        }
        break;
      }
      case 'chat.opened':
        li = this.systemLine(seq, 'chat.sys_opened', frame.at);
        break;
      case 'chat.accepted':
        li = this.systemLine(seq, 'chat.sys_accepted', frame.at);
        break;
      case 'chat.transferred':
        li = this.systemLine(seq, 'chat.sys_transferred', frame.at);
        break;
      case 'chat.ended':
        li = this.systemLine(seq, ['chat_end', data.reason || 'worker'].join('.'), frame.at);
        this.hideTyping();
        break;
      default:
        return; // chat.delivered and future kinds
    }
    const stick = this.nearBottom();
    this.bySeq.set(seq, li);
    this.place(li, stick);
    this.scheduleDelivered();
  }

  onStreamError(frame) {
    this.streamError.hidden = false;
    setText(this.streamError, 'chat.stream_failed', { message: frame.message || frame.code || '' });
  }

  onTyping(frame) {
    if (frame.from !== 'client' || !this.isMine()) return;
    this.typingEl.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_SHOW_MS);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typingEl.hidden = true;
  }

  // ---- Delivered marks: the client sees that its messages reached the desk ----

  scheduleDelivered() {
    if (!this.isMine() || this.destroyed || this.shownClientSeq <= this.deliveredSent) return;
    clearTimeout(this.deliveredTimer);
    this.deliveredTimer = setTimeout(() => this.sendDelivered(), DELIVERED_DELAY_MS);
  }

  async sendDelivered() {
    // Only what was on a visible screen counts as shown.
    if (document.visibilityState !== 'visible' || this.deliveredBusy || !this.isMine()) return;
    const seq = this.shownClientSeq;
    if (seq <= this.deliveredSent) return;
    this.deliveredBusy = true;
    try {
      await api.chatAction(this.id, 'delivered', { seq });
      this.deliveredSent = Math.max(this.deliveredSent, seq);
    } catch (err) {
      if (retryable(err)) {
        setTimeout(() => this.scheduleDelivered(), 5000);
        return;
      }
      this.deliveredSent = Math.max(this.deliveredSent, seq); // refused: do not insist
    } finally {
      this.deliveredBusy = false;
    }
    this.scheduleDelivered();
  }

  // ---- Replying ----

  onReplyKey(event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.composer.requestSubmit();
    }
  }

  onInput() {
    drafts.save(this.replyName, { text: this.input.value });
    const at = Date.now();
    if (this.input.value.trim() && at - this.lastTypingSent >= TYPING_SEND_MS) {
      this.lastTypingSent = at;
      app.live?.typing(this.stream);
    }
  }

  insertCanned() {
    const key = this.canned.value;
    if (!key) return;
    const text = cannedText(this.summary.language, key);
    const el = this.input;
    const start = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? start;
    const before = el.value.slice(0, start);
    const gap = before && !/\s$/.test(before) ? ' ' : '';
    el.value = `${before}${gap}${text}${el.value.slice(end)}`;
    const caret = before.length + gap.length + text.length;
    this.canned.value = '';
    el.focus();
    el.setSelectionRange(caret, caret);
    this.onInput();
  }

  onSubmit(event) {
    event.preventDefault();
    const body = this.input.value.trim();
    if (!body || !this.isMine()) return;
    const item = { client_id: uuid(), body };
    this.outgoing.push(item);
    if (!this.saveOutbox()) notify('error', 'error.storage');
    this.input.value = '';
    drafts.remove(this.replyName);
    this.showPending(item, 'sending');
    this.log.scrollTop = this.log.scrollHeight;
    this.input.focus();
    this.pump();
  }

  saveOutbox() {
    if (!this.outgoing.length) {
      drafts.remove(this.outboxName);
      return true;
    }
    return drafts.save(this.outboxName, this.outgoing);
  }

  showPending(item, status) {
    const li = messageLine({ from: 'worker', body: item.body, client_id: item.client_id }, 'chat-window-message');
    li.classList.add('is-pending');
    li.append(h('p', { class: 'chat-msg-status' }));
    this.pending.set(item.client_id, li);
    this.list.append(li);
    applyTranslations(li);
    this.setPendingStatus(item.client_id, status);
  }

  setPendingStatus(clientId, status, err) {
    const li = this.pending.get(clientId);
    if (!li) return;
    li.dataset.status = status;
    const line = li.querySelector('.chat-msg-status');
    if (status === 'failed') setText(line, 'chat.msg_failed', { message: errorText(err) });
    else setText(line, ['chat', `msg_${status}`].join('.'));
    if (status === 'failed') li.classList.add('is-failed');
  }

  /** Sends the waiting messages in order, each with its own client_id until it is in. */
  async pump() {
    if (this.pumping || this.destroyed) return;
    this.pumping = true;
    try {
      while (this.outgoing.length && !this.destroyed) {
        const item = this.outgoing[0];
        try {
          await api.chatAction(this.id, 'messages', { client_id: item.client_id, body: item.body });
          this.retryDelay = 0;
          this.outgoing.shift();
          this.saveOutbox();
          this.setPendingStatus(item.client_id, 'sent');
        } catch (err) {
          if (retryable(err)) {
            this.setPendingStatus(item.client_id, 'retrying');
            await this.waitToRetry();
            continue;
          }
          // Refused (the chat ended, or a colleague took it): the text stays on screen and,
          // when the box is empty, goes back into it.
          this.outgoing.shift();
          this.saveOutbox();
          this.setPendingStatus(item.client_id, 'failed', err);
          if (!this.input.value.trim() && !this.composer.hidden) this.input.value = item.body;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  waitToRetry() {
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay ? this.retryDelay * 2 : RETRY_FIRST_MS);
    return new Promise((resolve) => {
      this.retryWake = resolve;
      this.retryTimer = setTimeout(resolve, this.retryDelay);
    });
  }

  /** The connection is back: try the waiting messages now. */
  retryNow() {
    this.retryDelay = 0;
    clearTimeout(this.retryTimer);
    this.retryWake?.();
    this.retryWake = null;
    this.pump();
    this.scheduleDelivered();
  }

  // ---- Risk, transfer, end ----

  /** Marks a control busy without disabling it (a disabled control would lose focus). */
  async busy(control, action) {
    if (control.getAttribute('aria-disabled') === 'true') return;
    control.setAttribute('aria-disabled', 'true');
    try {
      await action();
    } finally {
      control.removeAttribute('aria-disabled');
    }
  }

  async assessRisk() {
    const level = this.risk.value;
    if (!level) return;
    await this.busy(this.risk, () => this.saveRisk(level));
  }

  async saveRisk(level) {
    try {
      this.update(await api.chatAction(this.id, 'risk', { level }));
      notify('success', 'chat.risk_saved', { code: shortCode(this.id), risk: riskLabel(level) });
    } catch (err) {
      notify('error', 'error.action_failed', { message: errorText(err) });
      this.refresh();
    }
  }

  closeSubforms(focusTo) {
    this.transferForm.hidden = true;
    this.endForm.hidden = true;
    focusTo?.focus();
  }

  /** The colleagues on shift who answer chats (presence names their usernames). */
  colleagues() {
    const seen = new Set();
    return (app.presence || []).filter((p) => {
      if (p.id === app.me?.id || !DESK_ROLES.includes(p.role) || !p.username || seen.has(p.id)) return false;
      seen.add(p.id);
      return true;
    });
  }

  openTransfer() {
    this.endForm.hidden = true;
    const people = this.colleagues();
    const chosen = this.transferTo.value;
    this.transferTo.replaceChildren(
      h('option', { value: '', i18n: people.length ? 'form.choose' : 'chat.transfer_nobody' }),
      ...people.map((p) => h('option', { value: p.username, text: `${p.name} (${t(['role', p.role].join('.'))})` })),
    );
    applyTranslations(this.transferTo);
    if (people.some((p) => p.username === chosen)) this.transferTo.value = chosen;
    this.transferError.hidden = true;
    this.transferTo.removeAttribute('aria-invalid');
    this.transferForm.hidden = false;
    this.transferTo.focus();
  }

  async transfer() {
    const to = this.transferTo.value;
    if (!to) {
      this.transferError.hidden = false;
      setText(this.transferError, 'chat.transfer_choose');
      this.transferTo.setAttribute('aria-invalid', 'true');
      this.transferTo.focus();
      return;
    }
    await this.busy(this.transferConfirm, async () => {
      // The desk event may arrive before the answer: the desk then knows it was ours.
      this.transferring = true;
      try {
        const summary = await api.chatAction(this.id, 'transfer', { to, note: this.transferNoteInput.value.trim() });
        this.summary = summary;
        this.hooks.onTransferred(summary);
      } catch (err) {
        this.transferError.hidden = false;
        setText(this.transferError, 'chat.transfer_failed', { message: errorText(err) });
      } finally {
        this.transferring = false;
      }
    });
  }

  openEnd() {
    this.transferForm.hidden = true;
    this.endForm.hidden = false;
    this.endConfirm.focus();
  }

  async end() {
    await this.busy(this.endConfirm, async () => {
      try {
        this.update(await api.chatAction(this.id, 'end'));
        this.endForm.hidden = true;
        notify('success', 'chat.ended_done', { code: shortCode(this.id) });
        (this.summary.entry_id ? this.entryButton : this.closeButton).focus();
      } catch (err) {
        notify('error', 'error.action_failed', { message: errorText(err) });
      }
    });
  }

  focusReply() {
    (this.isMine() ? this.input : this.title).focus();
  }

  /** The window goes away (transferred, or closed after the end); its stored text too. */
  destroy() {
    this.destroyed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.deliveredTimer);
    clearTimeout(this.typingTimer);
    this.retryWake?.();
    this.element.remove();
  }

  forgetDrafts() {
    drafts.remove(this.outboxName);
    drafts.remove(this.replyName);
  }
}
