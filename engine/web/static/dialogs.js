// Private conversations: one thread per pair of users (roomId "@lo-hi"), listed in the
// side panel as "Conversations" with unread badges. A thread is shown in the log like a
// room (rooms.js hands "@" ids here), and its composer sends to the other person.
import { el } from './dom.js';
import { sendJSON } from './link.js';
import { noteRead } from './readmarks.js';
import { switchRoom } from './roomlist.js';
import { room } from './rooms.js';
import { stream } from './ack.js';
import { HISTORY_PAGE, LOBBY, state, ui } from './state.js';
import { userOf } from './text.js';
import { setPrivate } from './users.js';
import { on } from './events.js';
import { dialog, dialogId, isDialog, threadOf, threads } from './threads.js';

// The modules below this one in the import order reach it through events.js.
on('dialogs:render', renderDialogs);
on('dialogs:reset', resetDialogs);
on('dialogs:open', openDialog);
on('unread:mark', markUnread);

let lastRoom = LOBBY; // where closing a conversation goes back to
let sig = '';
let served = false; // the server answered Dialogs: it keeps conversations and their History
const listEl = document.getElementById('dialogs');
const emptyEl = document.getElementById('dialogs-empty');

export function resetDialogs() {
  threads.clear();
  lastRoom = LOBBY;
  renderDialogs();
}

// dialogLine keeps the list's order and last line up to date after a private line.
export function dialogLine(m) {
  const d = state.me && threadOf(m);
  if (!d) return;
  const at = Number(m.ts) || Date.now();
  if (at >= d.lastAt) d.lastAt = at;
  d.lastSeq = Math.max(d.lastSeq, Number(m.seq) || 0);
  renderDialogs();
}

// dialogsList applies the server's Dialogs: the account's conversations, newest first,
// each with its unread count (-1 for anonymous users: this page counts them itself).
export function dialogsList(m) {
  served = true;
  for (const x of Array.isArray(m.dialogs) ? m.dialogs : []) {
    if (!x || typeof x !== 'object' || !isDialog(String(x.roomId))) continue;
    if (state.me && Number(x.userId) === state.me.userId) continue; // notes to oneself are not opened here
    const theirs = x.last && typeof x.last === 'object' && x.last.userId === x.userId ? x.last : {};
    const d = dialog(String(x.roomId), true, userOf({ ...theirs, userId: x.userId, userName: x.userName }));
    d.lastAt = Math.max(d.lastAt, Number(x.last?.ts) || 0);
    d.lastSeq = Math.max(d.lastSeq, Number(x.lastSeq) || 0);
    if (typeof x.unread === 'number' && x.unread >= 0 && d.id !== state.current) d.unread = x.unread;
  }
  const d = threads.get(state.current);
  if (d) askHistory(d);
  renderDialogs();
}

// openDialog shows the conversation with user u (online or not), starting it if new.
export function openDialog(u) {
  if (!state.me || !u || u.userId === state.me.userId) return;
  const d = dialog(dialogId(state.me.userId, u.userId), true, u);
  if (!isDialog(state.current)) lastRoom = state.current;
  switchRoom(d.id);
  setPrivate(d.peer, state.users.has(u.userId));
  askHistory(d);
  renderDialogs();
  ui.message.focus();
}

// askHistory fetches the newest page of a conversation the first time it is opened,
// from a server that has conversations (it answered Dialogs).
function askHistory(d) {
  if (d.asked || !state.modern || !served) return;
  d.asked = true;
  d.loading = true;
  if (!sendJSON({ action: 'History', roomId: d.id, before: 0, limit: HISTORY_PAGE })) d.asked = d.loading = false;
}

