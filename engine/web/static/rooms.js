// Each room's record: its lines, members and how far back its history goes. No DOM
// built here; every view reads rooms through these.
import { LOBBY, state } from './state.js';
import { dialog, peerName } from './threads.js';

// ---- rooms ----

// room returns the room id, creating its record if asked; the lobby's members are the
// online users (everyone is in it).
export function room(id, create = true) {
  if (id.startsWith('@')) return dialog(id, create); // a private conversation
  let r = state.rooms.get(id);
  if (!r && create) {
    r = { id, count: 0, unread: 0, items: [], members: id === LOBBY ? state.users : new Map(), more: true, loading: false };
    state.rooms.set(id, r);
  }
  return r;
}

export function currentRoom() {
  return room(state.current);
}

export function roomLabel(id) {
  if (id.startsWith('@')) return peerName(id);
  return id === LOBBY ? 'lobby' : '#' + id;
}

export function oldestSeq(r) {
  for (const li of r.items) {
    if (li.dataset.seq && li.dataset.key?.startsWith(r.id + ' ')) return Number(li.dataset.seq);
  }
  return 0;
}

// hasOlder: the room's history goes back further than its oldest line shown.
export function hasOlder(r) {
  return r.more && oldestSeq(r) > 1;
}
