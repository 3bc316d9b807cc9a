package chat

import "time"

// sentKey names a message by its sender's identity and the sender's clientMsgId.
type sentKey struct {
	userID      uint64
	clientMsgID string
}

// sentEntry is where a clientMsgId's message went.
type sentEntry struct {
	room      string
	seq       uint64
	ts        int64
	committed bool
	at        time.Time
}

// dedupe remembers recent clientMsgIds so a resend is answered, not stored twice. It
// forgets them after a window (sweep) in arrival order, which is also age order.
type dedupe struct {
	entries map[sentKey]*sentEntry
	order   []sentKey
}

func newDedupe() dedupe { return dedupe{entries: make(map[sentKey]*sentEntry)} }

func (d *dedupe) add(k sentKey, e *sentEntry) {
	d.entries[k] = e
	d.order = append(d.order, k)
}

func (d *dedupe) get(k sentKey) *sentEntry { return d.entries[k] }

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
