// The conversations' model: one thread per pair of users (roomId "@lo-hi"), kept
// apart from their list (dialogs.js) so that the log and the rooms can file private
// lines without importing the page's panels.
import { state } from './state.js';
import { userOf } from './text.js';

export const threads = new Map(); // dialog id -> the room-shaped record of the conversation

// dialogId is protocol.DialogID: both userIds in decimal, the smaller first.
export function dialogId(a, b) {
  return a <= b ? `@${a}-${b}` : `@${b}-${a}`;
}

// isDialog tells a dialog id from a room (room ids cannot hold "@") and an old inbox.
export function isDialog(id) {
  return /^@\d+-\d+$/.test(id);
}

// dialog returns the thread id, creating it if asked; peer (the other person) names it.
export function dialog(id, create = true, peer) {
  let d = threads.get(id);
  if (!d && create && isDialog(id)) {
    d = { id, count: 0, unread: 0, items: [], members: state.users, more: true, loading: false, asked: false, got: false, lastAt: 0, lastSeq: 0, peer: null };
    threads.set(id, d);
  }
  if (d && peer && peer.userName) d.peer = peer;
  return d;
}

export function peerName(id) {
  const d = threads.get(id);
  return d?.peer ? d.peer.userName : 'conversation';
}

// peerOf is what this page knows of user id from a conversation with them (they may be offline).
export function peerOf(id) {
  for (const d of threads.values()) if (d.peer && d.peer.userId === id) return d.peer;
  return null;
}

// threadOf is the conversation a private line belongs to (whatever stream the server
// filed it in): the one of this user and the other person.
export function threadOf(m) {
  const me = state.me;
  if (!me) return null;
  const from = userOf(m);
  const outgoing = from.userId === me.userId;
  const peerId = outgoing ? Number(m.toUserId) || 0 : from.userId;
  const peer = outgoing ? state.users.get(peerId) ?? peerOf(peerId) : from;
  const d = dialog(dialogId(me.userId, peerId), true, peer);
  if (!d.peer) d.peer = { userId: peerId, userName: `user #${peerId}` };
  return d;
}
