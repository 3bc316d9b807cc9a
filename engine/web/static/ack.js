// Acknowledgements: each stream (a room or the private inbox) tells the server, shortly,
// how far this page has it, so a burst of messages costs one Ack, not one each.
import { sendJSON } from './link.js';
import { state } from './state.js';
import { Stream } from './sync.js';

// ---- acknowledgements ----

export function stream(id) {
  let s = state.streams.get(id);
  if (!s) {
    s = new Stream();
    state.streams.set(id, s);
  }
  return s;
}

// scheduleAck acknowledges every stream's contiguous position shortly, in one Ack
// per stream.
export function scheduleAck() {
  if (state.ackTimer) return;
  state.ackTimer = setTimeout(() => {
    state.ackTimer = 0;
    for (const [id, s] of state.streams) {
      if (s.acked !== null && s.acked > s.reported && sendJSON({ action: 'Ack', roomId: id, seq: s.acked })) s.reported = s.acked;
    }
  }, 50);
}
