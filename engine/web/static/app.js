// chatd's browser client. It speaks the Qt client's protocol: the same handshake query,
// the same actions, chat lines as {"text","toUserId"} with no action key.
import { renderText, safeColor, mentions, escapeHTML } from './text.js';
import { Stream, sinceParam, newClientMsgId } from './sync.js';

// The Qt client's palette, so browser users and Qt users look alike.
const PALETTE = [
  ['#34495e', 'Wet asphalt'], ['#16a085', 'Green sea'], ['#27ae60', 'Nephritis'],
  ['#2980b9', 'Belize blue'], ['#8e44ad', 'Wisteria'], ['#f39c12', 'Orange'],
  ['#d35400', 'Pumpkin'], ['#c0392b', 'Pomegranate'], ['#7f8c8d', 'Asbestos'],
  ['#2c3e50', 'Midnight blue'],
];
const GENDERS = { 1: { mark: '♂', word: 'male' }, 2: { mark: '♀', word: 'female' } };
const STORE_LOGIN = 'chatd.login';
const STORE_MUTE = 'chatd.mute';
const MAX_LOG = 500; // entries kept in the page; older ones are dropped to bound memory
const GROUP_MS = 5 * 60 * 1000; // consecutive lines of one sender within this share a header
const CLICK_DELAY = 250; // lets a double-click cancel the single click's {name} insert
// The server's text for a private message to a user who is not online (protocol.NotDeliveredText).
const NOT_DELIVERED = 'Не удалось отправить сообщение выбранному пользователю';
const LOBBY = 'lobby'; // protocol.DefaultRoomID: where a line without roomId belongs
const ROOM_ID = /^[A-Za-z0-9_.-]{1,64}$/; // protocol.ValidRoomID
const RETRY_MS = 4000; // a message without Sent by then is sent again (same clientMsgId)
const HISTORY_PAGE = 50;

const ERROR_WORDS = {
  bad_json: 'The server could not read what this page sent.',
  not_object: 'The server could not read what this page sent.',
  bad_field: 'The server rejected a malformed request from this page.',
  unknown_action: 'The server did not understand a request from this page.',
  empty_text: 'Empty messages are not sent.',
  text_too_long: 'Your message is too long; please shorten it.',
  recipient_offline: 'That user is not online, so your private message was not delivered.',
  binary_frame: 'The server only accepts text messages.',
  rate_limited: 'You are sending messages too fast. Please wait a moment.',
  bad_room_id: 'Room names are 1 to 64 letters, digits, -, _ or dots.',
  too_many_rooms: 'You are in as many rooms as the server allows; leave one first.',
  room_full: 'That room is full.',
  not_in_room: 'You are not in that room.',
  default_room: 'The main room cannot be left.',
  bad_client_msg_id: 'The server rejected a message id from this page.',
  history_unavailable: 'The server could not read the message history.',
};

const CLOSE_WORDS = {
  1001: 'Disconnected: the server is restarting.',
  1008: 'The server closed the connection: too many messages.',
  1009: 'The server closed the connection: a message was too big.',
  4000: 'Disconnected: the server stopped hearing from this page.',
  4001: 'Disconnected: the connection was too slow to keep up.',
  4002: 'This chat was opened again in another tab or window.',
};

const $ = (id) => document.getElementById(id);

const ui = {
  loginView: $('login-view'), loginForm: $('login-form'), name: $('login-name'),
  swatches: $('swatch-row'), gender: $('login-gender'),
  previewAvatar: $('preview-avatar'), previewName: $('preview-name'),
  chatView: $('chat-view'), status: $('status'), statusText: $('status-text'), me: $('me'),
  banner: $('banner'), bannerText: $('banner-text'), reconnectNow: $('reconnect-now'),
  log: $('log'), toast: $('toast'), composer: $('composer'), message: $('message'), send: $('send'),
  privateBar: $('private-bar'), privateName: $('private-name'), privateOffline: $('private-offline'), privateLeave: $('private-leave'),
  rooms: $('rooms'), roomsOther: $('rooms-other'), roomsOtherHead: $('rooms-other-head'),
  older: $('older'), roomForm: $('room-form'), roomInput: $('room-input'), roomTitle: $('room-title'),
  users: $('users'), usersEmpty: $('users-empty'), usersCount: $('users-count'), usersToggle: $('users-toggle'),
  usersToggleCount: $('users-toggle-count'), sidebar: $('sidebar'), sidebarClose: $('sidebar-close'),
  backdrop: $('backdrop'), mute: $('mute'), muteIcon: $('mute-icon'), logout: $('logout'),
};

