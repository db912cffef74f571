// Calling a worker's attention to the chat desk, also when the tab is in the background:
// short WebAudio beeps (the audio context is made on the first user gesture, since
// browsers block sound before one), the waiting count in the tab title (flashing after a
// new chat until the tab has focus), system notifications once the worker allowed them,
// and the mute switch for the new-chat sound (imminent-risk alarms always sound).

import { storage } from './dom.js';
import { t } from './i18n.js';

const MUTE_KEY = 'paivystys.chat.muted';
const FLASH_MS = 1000;

let audio = null;
let waiting = 0;
let attention = false;
let flashTimer = null;
let flashOn = false;

// ---- Sound ----

/** Makes (or wakes) the audio context; call from a user gesture such as the login click. */
export function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!audio) audio = new Context();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

/** Every click or key press keeps the audio context awake (a cheap no-op once it is). */
export function installGestureUnlock() {
  for (const type of ['pointerdown', 'keydown']) {
    document.addEventListener(type, unlockAudio, { capture: true, passive: true });
  }
}

function tone(frequency, start, length, volume) {
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  oscillator.type = 'sine';
  oscillator.frequency.value = frequency;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(volume, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start(start);
  oscillator.stop(start + length + 0.05);
}

/** kind: 'new' (a short two-note chime, unless muted) | 'imminent' (a louder, longer alarm). */
export function playSound(kind) {
  if (!audio || audio.state !== 'running') return;
  if (kind !== 'imminent' && isMuted()) return;
  const at = audio.currentTime + 0.01;
  try {
    if (kind === 'imminent') {
      for (let i = 0; i < 3; i += 1) {
        tone(988, at + i * 0.5, 0.2, 0.5);
        tone(740, at + i * 0.5 + 0.22, 0.2, 0.5);
      }
    } else {
      tone(880, at, 0.15, 0.25);
      tone(1175, at + 0.17, 0.18, 0.25);
    }
  } catch {
    /* no sound is better than a broken console */
  }
}

export function isMuted() {
  return storage.get(MUTE_KEY, false) === true;
}

export function setMuted(muted) {
  storage.set(MUTE_KEY, Boolean(muted));
}

// ---- The tab title ----

function focused() {
  return document.visibilityState === 'visible' && document.hasFocus();
}

function renderTitle() {
  const base = t('app.title');
  const counted = waiting > 0 ? `(${waiting}) ${base}` : base;
  document.title = attention && flashOn ? `(${waiting}) ${t('chat.title_flash')}` : counted;
}

function stopFlashing() {
  attention = false;
  flashOn = false;
  clearInterval(flashTimer);
  flashTimer = null;
  renderTitle();
}

/** How many chats wait: the title says it, "(2) Päivystys – …". */
export function setWaiting(count) {
  waiting = count;
  if (!waiting) stopFlashing();
  else renderTitle();
}

/** A new chat: the title flashes until the tab is looked at (or nobody waits). */
export function callAttention() {
  if (focused() || !waiting) {
    renderTitle();
    return;
  }
  attention = true;
  if (!flashTimer) {
    flashTimer = setInterval(() => {
      if (focused() || !waiting) {
        stopFlashing();
        return;
      }
      flashOn = !flashOn;
      renderTitle();
    }, FLASH_MS);
  }
}

/** Back to the plain title (logout). */
export function resetTitle() {
  waiting = 0;
  stopFlashing();
}

export function titleLanguageChanged() {
  renderTitle();
}

// Only a focus the page really has stops the flashing (a stray event does not).
window.addEventListener('focus', () => attention && focused() && stopFlashing());
document.addEventListener('visibilitychange', () => attention && focused() && stopFlashing());

// ---- System notifications ----

export function notificationsSupported() {
  return 'Notification' in window;
}

/** 'default' | 'granted' | 'denied' | 'unsupported'. */
export function notificationPermission() {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}

export async function requestNotifications() {
  if (!notificationsSupported()) return 'unsupported';
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/** A system notification when the worker allowed them and is looking elsewhere. */
export function systemNotify(title, body, { tag, urgent = false, onClick } = {}) {
  if (notificationPermission() !== 'granted' || (focused() && !urgent)) return;
  try {
    const note = new Notification(title, { body, tag, requireInteraction: urgent, lang: document.documentElement.lang });
    note.onclick = () => {
      window.focus();
      note.close();
      onClick?.();
    };
  } catch {
    /* some browsers allow notifications from a service worker only */
  }
}
