// Read positions, for an account: the room in view, scrolled to its newest line while
// the page is visible, tells the server how far it is read (Read), so another device
// (or this one after a reload) is shown what is still unread. Anonymous pages keep
// their unread counts to themselves, as before.
import { sendJSON } from './link.js';
import { state } from './state.js';

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
