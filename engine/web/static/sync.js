// Bookkeeping for chatd's acknowledged streams (rooms and the private inbox): which
// sequence numbers arrived, the highest contiguous one to acknowledge and resume from.
// No DOM here.

// Stream is one room's (or the inbox's) received sequence numbers.
export class Stream {
  constructor(acked = null) {
    this.acked = acked; // highest contiguous seq received; null until the first one
    this.ahead = new Set(); // received seqs above acked (a gap before them)
    this.reported = acked ?? 0; // the last seq sent in an Ack
  }

  // has reports whether seq arrived already: a resend or a replay overlap.
  has(seq) {
    return this.acked !== null && (seq <= this.acked || this.ahead.has(seq));
  }

  // add records seq. The first seq a stream sees sets its base: what came before it
  // (older history) is not owed to this client.
  add(seq) {
    if (this.acked === null) this.acked = seq - 1;
    if (seq <= this.acked) return;
    this.ahead.add(seq);
    while (this.ahead.has(this.acked + 1)) {
      this.ahead.delete(this.acked + 1);
      this.acked++;
    }
  }
}

// sinceParam is the resume query value room:seq,room:seq for every stream with a
// known position and every joined room without one (seq 0: all it has).
export function sinceParam(streams, roomIds) {
  const parts = [];
  const named = new Set();
  for (const [id, s] of streams) {
    if (s.acked === null) continue;
    parts.push(`${id}:${s.acked}`);
    named.add(id);
  }
  for (const id of roomIds) if (!named.has(id)) parts.push(`${id}:0`);
  return parts.join(',');
}

// newClientMsgId is a random id for a message, so that a retry after a lost Sent is
// recognised by the server. crypto.getRandomValues works on plain http too.
export function newClientMsgId() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return 'w' + [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
