// The room list: join, leave, switch, online and unread counts.
import { updatePlaceholder } from './composer.js';
import { el, icon } from './dom.js';
import { sendJSON } from './link.js';
import { notice, pinLog, renderOlder, showToast } from './log.js';
import { noteRead } from './readmarks.js';
import { room, roomLabel } from './rooms.js';
import { closeSidebar } from './sidebar.js';
import { ERROR_WORDS, LOBBY, ROOM_ID, state, ui } from './state.js';
import { userOf } from './text.js';
import { renderTyping } from './typing.js';
import { renderUsers, setPrivate } from './users.js';
import { emit, on } from './events.js';

// ---- room list ----

export function resetRooms() {
  state.rooms.clear();
  state.streams.clear();
  state.shown.clear();
  state.pending.clear();
  state.confirmed.clear();
  state.directory = [];
  state.token = '';
  state.current = LOBBY;
  room(LOBBY);
  emit('dialogs:reset');
  ui.roomTitle.textContent = roomLabel(LOBBY);
  renderRooms();
}

export function joinRoom(id) {
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

export function leaveRoom(id) {
  sendJSON({ action: 'LeaveRoom', roomId: id });
}

export function roomJoined(m) {
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

export function roomLeft(id) {
  const r = state.rooms.get(id);
  if (!r || id === LOBBY) return;
  for (const li of r.items) if (li.dataset.key) state.shown.delete(li.dataset.key);
  state.rooms.delete(id);
  state.streams.delete(id);
  if (state.current === id) switchRoom(LOBBY);
  else renderRooms();
  sendJSON({ action: 'Rooms' });
}

export function roomsList(m) {
  state.directory = (Array.isArray(m.rooms) ? m.rooms : [])
    .filter((x) => x && ROOM_ID.test(String(x.roomId)))
    .map((x) => ({ roomId: String(x.roomId), count: Number(x.count) || 0, unread: x.unread }));
  for (const d of state.directory) {
    const r = state.rooms.get(d.roomId);
    if (r && d.roomId !== LOBBY) r.count = d.count;
    // An account's unread lines, as the server counts them from its read position.
    if (r && typeof d.unread === 'number' && d.roomId !== state.current) r.unread = d.unread;
  }
  renderRooms();
}

// presence applies joins and leaves in rooms other than the lobby (whose presence is
// the seed's Connected/Disconnected/ConnectionLost).
export function presence(m) {
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

export function switchRoom(id) {
  const r = room(id, false);
  if (!r) return;
  state.current = id;
  if (!id.startsWith('@') && state.privateTo) setPrivate(null); // a room is public
  r.unread = 0;
  noteRead();
  ui.log.replaceChildren(...r.items);
  ui.log.setAttribute('aria-label', `Messages in ${roomLabel(id)}`);
  ui.roomTitle.textContent = roomLabel(id);
  state.stick = true;
  pinLog();
  renderRooms();
  renderUsers();
  updatePlaceholder();
  renderTyping();
  closeSidebar();
}

on('rooms:render', renderRooms); // readmarks.js, below this module, asks for it

export function renderRooms() {
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
  emit('unread:mark'); // the side panel's button, for rooms and conversations (dialogs.js)
  renderOlder();
}
