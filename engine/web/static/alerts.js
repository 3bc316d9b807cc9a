// Sound and title alerts for mentions and private messages.
import { baseTitle, state, ui } from './state.js';

// ---- alerts ----

let audio = null;

// Browsers only allow sound after a user gesture; the Connect click is one.
export function unlockAudio() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    audio?.resume?.();
  } catch { audio = null; }
}

export function beep() {
  if (!audio || state.muted) return;
  try {
    const t = audio.currentTime;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(1320, t + 0.09);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.18, t + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.27);
  } catch { /* no sound is better than a broken page */ }
}

export function alertMe(why) {
  const root = document.documentElement;
  root.dataset.alerts = String((Number(root.dataset.alerts) || 0) + 1);
  beep();
  if (!document.hidden) return;
  state.unread++;
  if (state.blink) return;
  let on = false;
  state.blink = setInterval(() => {
    on = !on;
    document.title = on ? `(${state.unread}) ${why}` : baseTitle;
  }, 1000);
}

export function stopBlink() {
  clearInterval(state.blink);
  state.blink = 0;
  state.unread = 0;
  document.title = baseTitle;
}

export function renderMute() {
  ui.mute.setAttribute('aria-pressed', String(state.muted));
  ui.mute.title = state.muted ? 'Sound off' : 'Sound on';
  ui.muteIcon.setAttribute('href', state.muted ? '#i-bell-off' : '#i-bell');
}
