// Acknowledgements and history scroll-back.
import { sendJSON } from './connection.js';
import { buildMessage, currentRoom, logSize, room } from './log.js';
import { HISTORY_PAGE, state, ui } from './state.js';

// ---- acknowledgements and history ----

// scheduleAck acknowledges every stream's contiguous position shortly, in one Ack
// per stream, so a burst of messages costs one Ack, not one each.
export function scheduleAck() {
  if (state.ackTimer) return;
  state.ackTimer = setTimeout(() => {
    state.ackTimer = 0;
    for (const [id, s] of state.streams) {
      if (s.acked !== null && s.acked > s.reported && sendJSON({ action: 'Ack', roomId: id, seq: s.acked })) s.reported = s.acked;
    }
  }, 50);
}

// loadOlder asks for the page of the current room's history before its oldest line.
export function loadOlder() {
  const r = currentRoom();
  const before = oldestSeq(r);
  if (r.loading || !hasOlder(r) || !state.me || !state.modern) return;
  r.loading = true;
  sendJSON({ action: 'History', roomId: r.id, before, limit: HISTORY_PAGE });
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

export function renderOlder() {
  ui.older.hidden = !(state.modern && state.me && hasOlder(currentRoom()));
}

// history puts an older page above what the room shows, keeping the reader's place.
export function history(m) {
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

export function autosize() {
  const t = ui.message;
  t.style.height = 'auto';
  t.style.height = Math.min(t.scrollHeight, 160) + 'px';
}
