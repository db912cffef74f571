// The conflict dialog: a colleague saved the same field first. Both texts are shown side by
// side; the worker keeps theirs or re-sends their own. Neither text is lost: whatever is
// replaced stays in the entry's history, and the worker's text can be copied.

import { fill, h } from './dom.js';
import { applyTranslations } from './i18n.js';
import { FIELD_LABEL, fieldText } from './model.js';
import { formatLong } from './time.js';

let returnFocusTo = null;

async function copyText(text, button) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    // Clipboard API refused (e.g. not a secure context): select the text for Ctrl+C.
    const text = button.closest('.conflict-mine')?.querySelector('.conflict-text');
    if (text) {
      window.getSelection()?.selectAllChildren(text);
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
    }
  }
  button.setAttribute('data-i18n', ok ? 'conflict.copied' : 'conflict.copy_manual');
  applyTranslations(button);
}

/** Opens the dialog for one conflict. handlers: onKeepMine(), onTakeTheirs(), onLater() */
export function openConflictDialog(conflict, handlers) {
  const dialog = document.getElementById('conflict-dialog');
  const body = dialog.querySelector('.conflict-body');
  const { current } = conflict;
  const otherFields = Object.keys(conflict.mine).filter((f) => !conflict.fields.includes(f));

  fill(body,
    h('p', { i18n: 'conflict.intro', i18nArgs: { summary: current.summary, time: formatLong(current.updated_at), version: current.version } }),
    ...conflict.fields.map((field, index) => {
      const theirs = fieldText(field, current[field]);
      const mine = fieldText(field, conflict.mine[field]);
      const copy = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'conflict-copy-mine', i18n: 'conflict.copy' });
      copy.addEventListener('click', () => copyText(mine, copy));
      return h(
        'section',
        { class: 'conflict-field', 'aria-labelledby': `conflict-f${index}` },
        h('h3', { id: `conflict-f${index}`, i18n: FIELD_LABEL[field] }),
        h(
          'div',
          { class: 'conflict-compare' },
          h(
            'div',
            { class: 'conflict-theirs' },
            h('h4', { i18n: 'conflict.theirs' }),
            h('p', { class: 'prewrap conflict-text', 'data-testid': 'conflict-theirs-text', text: theirs || '—' }),
          ),
          h(
            'div',
            { class: 'conflict-mine' },
            h('h4', { i18n: 'conflict.mine' }),
            h('p', { class: 'prewrap conflict-text', 'data-testid': 'conflict-mine-text', text: mine || '—' }),
            copy,
          ),
        ),
      );
    }),
    otherFields.length
      ? h('p', { class: 'muted', i18n: 'conflict.others_kept', i18nArgs: { count: otherFields.length } })
      : null,
    h('p', { class: 'muted', i18n: 'conflict.history_note' }),
  );
  applyTranslations(dialog);

  const keep = dialog.querySelector('[data-testid="conflict-keep-mine"]');
  const take = dialog.querySelector('[data-testid="conflict-take-theirs"]');
  const later = dialog.querySelector('[data-testid="conflict-later"]');
  const finish = (fn) => () => {
    cleanup();
    dialog.close();
    fn?.();
    restoreFocus();
  };
  const onKeep = finish(handlers.onKeepMine);
  const onTake = finish(handlers.onTakeTheirs);
  const onLater = finish(handlers.onLater);
  const onCancel = (event) => {
    // Esc: decide later; the conflict stays stored and can be reopened.
    event.preventDefault();
    onLater();
  };
  function cleanup() {
    keep.removeEventListener('click', onKeep);
    take.removeEventListener('click', onTake);
    later.removeEventListener('click', onLater);
    dialog.removeEventListener('cancel', onCancel);
  }
  keep.addEventListener('click', onKeep);
  take.addEventListener('click', onTake);
  later.addEventListener('click', onLater);
  dialog.addEventListener('cancel', onCancel);

  returnFocusTo = document.activeElement;
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('#conflict-title').focus();
}

export function isConflictOpen() {
  return document.getElementById('conflict-dialog')?.open ?? false;
}

function restoreFocus() {
  const target = returnFocusTo;
  returnFocusTo = null;
  if (target && target !== document.body && target.isConnected && typeof target.focus === 'function') {
    target.focus();
    return;
  }
  // What had focus was replaced meanwhile (the edit form became the detail view).
  const fallback =
    document.querySelector('#panel:not([hidden]) #panel-heading') || document.getElementById('board-heading');
  fallback?.focus();
}
