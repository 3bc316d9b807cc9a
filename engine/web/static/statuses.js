// User statuses (online, away, busy and a short text): what the server says of each
// user, and this page's own picker. Statuses are kept by userId, apart from the user
// records, because a room's Presence lists joiners without their status.
import { sendJSON } from './link.js';
import { state, ui } from './state.js';
import { decodeEntities } from './text.js';
import { renderUsers } from './users.js';

export const STATUSES = ['online', 'away', 'busy'];

// noteStatuses records the statuses of a member list (Authorized, RoomJoined); reset
// forgets every other status first (a new Authorized: who is online starts over).
export function noteStatuses(list, reset = false) {
  if (reset) state.statuses.clear();
  for (const raw of Array.isArray(list) ? list : []) {
    if (raw && typeof raw === 'object' && 'status' in raw) noteStatus(raw);
  }
}

function noteStatus(m) {
  const id = Number(m.userId) || 0;
  if (!id) return;
  const status = STATUSES.includes(m.status) ? m.status : 'online';
  // The server escaped the text; it is shown with textContent only.
  state.statuses.set(id, { status, text: decodeEntities(String(m.statusText ?? '')) });
}

// statusChanged is the server's Status action.
export function statusChanged(m) {
  noteStatus(m);
  if (state.me && Number(m.userId) === state.me.userId) showMine();
  renderUsers();
}

// ---- the picker ----

export function wireStatusPicker() {
  const send = () => {
    state.myStatus = { status: ui.myStatus.value, text: ui.myStatusText.value.trim() };
    sendMyStatus();
  };
  ui.myStatus.addEventListener('change', send);
  ui.statusForm.addEventListener('submit', (e) => { e.preventDefault(); send(); });
  ui.myStatusText.addEventListener('change', send);
}

// sendMyStatus tells the server the picker's choice; after a reconnect too, since the
// server forgets a status when its connection goes.
export function sendMyStatus() {
  const s = state.myStatus;
  if (!state.modern || (s.status === 'online' && !s.text)) return;
  sendJSON({ action: 'SetStatus', status: s.status, text: s.text });
}

// showStatusPicker shows the picker against a server that has statuses.
export function showStatusPicker() {
  ui.statusForm.hidden = !state.modern;
  showMine();
}

function showMine() {
  ui.myStatus.value = state.myStatus.status;
  if (document.activeElement !== ui.myStatusText) ui.myStatusText.value = state.myStatus.text;
}
