// The user list, private mode and composing a message.
import { sendJSON } from './connection.js';
import { avatar, el, genderMark, icon, nameButton } from './dom.js';
import { autosize } from './history.js';
import { append, buildMessage, currentRoom, message, sent, showToast } from './log.js';
import { start } from './login.js';
import { updatePlaceholder } from './roomlist.js';
import { LOBBY, RETRY_MS, state, ui } from './state.js';
import { newClientMsgId } from './sync.js';
import { escapeHTML } from './text.js';
import { closeSidebar } from './wiring.js';

// ---- users ----

export function renderMe() {
  ui.me.replaceChildren();
  const u = state.me ?? { userName: state.login?.name || '…', userColor: state.login?.color, gender: state.login?.gender ?? 0 };
  ui.me.append(avatar(u), el('span', 'me-name', u.userName));
}

export function renderUsers() {
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

export function findUser(id) {
  return state.users.get(Number(id));
}

// ---- private mode ----

// setPrivate enters private mode with u (online unless told otherwise) or leaves it.
export function setPrivate(u, online = true) {
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

export function openPrivate(id) {
  const u = findUser(id);
  if (!u || (state.me && u.userId === state.me.userId)) return;
  setPrivate(u);
  closeSidebar();
  ui.message.focus();
}

// ---- composing ----

export function insertMention(name) {
  const t = ui.message;
  const token = `{${name}} `;
  const start = t.selectionStart ?? t.value.length;
  const end = t.selectionEnd ?? t.value.length;
  t.setRangeText(token, start, end, 'end');
  t.focus();
  autosize();
}

export function sendMessage() {
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

export function transmit(p) {
  if (sendJSON(p.frame)) p.sentAt = Date.now();
}

export function retryPending() {
  const now = Date.now();
  for (const p of state.pending.values()) if (now - p.sentAt >= RETRY_MS) transmit(p);
}
