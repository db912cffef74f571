// Tiny DOM helpers. Text always goes in through textContent, never as HTML.

/**
 * Creates an element.
 * attrs: class, text, i18n (message key), i18nArgs (placeholder values), i18nAttr
 * ("attr:key;attr:key"),
 * dataset (object), on (event -> handler), hidden/disabled/checked/required (booleans),
 * value, and any other attribute (set with setAttribute; null/false skips it).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    switch (name) {
      case 'class':
        el.className = value;
        break;
      case 'text':
        el.textContent = value;
        break;
      case 'i18n':
        // Text with placeholders is marked apart from plain messages (see i18n.js).
        if (attrs.i18nArgs) el.setAttribute('data-i18n-fmt', value);
        else el.setAttribute('data-i18n', value);
        break;
      case 'i18nArgs':
        el.setAttribute('data-i18n-args', JSON.stringify(value));
        break;
      case 'i18nAttr':
        el.setAttribute('data-i18n-attr', value);
        break;
      case 'dataset':
        for (const [k, v] of Object.entries(value)) {
          if (v !== null && v !== undefined) el.dataset[k] = String(v);
        }
        break;
      case 'on':
        for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
        break;
      case 'hidden':
      case 'disabled':
      case 'checked':
      case 'required':
      case 'readOnly':
        el[name] = Boolean(value);
        break;
      case 'value':
        el.value = value;
        break;
      default:
        el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function byTestId(id, root = document) {
  return root.querySelector(`[data-testid="${id}"]`);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Replaces an element's children (null/false children are skipped, arrays flattened). */
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

/** True when keyboard input goes to a text field (so single-key shortcuts stay off). */
export function isTypingTarget(el) {
  if (!el || el === document.body) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(type);
  }
  return false;
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  wrapped.flush = (...args) => {
    clearTimeout(timer);
    fn(...args);
  };
  return wrapped;
}

/** localStorage that never throws (private mode, quota): a failed write returns false. */
export const storage = {
  get(key, fallback = null) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
      return true;
    } catch {
      return false;
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* ignore */
    }
  },
};

export { uuid } from '../shared/uuid.js';

/** One labelled field of a detail: a <dt>/<dd> pair for a <dl class="detail-fields">. */
export function detailRow(labelKey, ...value) {
  return [h('dt', { i18n: labelKey }), h('dd', {}, ...value)];
}
