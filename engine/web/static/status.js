// The connection's status line, and the banner counting down to a reconnect.
import { state, ui } from './state.js';

// ---- status ----

export function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  ui.statusText.textContent = text;
  ui.send.disabled = kind !== 'online';
}

export function hideBanner() {
  clearInterval(state.countdown);
  ui.banner.hidden = true;
}

export function showConnecting() {
  hideBanner();
  setStatus('connecting', state.everOnline ? 'Reconnecting…' : 'Connecting…');
}

// showRetry counts down, every half second, to the reconnect due at state.retryAt.
export function showRetry() {
  showCountdown();
  clearInterval(state.countdown);
  state.countdown = setInterval(showCountdown, 500);
}

function showCountdown() {
  const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
  setStatus('offline', 'Offline');
  ui.bannerText.textContent = `Connection lost. Reconnecting in ${s} s…`;
  ui.banner.hidden = false;
}
