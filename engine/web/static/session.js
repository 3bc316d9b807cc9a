// Being online: Authorized sets the page up, a dropped socket takes it down, and the
// lobby's Connected/Disconnected/ConnectionLost keep who is online.
import { retryPending, transmit } from './composer.js';
import { sendJSON } from './link.js';
import { notice } from './log.js';
import { renderRooms } from './roomlist.js';
import { room } from './rooms.js';
import { CLOSE_WORDS, LOBBY, state } from './state.js';
import { hideBanner, setStatus } from './status.js';
import { userOf } from './text.js';
import { renderMe, renderUsers, setPrivate } from './users.js';
import { askDialogs, followPeer } from './dialogs.js';

// ---- session ----

export function authorized(m) {
  state.me = userOf(m);
  state.moderator = m.moderator === true; // --moderators: Delete on every room line
  state.modern = typeof m.resumeToken === 'string';
  state.token = state.modern ? m.resumeToken : '';
  if (state.resumeSent && m.resumed !== true) {
    // A new identity (the grace passed, or a fresh server): positions from before
    // may name other messages now, so nothing is assumed about them.
    state.resumeFailedAt = Date.now();
    state.streams.clear();
    state.shown.clear();
    state.confirmed.clear();
    for (const r of state.rooms.values()) for (const li of r.items) delete li.dataset.key;
  }
  // Streams of another identity's inbox or conversations are not this one's to resume.
  const mine = new RegExp(`^@(${state.me.userId}|${state.me.userId}-\\d+|\\d+-${state.me.userId})$`);
  for (const id of state.streams.keys()) {
    if (id.startsWith('@') && !mine.test(id)) state.streams.delete(id);
  }
  state.attempt = 0;
  hideBanner();
  state.users.clear();
  for (const raw of Array.isArray(m.users) ? m.users : []) {
    if (raw && typeof raw === 'object') {
      const u = userOf(raw);
      state.users.set(u.userId, u);
    }
  }
  state.users.set(state.me.userId, state.me);
  setStatus('online', 'Online');
  room(LOBBY).count = state.users.size;
  renderMe();
  renderUsers();
  renderRooms();
  if (!state.modern) return;
  sendJSON({ action: 'Rooms' });
  askDialogs();
  clearInterval(state.roomsPoll);
  state.roomsPoll = setInterval(() => sendJSON({ action: 'Rooms' }), 15000);
  // Lines that never got Sent go again, in order; the server drops repeats by id.
  for (const p of state.pending.values()) transmit(p);
  clearInterval(state.retryPending);
  state.retryPending = setInterval(retryPending, 1000);
  // Ids change across reconnections; a conversation in view follows the peer's name.
  followPeer();
}

// offline is the page's side of a dropped socket (code: its close code, if any); the
// socket itself schedules the reconnect.
export function offline(code) {
  const wasOnline = !!state.me;
  state.me = null;
  // Who is online is unknown until the next Authorized, as the Qt client treats it.
  state.users.clear();
  for (const r of state.rooms.values()) r.members.clear(), r.loading = false;
  clearInterval(state.retryPending);
  clearInterval(state.roomsPoll);
  renderUsers();
  renderRooms();
  if (wasOnline) notice('lost-self', CLOSE_WORDS[code] || 'The connection to the server was lost.');
}

export function connected(m) {
  const u = userOf(m);
  state.users.set(u.userId, u);
  renderUsers();
  renderRooms();
  const lobby = room(LOBBY);
  if (state.me && u.userId === state.me.userId) {
    notice('self', state.everOnline ? `Reconnected as ${u.userName}.` : `You joined the chat as ${u.userName}.`);
    state.everOnline = true;
    return;
  }
  notice('join', 'joined the chat', u, lobby);
  if (state.privateTo && !state.privateTo.online && u.userName === state.privateTo.userName) followPeer();
}

export function gone(m, words, kind) {
  const u = userOf(m);
  state.users.delete(u.userId);
  renderUsers();
  renderRooms();
  notice(kind, words, u, room(LOBBY));
  if (state.privateTo && state.privateTo.userId === u.userId) {
    // Stay in the conversation: falling back to public could send a private line to all.
    setPrivate(state.privateTo, false);
    notice('info', `${u.userName} is offline.`);
  }
}
