// History scroll-back: asking for older pages and putting them above the log.
import { sendJSON } from './link.js';
import { buildMessage, logSize, renderOlder } from './log.js';
import { currentRoom, hasOlder, oldestSeq, room } from './rooms.js';
import { HISTORY_PAGE, state, ui } from './state.js';
import { daysAbove } from './days.js';

// ---- history ----

// loadOlder asks for the page of the current room's history before its oldest line.
export function loadOlder() {
  const r = currentRoom();
  const before = oldestSeq(r);
  if (r.loading || !hasOlder(r) || !state.me || !state.modern) return;
  r.loading = true;
  sendJSON({ action: 'History', roomId: r.id, before, limit: HISTORY_PAGE });
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
  add.splice(0, add.length, ...daysAbove(add, r.items));
  r.items.unshift(...add);
  if (r.id !== state.current) return;
  const fromBottom = ui.log.scrollHeight - ui.log.scrollTop;
  ui.log.prepend(...add);
  ui.log.scrollTop = ui.log.scrollHeight - fromBottom;
  state.logSize = logSize();
  renderOlder();
}
