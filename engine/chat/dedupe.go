package chat

import "time"

// clientMsgKey names a message by its sender's identity and the sender's clientMsgId.
type clientMsgKey struct {
	userID      uint64
	clientMsgID string
}

// clientMsg is where a clientMsgId's message went.
type clientMsg struct {
	room      string
	seq       uint64
	ts        int64
	committed bool
	at        time.Time
}

// dedupe remembers recent clientMsgIds so a resend is answered, not stored twice. It
// forgets them after a window (sweep) in arrival order, which is also age order.
type dedupe struct {
	entries map[clientMsgKey]*clientMsg
	order   []clientMsgKey
}

func newDedupe() dedupe { return dedupe{entries: make(map[clientMsgKey]*clientMsg)} }

func (d *dedupe) add(k clientMsgKey, e *clientMsg) {
	d.entries[k] = e
	d.order = append(d.order, k)
}

func (d *dedupe) get(k clientMsgKey) *clientMsg { return d.entries[k] }

// sweep forgets entries older than cutoff.
func (d *dedupe) sweep(cutoff time.Time) {
	n := 0
	for n < len(d.order) {
		k := d.order[n]
		e := d.entries[k]
		if e != nil && !e.at.Before(cutoff) {
			break
		}
		if e != nil {
			delete(d.entries, k)
		}
		n++
	}
	if n > 0 {
		d.order = append(d.order[:0], d.order[n:]...)
	}
}
