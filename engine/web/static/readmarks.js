// Read positions, for an account: the room in view, scrolled to its newest line while
// the page is visible, tells the server how far it is read (Read), so another device
// (or this one after a reload) is shown what is still unread. Anonymous pages keep
// their unread counts to themselves, as before.
import { sendJSON } from './link.js';
import { state } from './state.js';
import { oldestSeq, room } from './rooms.js';
import { emit } from './events.js';

const sent = new Map(); // room -> the seq last sent in a Read
let timer = 0;

// noteRead sends, shortly, the current room's read position if it moved.
export function noteRead() {
  if (!state.account || timer) return;
  timer = setTimeout(() => {
    timer = 0;
    const id = state.current;
    const seq = state.streams.get(id)?.acked;
    if (document.hidden || !state.stick || !seq || seq <= (sent.get(id) ?? 0)) return;
    if (sendJSON({ action: 'Read', roomId: id, seq })) sent.set(id, seq);
  }, 500);
}

export function setupReadMarks() {
  document.addEventListener('visibilitychange', noteRead);
}

// readMarker: another device of the account read room (or conversation) id up to seq;
// what this page counts as unread there follows.
export function readMarker(m) {
  const id = String(m.roomId ?? '');
  const seq = Number(m.seq) || 0;
  const r = id && seq > 0 ? room(id, false) : null;
  if (!r) return;
  sent.set(id, Math.max(sent.get(id) ?? 0, seq));
  const newest = Math.max(state.streams.get(id)?.acked ?? 0, r.lastSeq ?? 0);
  if (seq >= newest) {
    r.unread = 0;
  } else {
    // The lines after seq, if this page has them all; else at most the seqs after it.
    const later = r.items.filter((li) => Number(li.dataset.seq) > seq && li.dataset.key?.startsWith(id + ' ') && !li.classList.contains('mine')).length;
    const all = oldestSeq(r) > 0 && oldestSeq(r) <= seq + 1;
    r.unread = Math.min(r.unread, all ? later : newest - seq);
  }
  emit('rooms:render');
  emit('dialogs:render');
}
