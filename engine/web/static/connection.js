// The WebSocket: connecting, reconnecting with resume, dispatching frames, presence.
import { userOf } from './dom.js';
import { history } from './history.js';
import { message, notice, room, sent, serverError } from './log.js';
import { leave } from './login.js';
import { presence, renderRooms, roomJoined, roomLeft, roomsList } from './roomlist.js';
import { CLOSE_WORDS, LOBBY, state, ui } from './state.js';
import { sinceParam } from './sync.js';
import { renderMe, renderUsers, retryPending, setPrivate, transmit } from './users.js';

// ---- connection ----

export function connect() {
  clearTimeout(state.retryTimer);
  clearInterval(state.countdown);
  ui.banner.hidden = true;
  const q = new URLSearchParams({
    userName: state.login.name,
    userColor: state.login.color,
    gender: String(state.login.gender),
    ack: '1',
  });
  // Resume: the same identity back, and every message missed since what this page has.
  state.resumeSent = !!state.token;
  if (state.token) q.set('resume', state.token);
  const since = state.token ? sinceParam(state.streams, [...state.rooms.keys()]) : '';
  if (since) q.set('since', since);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  setStatus('connecting', state.everOnline ? 'Reconnecting…' : 'Connecting…');
  let ws;
  try {
    ws = new WebSocket(`${scheme}//${location.host}/?${q}`);
  } catch {
    dropped(null);
    return;
  }
  state.ws = ws;
  // A replaced socket may still fire events; only the current one counts.
  ws.onmessage = (ev) => { if (ws === state.ws) receive(ev.data); };
  ws.onclose = (ev) => { if (ws === state.ws) dropped(ev); };
}

export function dropped(ev) {
  const wasOnline = !!state.me;
  state.ws = null;
  state.me = null;
  clearTimeout(state.watchdog);
  state.lastPing = 0;
  // Who is online is unknown until the next Authorized, as the Qt client treats it.
  state.users.clear();
  for (const r of state.rooms.values()) r.members.clear(), r.loading = false;
  clearInterval(state.retryPending);
  clearInterval(state.roomsPoll);
  renderUsers();
  renderRooms();
  if (wasOnline) {
    const why = (ev && CLOSE_WORDS[ev.code]) || 'The connection to the server was lost.';
    notice('lost-self', why);
  }
  if (!state.wanted) return;
  // Exponential backoff with jitter, so a restarted server is not stormed by every page.
  const base = Math.min(15000, 500 * 2 ** state.attempt);
  const delay = Math.round(base * (0.75 + Math.random() * 0.5));
  state.attempt++;
  state.retryAt = Date.now() + delay;
  state.retryTimer = setTimeout(connect, delay);
  showCountdown();
  clearInterval(state.countdown);
  state.countdown = setInterval(showCountdown, 500);
}

export function showCountdown() {
  const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
  setStatus('offline', 'Offline');
  ui.bannerText.textContent = `Connection lost. Reconnecting in ${s} s…`;
  ui.banner.hidden = false;
}

// The heartbeat proves the server is there; if Pings stop (a dead network path closes
// nothing), give up on the socket once several are overdue and reconnect.
export function armWatchdog() {
  clearTimeout(state.watchdog);
  if (!state.pingGap) return;
  const ws = state.ws;
  state.watchdog = setTimeout(() => {
    if (ws !== state.ws) return;
    state.ws = null;
    ws.close();
    dropped({ code: 4000 });
  }, Math.max(10000, state.pingGap * 4));
}

export function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  ui.statusText.textContent = text;
  ui.send.disabled = kind !== 'online';
}

export function sendJSON(obj) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
  state.ws.send(JSON.stringify(obj));
  return true;
}

export function receive(data) {
  let m;
  try { m = JSON.parse(data); } catch { return; }
  if (!m || typeof m !== 'object') return;
  switch (m.action) {
    case 'Ping': {
      sendJSON({ action: 'Pong' });
      const now = Date.now();
      if (state.lastPing) state.pingGap = now - state.lastPing;
      state.lastPing = now;
      break;
    }
    case 'Authorized': authorized(m); break;
    case 'Connected': connected(userOf(m)); break;
    case 'Disconnected': gone(userOf(m), 'left the chat', 'left'); break;
    case 'ConnectionLost': gone(userOf(m), 'lost the connection', 'lost'); break;
    case 'PublicMessage': message(m, false); break;
    case 'PrivateMessage': message(m, true); break;
    case 'Error': serverError(m); break;
    case 'Sent': sent(m); break;
    case 'RoomJoined': roomJoined(m); break;
    case 'RoomLeft': roomLeft(String(m.roomId ?? '')); break;
    case 'Rooms': roomsList(m); break;
    case 'Presence': presence(m); break;
    case 'History': history(m); break;
    default: break; // newer servers may add actions; this page ignores them, like the Qt client
  }
  armWatchdog();
}

export function authorized(m) {
  state.me = userOf(m);
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
  for (const id of state.streams.keys()) {
    if (id.startsWith('@') && id !== '@' + state.me.userId) state.streams.delete(id);
  }
  state.attempt = 0;
  clearInterval(state.countdown);
  ui.banner.hidden = true;
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
  clearInterval(state.roomsPoll);
  state.roomsPoll = setInterval(() => sendJSON({ action: 'Rooms' }), 15000);
  // Lines that never got Sent go again, in order; the server drops repeats by id.
  for (const p of state.pending.values()) transmit(p);
  clearInterval(state.retryPending);
  state.retryPending = setInterval(retryPending, 1000);
  // Ids change across reconnections; a private chat follows the peer's name.
  if (state.privateTo) {
    const peer = [...state.users.values()].find((u) => u.userName === state.privateTo.userName && u.userId !== state.me.userId);
    setPrivate(peer ?? state.privateTo, !!peer);
  }
}

export function connected(u) {
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
  if (state.privateTo && !state.privateTo.online && u.userName === state.privateTo.userName) setPrivate(u);
}

export function gone(u, words, kind) {
  state.users.delete(u.userId);
  renderUsers();
  renderRooms();
  notice(kind, words, u, room(LOBBY));
  if (state.privateTo && state.privateTo.userId === u.userId) {
    // Stay in private mode: falling back to public could send a private line to all.
    setPrivate(state.privateTo, false);
    notice('info', `${u.userName} is offline. Private mode waits for them to come back, or leave it.`);
  }
}
