// The login form and starting or leaving the chat.
import { renderMute, unlockAudio } from './alerts.js';
import { el } from './dom.js';
import { connect, disconnect } from './link.js';
import { resetRooms } from './roomlist.js';
import { GENDERS, PALETTE, STORE_LOGIN, STORE_MUTE, load, save, state, ui } from './state.js';
import { hideBanner } from './status.js';
import { safeColor } from './text.js';
import { renderMe, renderUsers, setPrivate } from './users.js';

// ---- login ----

export function setupLogin() {
  for (const [hex, word] of PALETTE) {
    const label = el('label', 'swatch');
    label.title = word;
    const input = el('input');
    input.type = 'radio';
    input.name = 'userColor';
    input.value = hex;
    input.setAttribute('aria-label', word);
    const dot = el('span', 'swatch-dot');
    dot.style.backgroundColor = hex;
    label.append(input, dot);
    ui.swatches.append(label);
  }
  const last = load(STORE_LOGIN) ?? {};
  ui.name.value = typeof last.name === 'string' ? last.name : '';
  const color = PALETTE.some(([hex]) => hex === last.color) ? last.color : PALETTE[3][0];
  ui.swatches.querySelector(`input[value="${color}"]`).checked = true;
  ui.gender.value = ['0', '1', '2'].includes(String(last.gender)) ? String(last.gender) : '0';
  state.muted = load(STORE_MUTE) === true;
  renderMute();
  updatePreview();
  ui.loginForm.addEventListener('input', updatePreview);
  ui.loginForm.addEventListener('change', updatePreview);
  ui.loginForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const login = readLogin();
    save(STORE_LOGIN, login);
    unlockAudio();
    start(login);
  });
  ui.name.focus();
}

export function readLogin() {
  const checked = ui.swatches.querySelector('input:checked');
  return {
    name: ui.name.value.trim(),
    color: checked ? checked.value : PALETTE[3][0],
    gender: Number(ui.gender.value) || 0,
  };
}

export function updatePreview() {
  const l = readLogin();
  const u = { userName: l.name || 'Your name', userColor: l.color, gender: l.gender };
  ui.previewAvatar.textContent = [...u.userName][0].toUpperCase();
  ui.previewAvatar.style.backgroundColor = safeColor(l.color);
  ui.previewName.textContent = u.userName + (GENDERS[l.gender] ? ' ' + GENDERS[l.gender].mark : '');
  ui.previewName.style.color = safeColor(l.color);
}

export function start(login) {
  state.login = login;
  state.wanted = true;
  state.everOnline = false;
  state.attempt = 0;
  resetRooms();
  ui.log.replaceChildren();
  state.stick = true;
  document.documentElement.style.setProperty('--accent', safeColor(login.color, '#2980b9'));
  ui.loginView.hidden = true;
  ui.chatView.hidden = false;
  renderMe();
  connect();
  ui.message.focus();
}

export function leave() {
  state.wanted = false;
  disconnect();
  state.me = null;
  state.users.clear();
  resetRooms();
  renderUsers();
  setPrivate(null);
  hideBanner();
  ui.chatView.hidden = true;
  ui.loginView.hidden = false;
  ui.name.focus();
}
