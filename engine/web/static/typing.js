// "X is typing…": telling the current room when this page's user types, and showing
// who else types in it. Nothing is stored; a typist shows for a few seconds after
// their last Typing, or until their line arrives.
import { sendJSON } from './link.js';
import { LOBBY, state, ui } from './state.js';
import { userOf } from './text.js';

const SEND_EVERY = 2000; // the server drops more frequent ones anyway
const SHOW_FOR = 3500; // a typist shows this long after their last Typing
const typists = new Map(); // roomId -> Map userId -> {name, until}
let lastSent = { room: '', at: 0 };
let timer = 0;

// typed is the composer's input: a Typing to the current room, at most every 2 s.
export function typed() {
  if (!state.modern || state.privateTo || !ui.message.value.trim()) return;
  const now = Date.now();
  if (lastSent.room === state.current && now - lastSent.at < SEND_EVERY) return;
  if (sendJSON({ action: 'Typing', roomId: state.current })) lastSent = { room: state.current, at: now };
}

// typing is the server's Typing action.
export function typing(m) {
  const u = userOf(m);
  const id = String(m.roomId ?? '');
  if (!id || !u.userId || (state.me && u.userId === state.me.userId)) return;
  let r = typists.get(id);
  if (!r) typists.set(id, (r = new Map()));
  r.set(u.userId, { name: u.userName, until: Date.now() + SHOW_FOR });
  renderTyping();
}

// stoppedTyping: a public line ends its sender's typing in its room.
export function stoppedTyping(m) {
  const id = typeof m.roomId === 'string' && m.roomId ? m.roomId : LOBBY;
  if (typists.get(id)?.delete(Number(m.userId))) renderTyping();
}

// renderTyping shows the current room's typists and expires them on time.
export function renderTyping() {
  clearTimeout(timer);
  const now = Date.now();
  const r = typists.get(state.current);
  const names = [];
  let next = Infinity;
  for (const [id, t] of r ?? []) {
    if (t.until <= now) {
      r.delete(id);
    } else {
      names.push(t.name);
      next = Math.min(next, t.until);
    }
  }
  ui.typing.textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…`
      : names.length <= 3 ? `${names.join(', ')} are typing…` : 'Several people are typing…';
  if (next < Infinity) timer = setTimeout(renderTyping, next - now);
}
