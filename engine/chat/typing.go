package chat

import (
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// typingInterval is the least time between two Typing of one user in one room that
// are fanned out; one in between is dropped, not deferred.
const typingInterval = 2 * time.Second

// typingKey is one user in one room, for the Typing throttle.
type typingKey struct {
	user uint64
	room string
}

// handleTyping tells r's other opted-in members that u is typing. Never stored; a
// Typing within typingInterval of the last one sent for u in r, or in a room above
// --presence-full-limit, is dropped without an answer (a client sends them often and
// needs no word back).
func (ch *Chat) handleTyping(u *user, in *protocol.Inbound) {
	r, ms := ch.memberOf(u, in.RoomID)
	if ms == nil || r == nil || len(r.members) > ch.cfg.PresenceFullLimit {
		return
	}
	now := ch.now().UnixNano()
	key := typingKey{u.info.ID, r.id}
	if last, ok := ch.typing[key]; ok && now-last < typingInterval.Nanoseconds() {
		return
	}
	ch.typing[key] = now
	payload := protocol.AppendTyping(nil, r.id, u.encoded())
	frame := engine.AppendFrame(nil, engine.OpText, payload) // shared, never modified
	for _, m := range r.members {
		if m.info.ID != u.info.ID { // not to its own devices either
			ch.sendOptIn(m, frame)
		}
	}
	if ch.hasRemoteMembers(r.id) {
		ch.signal(Signal{Kind: signalTyping, Rooms: []string{r.id}, From: u.info.ID, Payload: payload})
	}
}

// sweepTyping forgets throttle entries older than typingInterval, so the map holds
// only the users who typed lately (at most one entry per user and room).
func (ch *Chat) sweepTyping() {
	cutoff := ch.now().UnixNano() - typingInterval.Nanoseconds()
	for k, at := range ch.typing {
		if at <= cutoff {
			delete(ch.typing, k)
		}
	}
}
