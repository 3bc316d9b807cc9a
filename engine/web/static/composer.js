// Composing and sending a line: the message box, mentions, pending lines until Sent.
import { saveEdit } from './edit.js';
import { sendJSON } from './link.js';
import { append, buildMessage, showToast } from './log.js';
import { currentRoom, room, roomLabel } from './rooms.js';
import { LOBBY, RETRY_MS, state, ui } from './state.js';
import { takeReply } from './reply.js';
import { newClientMsgId } from './sync.js';
import { escapeHTML } from './text.js';

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
  if (saveEdit(text)) return; // the composer was editing a line (edit.js)
  if (!text.trim()) return;
  // A chatd server keeps a line for a person it can still reach; an older one cannot.
  if (!state.modern && state.privateTo && !state.privateTo.online) {
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
  const toUserId = state.privateTo ? state.privateTo.userId : 0;
  const frame = { text, toUserId };
  if (!toUserId && state.current !== LOBBY) frame.roomId = state.current;
  const quote = takeReply(state.current, !!toUserId); // reply.js
  if (quote) frame.replyTo = quote.seq;
  // A conversation's own line is shown with its roomId: it gets a room line's buttons.
  queueLine(frame, { text: escapeHTML(text), toUserId, replyTo: quote, roomId: toUserId ? state.current : undefined });
  ui.message.value = '';
  autosize();
}

// sendFileLine sends a line carrying an uploaded file (files.js) to room.
export function sendFileLine(file, room) {
  const frame = { text: '', fileId: file.fileId };
  if (room !== LOBBY) frame.roomId = room;
  queueLine(frame, { text: '', caption: '', file, toUserId: 0 }, room);
}

// queueLine shows a line at once with a pending mark; it goes (again) until the
// server says Sent, across reconnections, so a line typed while offline is not lost.
function queueLine(frame, shown, roomId) {
  const cid = newClientMsgId();
  frame.clientMsgId = cid;
  const me = state.me ?? { userId: -1, userName: state.login.name, userColor: state.login.color, gender: state.login.gender };
  const r = roomId ? room(roomId) : currentRoom();
  const { li } = buildMessage({ ...me, ...shown }, !!shown.toUserId, r.items[r.items.length - 1]);
  li.classList.add('pending', 'mine');
  li.dataset.cid = cid;
  li.querySelector('.sent-mark').title = 'Sending…';
  const p = { frame, li, sentAt: 0 };
  state.pending.set(cid, p);
  state.stick = true;
  append(li, r);
  transmit(p);
}

export function transmit(p) {
  if (sendJSON(p.frame)) p.sentAt = Date.now();
}

export function retryPending() {
  const now = Date.now();
  for (const p of state.pending.values()) if (now - p.sentAt >= RETRY_MS) transmit(p);
}

export function autosize() {
  const t = ui.message;
  t.style.height = 'auto';
  t.style.height = Math.min(t.scrollHeight, 160) + 'px';
}

// The box says where a line goes: a private peer or the current room.
export function updatePlaceholder() {
  const u = state.privateTo;
  ui.message.placeholder = u ? `Private message to ${u.userName}…` : `Message ${roomLabel(state.current)}…`;
}