const state = {
  login: null, // {name, color, gender} as chosen on the form
  me: null, // this connection's user, from Authorized
  users: new Map(), // userId -> user, in join order
  ws: null,
  wanted: false, // the user wants to be online: reconnect after a drop
  everOnline: false,
  attempt: 0,
  retryAt: 0,
  retryTimer: 0,
  countdown: 0,
  lastPing: 0,
  pingGap: 0,
  watchdog: 0,
  privateTo: null, // {userId, userName, online} while in private mode
  undeliveredAt: 0,
  stick: true, // the log is scrolled to its end
  logSize: '', // the log's size when stick was last decided
  muted: false,
  unread: 0,
  blink: 0,
  clickTimer: 0,
  toastTimer: 0,
  // Rooms: roomId -> {id, count, unread, items (the log's <li>s), members, more, loading}.
  rooms: new Map(),
  current: LOBBY,
  directory: [], // the last Rooms answer: [{roomId, count}]
  streams: new Map(), // roomId or inbox -> Stream: what arrived, what to Ack and resume from
  shown: new Map(), // 'room seq' -> <li>: a message is shown once, whatever path it came by
  pending: new Map(), // clientMsgId -> {frame, li, sentAt}: sent, no Sent yet
  confirmed: new Map(), // clientMsgId -> <li>: Sent came, the echo may still come
  token: '', // resume token from Authorized
  resumeSent: false,
  resumeFailedAt: 0,
  ackTimer: 0,
  retryPending: 0,
  roomsPoll: 0,
  joining: '', // the room this page asked to join: switch to it when it is joined
  // The server speaks chatd's additions (rooms, Sent, Ack, History): its Authorized
  // has a resume token. Against an older server the page talks exactly like Qt.
  modern: false,
  roomsSig: '',
};

const baseTitle = document.title;

// ---- storage: private browsing may forbid it, and the page must work anyway ----

function load(key) {
  try { return JSON.parse(localStorage.getItem(key) ?? 'null'); } catch { return null; }
}

function save(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* not remembered, still works */ }
}

// ---- small DOM helpers ----

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(ns, 'use');
  use.setAttribute('href', '#i-' + name);
  svg.append(use);
  return svg;
}

function userOf(m) {
  return {
    userId: Number(m.userId) || 0,
    userName: String(m.userName ?? ''),
    gender: Number(m.gender) || 0,
    userColor: safeColor(m.userColor),
  };
}

function avatar(u) {
  const a = el('span', 'avatar', [...u.userName.trim()][0]?.toUpperCase() ?? '?');
  a.style.backgroundColor = safeColor(u.userColor);
  a.setAttribute('aria-hidden', 'true');
  return a;
}

function genderMark(g) {
  const info = GENDERS[g];
  const s = el('span', 'gender g' + (info ? g : 0), info ? info.mark : '');
  if (info) s.title = info.word;
  s.setAttribute('aria-hidden', 'true');
  return s;
}

function hhmm(d = new Date()) {
  return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
}

// A name a person can click (mention), double-click (private mode) or reach by keyboard.
function nameButton(u) {
  const b = el('button', 'name', u.userName);
  b.type = 'button';
  b.style.color = safeColor(u.userColor);
  b.dataset.userId = String(u.userId);
  b.title = 'Click to mention, double-click for a private chat';
  return b;
}

// ---- login ----

