package chat

import "time"

// clientMsgKey names a message by its sender's identity and the sender's clientMsgId.
type clientMsgKey struct {
	userID      uint64
	clientMsgID string
}

// clientMsg is where a clientMsgId's message went. It is kept by value: a pointer
// per entry was an allocation per chat line.
type clientMsg struct {
	room      string
	seq       uint64
	ts        int64
	at        int64 // unix nanoseconds it was accepted (or stored), for the sweep
	committed bool
}

// dedupe remembers recent clientMsgIds so a resend is answered, not stored twice. It
// forgets them after a window (sweep) in arrival order, which is also age order.
type dedupe struct {
	entries map[clientMsgKey]clientMsg
	order   []clientMsgKey
}

func newDedupe() dedupe { return dedupe{entries: make(map[clientMsgKey]clientMsg)} }

func (d *dedupe) add(k clientMsgKey, e clientMsg) {
	d.entries[k] = e
	d.order = append(d.order, k)
}

// get is the entry of k, or nil; the pointer is valid until the next change.
func (d *dedupe) get(k clientMsgKey) *clientMsg {
	e, ok := d.entries[k]
	if !ok {
		return nil
	}
	return &e
}

// commit marks k's message committed, if k still names the one stored at room, seq.
func (d *dedupe) commit(k clientMsgKey, room string, seq uint64) {
	if e, ok := d.entries[k]; ok && e.seq == seq && e.room == room {
		e.committed = true
		d.entries[k] = e
	}
}

// sweep forgets entries older than cutoff.
func (d *dedupe) sweep(cutoff time.Time) {
	limit := cutoff.UnixNano()
	n := 0
	for n < len(d.order) {
		k := d.order[n]
		e, ok := d.entries[k]
		if ok && e.at >= limit {
			break
		}
		if ok {
			delete(d.entries, k)
		}
		n++
	}
	if n > 0 {
		d.order = append(d.order[:0], d.order[n:]...)
	}
}