// dialogHistory: lines a conversation's History brought are this page's from then on,
// so they are acknowledged, resumed from, and read when the thread is in view.
export function dialogHistory(m) {
  const id = String(m.roomId ?? '');
  if (!isDialog(id) || !threads.has(id)) return;
  const seqs = (Array.isArray(m.messages) ? m.messages : []).map((x) => Number(x?.seq) || 0).filter((n) => n > 0).sort((a, b) => a - b);
  const s = stream(id);
  for (const n of seqs) s.add(n);
  const d = threads.get(id);
  d.got = true;
  if (seqs.length) d.lastSeq = Math.max(d.lastSeq, seqs[seqs.length - 1]);
  if (id === state.current) noteRead();
}

// closeDialog goes back to the room the reader was in before the conversation.
export function closeDialog() {
  setPrivate(null);
  if (!isDialog(state.current)) return;
  switchRoom(room(lastRoom, false) ? lastRoom : LOBBY);
  renderDialogs();
}

// followPeer: after a reconnect as a new identity the other person may have a new id
// too (anonymous users); the conversation in view follows them by name.
export function followPeer() {
  const d = isDialog(state.current) && threads.get(state.current);
  if (!d || !state.me || !d.peer) return prune();
  const ids = d.id.slice(1).split('-').map(Number);
  const peer = [...state.users.values()].find((u) => u.userName === d.peer.userName && u.userId !== state.me.userId);
  if (ids.includes(state.me.userId) && (!peer || peer.userId === d.peer.userId)) {
    setPrivate(d.peer, !!peer);
    return;
  }
  if (peer) openDialog(peer);
  else setPrivate(d.peer, false);
  prune();
}

// prune drops conversations of an identity this page no longer has (an anonymous
// user back as a new one), but the one in view, which follows its peer by name.
export function prune() {
  const me = state.me?.userId;
  for (const id of threads.keys()) {
    if (id !== state.current && !id.slice(1).split('-').map(Number).includes(me)) threads.delete(id);
  }
  renderDialogs();
}

export function renderDialogs() {
  const list = [...threads.values()].filter((d) => d.peer).sort((a, b) => b.lastAt - a.lastAt);
  const items = list.map((d) => {
    const li = el('li', 'room dialog');
    li.dataset.dialog = d.id;
    const b = el('button', 'room-btn');
    b.type = 'button';
    b.dataset.dialog = d.id;
    if (d.id === state.current) {
      li.classList.add('is-current');
      b.setAttribute('aria-current', 'true');
    }
    const online = state.users.has(d.peer.userId);
    b.append(el('span', 'room-name', d.peer.userName));
    if (online) b.append(el('span', 'dialog-online', '●'));
    if (d.unread > 0) {
      const u = el('span', 'unread', String(d.unread));
      u.title = `${d.unread} unread`;
      b.append(u);
    }
    b.setAttribute('aria-label', d.peer.userName + (online ? ', online' : '') + (d.unread > 0 ? `, ${d.unread} unread` : ''));
    li.append(b);
    return li;
  });
  const now = items.map((li) => li.outerHTML).join('');
  if (now !== sig) {
    sig = now;
    listEl.replaceChildren(...items);
  }
  emptyEl.hidden = items.length > 0;
  markUnread();
}

// markUnread: the side panel's button (a drawer on phones) says something is unread
// in a room or a conversation.
export function markUnread() {
  let unread = 0;
  for (const r of state.rooms.values()) unread += r.unread;
  for (const d of threads.values()) unread += Math.max(0, d.unread);
  ui.usersToggle.classList.toggle('has-unread', unread > 0);
}

export function setupDialogs() {
  listEl.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-dialog]');
    const d = b && threads.get(b.dataset.dialog);
    if (d) openDialog(d.peer);
  });
}

// askDialogs: on every login the list comes from the server (accounts keep theirs).
export function askDialogs() {
  // A History lost with the old connection is asked again (a first page once Dialogs is in).
  for (const d of threads.values()) {
    if (!d.loading) continue;
    d.loading = false;
    if (!d.got) d.asked = false;
  }
  if (state.modern) sendJSON({ action: 'Dialogs' });
}