function setupLogin() {
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

function readLogin() {
  const checked = ui.swatches.querySelector('input:checked');
  return {
    name: ui.name.value.trim(),
    color: checked ? checked.value : PALETTE[3][0],
    gender: Number(ui.gender.value) || 0,
  };
}

function updatePreview() {
  const l = readLogin();
  const u = { userName: l.name || 'Your name', userColor: l.color, gender: l.gender };
  ui.previewAvatar.textContent = [...u.userName][0].toUpperCase();
  ui.previewAvatar.style.backgroundColor = safeColor(l.color);
  ui.previewName.textContent = u.userName + (GENDERS[l.gender] ? ' ' + GENDERS[l.gender].mark : '');
  ui.previewName.style.color = safeColor(l.color);
}

function start(login) {
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

function leave() {
  state.wanted = false;
  clearTimeout(state.retryTimer);
  clearInterval(state.countdown);
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close(1000, 'bye');
  clearTimeout(state.watchdog);
  state.me = null;
  state.users.clear();
  resetRooms();
  renderUsers();
  setPrivate(null);
  ui.banner.hidden = true;
  ui.chatView.hidden = true;
  ui.loginView.hidden = false;
  ui.name.focus();
}

// ---- connection ----

function connect() {
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

function dropped(ev) {
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

function showCountdown() {
  const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
  setStatus('offline', 'Offline');
  ui.bannerText.textContent = `Connection lost. Reconnecting in ${s} s…`;
  ui.banner.hidden = false;
}

// The heartbeat proves the server is there; if Pings stop (a dead network path closes
// nothing), give up on the socket once several are overdue and reconnect.
function armWatchdog() {
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

function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  ui.statusText.textContent = text;
  ui.send.disabled = kind !== 'online';
}

function sendJSON(obj) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
  state.ws.send(JSON.stringify(obj));
  return true;
}

function receive(data) {
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

function authorized(m) {
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

function connected(u) {
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

function gone(u, words, kind) {
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

// ---- the log ----

function nearBottom() {
  return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
}

// ---- rooms ----

// room returns the room id, creating its record if asked; the lobby's members are the
// online users (everyone is in it).
function room(id, create = true) {
  let r = state.rooms.get(id);
  if (!r && create) {
    r = { id, count: 0, unread: 0, items: [], members: id === LOBBY ? state.users : new Map(), more: true, loading: false };
    state.rooms.set(id, r);
  }
  return r;
}

function currentRoom() {
  return room(state.current);
}

function stream(id) {
  let s = state.streams.get(id);
  if (!s) {
    s = new Stream();
    state.streams.set(id, s);
  }
  return s;
}

function switchRoom(id) {
  const r = room(id, false);
  if (!r) return;
  state.current = id;
  r.unread = 0;
  ui.log.replaceChildren(...r.items);
  ui.log.setAttribute('aria-label', `Messages in ${roomLabel(id)}`);
  ui.roomTitle.textContent = roomLabel(id);
  state.stick = true;
  pinLog();
  renderRooms();
  renderUsers();
  updatePlaceholder();
  closeSidebar();
}

function roomLabel(id) {
  return id === LOBBY ? 'lobby' : '#' + id;
}

// The log follows new lines while the reader is at the bottom, and stays put while
// they scroll back to read; a resize (a phone keyboard, a rotation) keeps that choice.
// Each room keeps its own lines; only the current room's are in the page's log.
function append(li, r = currentRoom()) {
  r.items.push(li);
  if (r.id !== state.current) {
    trim(r);
    return;
  }
  ui.log.append(li);
  if (state.stick) {
    trim(r);
    pinLog();
  } else {
    state.logSize = logSize();
  }
  renderOlder();
}

// trim drops a room's oldest lines beyond MAX_LOG; History brings them back on demand.
function trim(r) {
  while (r.items.length > MAX_LOG) {
    const old = r.items.shift();
    old.remove();
    if (old.dataset.key) state.shown.delete(old.dataset.key);
    r.more = true;
  }
}

function logSize() {
  return `${ui.log.clientWidth}x${ui.log.clientHeight}/${ui.log.scrollHeight}`;
}

function pinLog() {
  ui.log.scrollTop = ui.log.scrollHeight;
  state.logSize = logSize();
}

function notice(kind, words, u, r) {
  const li = el('li', 'notice ' + kind);
  li.dataset.kind = 'notice';
  li.dataset.notice = kind;
  li.append(el('time', 'time', hhmm()));
  const body = el('span', 'notice-body');
  if (u) {
    body.append(nameButton(u), ' ' + words);
  } else {
    body.textContent = words;
  }
  li.append(body);
  append(li, r);
}

// message shows a chat line once: a resend, a replay overlap or the echo of a line
// this page sent (matched by clientMsgId) never makes a second one.
function message(m, isPrivate) {
  const seq = Number(m.seq) || 0;
  const sid = typeof m.roomId === 'string' && m.roomId ? m.roomId : (isPrivate ? '' : LOBBY);
  // A late line of a room this page has left is neither tracked nor acknowledged.
  if (!isPrivate && !state.rooms.has(sid)) return;
  if (seq && sid) {
    const s = stream(sid);
    const dup = s.has(seq);
    s.add(seq);
    scheduleAck();
    if (dup) return;
  }
  const key = seq && sid ? `${sid} ${seq}` : '';
  const cid = typeof m.clientMsgId === 'string' ? m.clientMsgId : '';
  const mineLi = cid && (state.pending.get(cid)?.li ?? state.confirmed.get(cid));
  if (mineLi) {
    confirm(cid, key, mineLi);
    const body = mineLi.querySelector('.msg-text');
    body.replaceChildren();
    renderText(body, String(m.text ?? ''));
    state.confirmed.delete(cid);
    return;
  }
  if (key && state.shown.has(key)) return;

  const text = String(m.text ?? '');
  const me = state.me;
  const from = userOf(m);
  const outgoing = isPrivate && !!me && from.userId === me.userId;
  if (outgoing && text === NOT_DELIVERED) {
    state.undeliveredAt = Date.now();
    failPrivate(Number(m.toUserId) || 0);
    return;
  }
  const r = isPrivate ? currentRoom() : room(sid, false);
  if (!r) return; // a room this page has left
  const { li, mention, mine } = buildMessage(m, isPrivate, r.items[r.items.length - 1]);
  if (key) {
    li.dataset.key = key;
    li.dataset.seq = String(seq);
    state.shown.set(key, li);
  }
  append(li, r);
  if (!isPrivate && !mine && r.id !== state.current) {
    r.unread++;
    renderRooms();
  }
  if ((isPrivate && !outgoing) || (mention && !mine)) alertMe(isPrivate ? `Private message from ${from.userName}` : `${from.userName} mentioned you`);
}

// buildMessage makes a chat line's <li>; prev is the line before it, for grouping.
function buildMessage(m, isPrivate, prev) {
  const from = userOf(m);
  const me = state.me;
  const toId = Number(m.toUserId) || 0;
  const outgoing = isPrivate && !!me && from.userId === me.userId;
  const text = String(m.text ?? '');
  const mine = !!me && from.userId === me.userId;
  const mention = !isPrivate && !!me && mentions(text, me.userName);
  let peer = null;
  if (isPrivate) {
    peer = outgoing ? state.users.get(toId) ?? { userId: toId, userName: `user #${toId}` } : from;
  }
  const dir = isPrivate ? (outgoing ? 'out' : 'in') : (mine ? 'out' : 'in');
  const at = Number(m.ts) > 0 ? new Date(Number(m.ts)) : new Date();

  const li = el('li', 'msg');
  li.dataset.kind = isPrivate ? 'private' : 'public';
  li.dataset.dir = dir;
  li.dataset.userId = String(from.userId);
  if (isPrivate) li.classList.add('private');
  if (mention) li.classList.add('mention');
  if (mine) li.classList.add('mine');

  // Lines in a row from one sender, of one kind and to one peer, share one header.
  const group = `${li.dataset.kind}|${from.userId}|${peer ? peer.userId : 0}|${dir}`;
  li.dataset.group = group;
  li.dataset.at = String(at.getTime());
  if (prev && prev.dataset.group === group && Math.abs(at.getTime() - Number(prev.dataset.at)) < GROUP_MS) {
    li.classList.add('cont');
  }

  li.append(avatar(from));
  const main = el('div', 'msg-main');
  const head = el('div', 'msg-head');
  head.append(nameButton(from), genderMark(from.gender));
  if (isPrivate) {
    const badge = el('span', 'badge private-badge');
    badge.dataset.dir = dir;
    const words = outgoing ? `private to ${peer.userName}` : `private from ${from.userName}`;
    badge.append(icon('lock'), el('span', 'badge-text', words));
    badge.title = outgoing ? `Private message to ${peer.userName}` : `Private message from ${from.userName}`;
    head.append(badge);
  }
  if (mention) head.append(el('span', 'badge mention-badge', 'mentions you'));
  head.append(el('time', 'time', hhmm(at)));
  const status = el('span', 'sent-mark');
  status.setAttribute('aria-hidden', 'true');
  head.append(status);
  const body = el('div', 'msg-text');
  renderText(body, text);
  main.append(head, body);
  li.append(main);
  return { li, mention, mine };
}

// confirm marks this page's line cid as stored by the server (seq in key).
function confirm(cid, key, li) {
  state.pending.delete(cid);
  li.classList.remove('pending');
  li.querySelector('.sent-mark').title = '';
  if (key && !li.dataset.key) {
    li.dataset.key = key;
    li.dataset.seq = key.split(' ')[1];
    state.shown.set(key, li);
  }
}

// sent handles Sent: the line is durable; its echo (same clientMsgId) may follow.
function sent(m) {
  const cid = String(m.clientMsgId ?? '');
  const p = state.pending.get(cid);
  if (!p) return;
  confirm(cid, m.seq ? `${m.roomId || LOBBY} ${Number(m.seq)}` : '', p.li);
  state.confirmed.set(cid, p.li);
  if (state.confirmed.size > 200) state.confirmed.delete(state.confirmed.keys().next().value);
}

// failOldestPending gives up on the oldest unconfirmed line: the server refused it.
function failOldestPending() {
  const first = state.pending.entries().next().value;
  if (!first) return;
  const [cid, p] = first;
  state.pending.delete(cid);
  p.li.classList.remove('pending');
  p.li.classList.add('failed');
  p.li.querySelector('.sent-mark').title = 'Not sent';
}

// failPrivate gives up on pending private lines to toId: the server said no one is there.
function failPrivate(toId) {
  const peer = state.users.get(toId);
  notice('error', `Not delivered: ${peer ? peer.userName : 'that user'} is not online.`);
  for (const [cid, p] of state.pending) {
    if (p.frame.toUserId === toId) {
      state.pending.delete(cid);
      p.li.classList.remove('pending');
      p.li.classList.add('failed');
      p.li.querySelector('.sent-mark').title = 'Not delivered';
    }
  }
}

function serverError(m) {
  const code = String(m.code ?? '');
  // The not-delivered echo already told the user; the Error after it adds nothing.
  if (code === 'recipient_offline' && Date.now() - state.undeliveredAt < 2000) return;
  // After a failed resume the old inbox in since= is no longer ours; the server says
  // so, but it is this page's bookkeeping, not the user's doing.
  if (code === 'bad_room_id' && String(m.message ?? '').startsWith('since ')) return;
  // Not the user's fault and nothing to do about it: said once, quietly.
  if (code === 'resume_failed') {
    notice('info', 'Your previous session had expired, so you are back as a new user.');
    return;
  }
  // A line the server refused for good is not retried forever.
  if (code === 'text_too_long' || code === 'empty_text' || code === 'bad_client_msg_id') failOldestPending();
  const words = ERROR_WORDS[code] ?? 'The server reported a problem.';
  const detail = typeof m.message === 'string' && m.message ? ` (${m.message})` : '';
  notice('error', words + detail);
  showToast(words);
}

function showToast(words) {
  ui.toast.textContent = words;
  ui.toast.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 5000);
}

// ---- room list ----

function resetRooms() {
  state.rooms.clear();
  state.streams.clear();
  state.shown.clear();
  state.pending.clear();
  state.confirmed.clear();
  state.directory = [];
  state.token = '';
  state.current = LOBBY;
  room(LOBBY);
  ui.roomTitle.textContent = roomLabel(LOBBY);
  renderRooms();
}

function joinRoom(id) {
  id = id.trim().replace(/^#/, '');
  if (!ROOM_ID.test(id)) {
    showToast(ERROR_WORDS.bad_room_id);
    return false;
  }
  if (state.rooms.has(id)) {
    switchRoom(id);
    return true;
  }
  state.joining = id;
  if (!sendJSON({ action: 'JoinRoom', roomId: id })) showToast('You are offline; join the room when you are back online.');
  return true;
}

function roomJoined(m) {
  const id = String(m.roomId ?? '');
  if (!ROOM_ID.test(id)) return;
  const r = room(id);
  r.count = Number(m.count) || 0;
  r.members.clear();
  for (const raw of Array.isArray(m.users) ? m.users : []) {
    if (raw && typeof raw === 'object') {
      const u = userOf(raw);
      r.members.set(u.userId, u);
    }
  }
  if (state.joining === id) {
    state.joining = '';
    notice('self', `You joined ${roomLabel(id)}.`, undefined, r);
    switchRoom(id);
  } else {
    renderRooms();
    if (id === state.current) renderUsers();
  }
  sendJSON({ action: 'Rooms' });
}

function roomLeft(id) {
  const r = state.rooms.get(id);
  if (!r || id === LOBBY) return;
  for (const li of r.items) if (li.dataset.key) state.shown.delete(li.dataset.key);
  state.rooms.delete(id);
  state.streams.delete(id);
  if (state.current === id) switchRoom(LOBBY);
  else renderRooms();
  sendJSON({ action: 'Rooms' });
}

function roomsList(m) {
  state.directory = (Array.isArray(m.rooms) ? m.rooms : [])
    .filter((x) => x && ROOM_ID.test(String(x.roomId)))
    .map((x) => ({ roomId: String(x.roomId), count: Number(x.count) || 0 }));
  for (const d of state.directory) {
    const r = state.rooms.get(d.roomId);
    if (r && d.roomId !== LOBBY) r.count = d.count;
  }
  renderRooms();
}

// presence applies joins and leaves in rooms other than the lobby (whose presence is
// the seed's Connected/Disconnected/ConnectionLost).
function presence(m) {
  for (const p of Array.isArray(m.rooms) ? m.rooms : []) {
    const r = p && state.rooms.get(String(p.roomId));
    if (!r || r.id === LOBBY) continue;
    r.count = Number(p.count) || 0;
    for (const raw of Array.isArray(p.joined) ? p.joined : []) {
      if (!raw || typeof raw !== 'object') continue;
      const u = userOf(raw);
      r.members.set(u.userId, u);
      if (!state.me || u.userId !== state.me.userId) notice('join', `joined ${roomLabel(r.id)}`, u, r);
    }
    for (const [list, words, kind] of [[p.left, 'left', 'left'], [p.lost, 'lost the connection', 'lost']]) {
      for (const id of Array.isArray(list) ? list : []) {
        const u = r.members.get(Number(id));
        if (!u) continue;
        r.members.delete(u.userId);
        notice(kind, kind === 'left' ? `left ${roomLabel(r.id)}` : words, u, r);
      }
    }
    if (r.id === state.current) renderUsers();
  }
  renderRooms();
}

function renderRooms() {
  const items = [...state.rooms.values()].map((r) => {
    const li = el('li', 'room');
    li.dataset.room = r.id;
    if (r.id === state.current) li.classList.add('is-current');
    const b = el('button', 'room-btn');
    b.type = 'button';
    b.dataset.room = r.id;
    if (r.id === state.current) b.setAttribute('aria-current', 'true');
    const count = r.id === LOBBY ? state.users.size : r.count;
    b.append(el('span', 'room-name', roomLabel(r.id)), el('span', 'room-count', state.me ? String(count) : ''));
    b.title = `${count} online`;
    if (r.unread) {
      const u = el('span', 'unread', String(r.unread));
      u.title = `${r.unread} unread`;
      b.append(u);
    }
    b.setAttribute('aria-label', `${roomLabel(r.id)}, ${count} online` + (r.unread ? `, ${r.unread} unread` : ''));
    li.append(b);
    if (r.id !== LOBBY) {
      const x = el('button', 'icon-btn leave-room');
      x.type = 'button';
      x.dataset.leave = r.id;
      x.title = `Leave ${roomLabel(r.id)}`;
      x.setAttribute('aria-label', `Leave ${roomLabel(r.id)}`);
      x.append(icon('x'));
      li.append(x);
    }
    return li;
  });
  // Only a changed list is replaced: a button must not vanish under a finger (or a click)
  // because a count elsewhere was refreshed with the same value.
  const sig = items.map((li) => li.outerHTML).join('');
  if (sig !== state.roomsSig) {
    state.roomsSig = sig;
    ui.rooms.replaceChildren(...items);
  }
  const others = state.directory.filter((d) => !state.rooms.has(d.roomId)).slice(0, 20).map((d) => {
    const li = el('li', 'room other');
    const b = el('button', 'room-btn');
    b.type = 'button';
    b.dataset.join = d.roomId;
    b.append(el('span', 'room-name', roomLabel(d.roomId)), el('span', 'room-count', String(d.count)));
    b.setAttribute('aria-label', `Join ${roomLabel(d.roomId)}, ${d.count} online`);
    li.append(b);
    return li;
  });
  ui.roomsOther.replaceChildren(...others);
  ui.roomsOtherHead.hidden = others.length === 0;
  const unread = [...state.rooms.values()].reduce((n, r) => n + r.unread, 0);
  ui.usersToggle.classList.toggle('has-unread', unread > 0);
  renderOlder();
}

function updatePlaceholder() {
  const u = state.privateTo;
  ui.message.placeholder = u ? `Private message to ${u.userName}…` : `Message ${roomLabel(state.current)}…`;
}

// ---- users ----

function renderMe() {
  ui.me.replaceChildren();
  const u = state.me ?? { userName: state.login?.name || '…', userColor: state.login?.color, gender: state.login?.gender ?? 0 };
  ui.me.append(avatar(u), el('span', 'me-name', u.userName));
}

function renderUsers() {
  const list = [...currentRoom().members.values()];
  const me = state.me;
  // Me first, then everyone else in join order, as Authorized lists them.
  list.sort((a, b) => (me && b.userId === me.userId) - (me && a.userId === me.userId));
  const items = list.map((u) => {
    const li = el('li', 'user');
    li.dataset.userId = String(u.userId);
    li.dataset.name = u.userName;
    const isMe = !!me && u.userId === me.userId;
    if (isMe) li.classList.add('is-me');
    if (state.privateTo?.online && state.privateTo.userId === u.userId) li.classList.add('is-private');
    const who = el('div', 'user-who');
    who.append(nameButton(u), genderMark(u.gender));
    if (isMe) who.append(el('span', 'you', 'you'));
    li.append(avatar(u), who);
    if (!isMe) {
      const pm = el('button', 'icon-btn pm-btn');
      pm.type = 'button';
      pm.dataset.pm = String(u.userId);
      pm.title = `Private message to ${u.userName}`;
      pm.setAttribute('aria-label', `Private message to ${u.userName}`);
      pm.append(icon('mail'));
      li.append(pm);
    }
    return li;
  });
  ui.users.replaceChildren(...items);
  ui.usersEmpty.hidden = list.length > 0;
  const n = list.length ? String(list.length) : '';
  ui.usersCount.textContent = n;
  ui.usersToggleCount.textContent = n;
  ui.usersToggle.querySelector('.sr-only').textContent = `Show users (${list.length} online)`;
}

function findUser(id) {
  return state.users.get(Number(id));
}

// ---- private mode ----

// setPrivate enters private mode with u (online unless told otherwise) or leaves it.
function setPrivate(u, online = true) {
  state.privateTo = u ? { userId: u.userId, userName: u.userName, online } : null;
  ui.privateBar.hidden = !u;
  ui.privateBar.dataset.online = String(!!u && online);
  ui.privateOffline.hidden = !u || online;
  ui.composer.classList.toggle('is-private', !!u);
  ui.privateName.textContent = u ? u.userName : '';
  updatePlaceholder();
  for (const li of ui.users.children) {
    li.classList.toggle('is-private', !!u && online && li.dataset.userId === String(u.userId));
  }
}

function openPrivate(id) {
  const u = findUser(id);
  if (!u || (state.me && u.userId === state.me.userId)) return;
  setPrivate(u);
  closeSidebar();
  ui.message.focus();
}

// ---- composing ----

function insertMention(name) {
  const t = ui.message;
  const token = `{${name}} `;
  const start = t.selectionStart ?? t.value.length;
  const end = t.selectionEnd ?? t.value.length;
  t.setRangeText(token, start, end, 'end');
  t.focus();
  autosize();
}

function sendMessage() {
  const text = ui.message.value;
  if (!text.trim()) return;
  if (state.privateTo && !state.privateTo.online) {
    showToast(`${state.privateTo.userName} is offline; the message was not sent.`);
    return;
  }
  if (!state.modern) {
    if (!sendJSON({ text, toUserId: state.privateTo ? state.privateTo.userId : 0 })) {
      showToast('You are offline; the message was not sent. It will be here when you reconnect.');
      return;
    }
    ui.message.value = '';
    autosize();
    return;
  }
  const cid = newClientMsgId();
  const toUserId = state.privateTo ? state.privateTo.userId : 0;
  const frame = { text, toUserId, clientMsgId: cid };
  if (!toUserId && state.current !== LOBBY) frame.roomId = state.current;
  // Shown at once with a pending mark; it goes (again) until the server says Sent,
  // across reconnections, so a line typed while offline is not lost either.
  const me = state.me ?? { userId: -1, userName: state.login.name, userColor: state.login.color, gender: state.login.gender };
  const r = currentRoom();
  const { li } = buildMessage({ ...me, text: escapeHTML(text), toUserId }, !!toUserId, r.items[r.items.length - 1]);
  li.classList.add('pending', 'mine');
  li.dataset.cid = cid;
  li.querySelector('.sent-mark').title = 'Sending…';
  const p = { frame, li, sentAt: 0 };
  state.pending.set(cid, p);
  state.stick = true;
  append(li, r);
  transmit(p);
  ui.message.value = '';
  autosize();
}

function transmit(p) {
  if (sendJSON(p.frame)) p.sentAt = Date.now();
}

function retryPending() {
  const now = Date.now();
  for (const p of state.pending.values()) if (now - p.sentAt >= RETRY_MS) transmit(p);
}

// ---- acknowledgements and history ----

// scheduleAck acknowledges every stream's contiguous position shortly, in one Ack
// per stream, so a burst of messages costs one Ack, not one each.
function scheduleAck() {
  if (state.ackTimer) return;
  state.ackTimer = setTimeout(() => {
    state.ackTimer = 0;
    for (const [id, s] of state.streams) {
      if (s.acked !== null && s.acked > s.reported && sendJSON({ action: 'Ack', roomId: id, seq: s.acked })) s.reported = s.acked;
    }
  }, 50);
}

// loadOlder asks for the page of the current room's history before its oldest line.
function loadOlder() {
  const r = currentRoom();
  const before = oldestSeq(r);
  if (r.loading || !hasOlder(r) || !state.me || !state.modern) return;
  r.loading = true;
  sendJSON({ action: 'History', roomId: r.id, before, limit: HISTORY_PAGE });
}

function oldestSeq(r) {
  for (const li of r.items) {
    if (li.dataset.seq && li.dataset.key?.startsWith(r.id + ' ')) return Number(li.dataset.seq);
  }
  return 0;
}

// hasOlder: the room's history goes back further than its oldest line shown.
function hasOlder(r) {
  return r.more && oldestSeq(r) > 1;
}

function renderOlder() {
  ui.older.hidden = !(state.modern && state.me && hasOlder(currentRoom()));
}

// history puts an older page above what the room shows, keeping the reader's place.
function history(m) {
  const r = room(String(m.roomId ?? ''), false);
  if (!r) return;
  r.loading = false;
  r.more = m.more === true;
  renderOlder();
  const msgs = (Array.isArray(m.messages) ? m.messages : []).filter((x) => x && typeof x === 'object' && Number(x.seq) > 0);
  msgs.sort((a, b) => Number(a.seq) - Number(b.seq));
  const add = [];
  for (const x of msgs) {
    const key = `${r.id} ${Number(x.seq)}`;
    if (state.shown.has(key)) continue;
    const { li } = buildMessage(x, Number(x.toUserId) > 0, add[add.length - 1]);
    li.dataset.key = key;
    li.dataset.seq = String(Number(x.seq));
    li.classList.add('old');
    state.shown.set(key, li);
    add.push(li);
  }
  if (!add.length) return;
  r.items.unshift(...add);
  if (r.id !== state.current) return;
  const fromBottom = ui.log.scrollHeight - ui.log.scrollTop;
  ui.log.prepend(...add);
  ui.log.scrollTop = ui.log.scrollHeight - fromBottom;
  state.logSize = logSize();
  renderOlder();
}

function autosize() {
  const t = ui.message;
  t.style.height = 'auto';
  t.style.height = Math.min(t.scrollHeight, 160) + 'px';
}

// ---- alerts ----

let audio = null;

// Browsers only allow sound after a user gesture; the Connect click is one.
function unlockAudio() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    audio?.resume?.();
  } catch { audio = null; }
}

function beep() {
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

function alertMe(why) {
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

function stopBlink() {
  clearInterval(state.blink);
  state.blink = 0;
  state.unread = 0;
  document.title = baseTitle;
}

function renderMute() {
  ui.mute.setAttribute('aria-pressed', String(state.muted));
  ui.mute.title = state.muted ? 'Sound off' : 'Sound on';
  ui.muteIcon.setAttribute('href', state.muted ? '#i-bell-off' : '#i-bell');
}

// ---- sidebar on small screens ----

function openSidebar() {
  ui.sidebar.classList.add('open');
  ui.backdrop.hidden = false;
  ui.usersToggle.setAttribute('aria-expanded', 'true');
}

function closeSidebar() {
  ui.sidebar.classList.remove('open');
  ui.backdrop.hidden = true;
  ui.usersToggle.setAttribute('aria-expanded', 'false');
}

// ---- wiring ----

function onNameClick(e) {
  const pm = e.target.closest('[data-pm]');
  if (pm) {
    openPrivate(pm.dataset.pm);
    return;
  }
  const b = e.target.closest('button.name');
  if (!b) return;
  const u = findUser(b.dataset.userId);
  const name = u ? u.userName : b.textContent;
  clearTimeout(state.clickTimer);
  if (e.detail >= 2) return; // the dblclick handler takes it from here
  if (e.detail === 0) { // keyboard: no double-click will follow
    insertMention(name);
    return;
  }
  state.clickTimer = setTimeout(() => insertMention(name), CLICK_DELAY);
}

function onNameDblClick(e) {
  const b = e.target.closest('button.name');
  if (!b) return;
  clearTimeout(state.clickTimer);
  openPrivate(b.dataset.userId);
}

function wire() {
  for (const area of [ui.log, ui.users]) {
    area.addEventListener('click', onNameClick);
    area.addEventListener('dblclick', onNameDblClick);
  }
  ui.composer.addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); });
  ui.message.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    } else if (e.key === 'Escape' && state.privateTo) {
      setPrivate(null);
    }
  });
  // Some input paths deliver Enter's character separately from its keydown (synthetic
  // and some virtual keyboards); the line break must not land in the emptied box.
  ui.message.addEventListener('keypress', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) e.preventDefault();
  });
  ui.message.addEventListener('input', autosize);
  // A resize can move scrollTop and fire scroll before the ResizeObserver runs; only a
  // scroll with the log's size unchanged is the reader's own.
  ui.log.addEventListener('scroll', () => {
    if (logSize() !== state.logSize && state.stick) {
      pinLog();
      return;
    }
    state.logSize = logSize();
    state.stick = nearBottom();
    if (!state.stick && ui.log.scrollTop < 60) loadOlder();
  });
  new ResizeObserver(() => { if (state.stick) pinLog(); }).observe(ui.log);
  ui.older.addEventListener('click', loadOlder);
  ui.roomForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (joinRoom(ui.roomInput.value)) ui.roomInput.value = '';
  });
  ui.sidebar.addEventListener('click', (e) => {
    const leaveBtn = e.target.closest('[data-leave]');
    if (leaveBtn) { sendJSON({ action: 'LeaveRoom', roomId: leaveBtn.dataset.leave }); return; }
    const join = e.target.closest('[data-join]');
    if (join) { joinRoom(join.dataset.join); return; }
    const b = e.target.closest('[data-room]');
    if (b && b.tagName === 'BUTTON') switchRoom(b.dataset.room);
  });
  ui.privateLeave.addEventListener('click', () => { setPrivate(null); ui.message.focus(); });
  ui.reconnectNow.addEventListener('click', () => { if (state.wanted && !state.ws) connect(); });
  ui.logout.addEventListener('click', leave);
  ui.mute.addEventListener('click', () => {
    state.muted = !state.muted;
    save(STORE_MUTE, state.muted);
    renderMute();
    if (!state.muted) { unlockAudio(); beep(); }
  });
  ui.usersToggle.addEventListener('click', () => (ui.sidebar.classList.contains('open') ? closeSidebar() : openSidebar()));
  ui.sidebarClose.addEventListener('click', closeSidebar);
  ui.backdrop.addEventListener('click', closeSidebar);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) stopBlink(); });
  // Coming back online or to the tab is a good moment to skip the rest of a backoff.
  const retrySoon = () => { if (state.wanted && !state.ws) connect(); };
  window.addEventListener('online', retrySoon);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) retrySoon(); });
}

setupLogin();
wire();
