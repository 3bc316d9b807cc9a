package chat

import (
	"time"

	"github.com/chatd/chatd/protocol"
)

// bucket is a token bucket: rate tokens a second, at most burst at once. 16 bytes:
// every user has three (see costClass).
type bucket struct {
	last     int64   // unix nanoseconds of the last request; 0: none yet
	tokens   float32 // exact to one token up to 16M, far past any burst that limits
	rejected int32   // rejections in a row; too many and the client is cut off
}

func (b *bucket) allow(now time.Time, rate float64, burst int) bool {
	t := now.UnixNano()
	if b.last == 0 {
		b.tokens = float32(burst)
	} else {
		elapsed := max(t-b.last, 0) // the wall clock may step back
		b.tokens = float32(min(float64(burst), float64(b.tokens)+float64(elapsed)/1e9*rate))
	}
	b.last = t
	if b.tokens >= 1 {
		b.tokens--
		b.rejected = 0
		return true
	}
	b.rejected++
	return false
}

// Cost classes. Every frame costs a cheap token before it is even decoded (a Pong, an
// Ack, junk, an empty frame: a flood of them once took 1.5 cores from 4 clients); chat
// lines and room changes cost a --rate-limit token; requests that read many rows or
// sort many rooms cost a token of their own, smaller budget. Acks used to share the
// chat lines' bucket, so a client acking in two busy rooms got its own lines refused.
const (
	cheapFactor = 10 // the cheap budget is --rate-limit and --rate-burst times this
	costlyRate  = 2  // History, Rooms, Users, SetStatus per second
	costlyBurst = 10
)

type costClass uint8

const (
	costLine costClass = iota
	costCheap
	costCostly
)

// costOf classes a decoded request.
func costOf(in *protocol.Inbound) costClass {
	switch {
	case in.Action == protocol.ActionPong, in.Action == protocol.ActionAck, in.IsHeartbeatPing():
		return costCheap
	case in.Action == protocol.ActionHistory, in.Action == protocol.ActionRooms, in.Action == protocol.ActionUsers,
		in.Action == protocol.ActionSetStatus,                                // fans out to the user's rooms (status.go)
		in.Action == protocol.ActionSearch,                                   // a full-text query of up to 33 rooms (search.go)
		in.Action == protocol.ActionEdit, in.Action == protocol.ActionDelete, // a store read and a write (edit.go)
		in.Action == protocol.ActionDialogs: // up to 100 store reads (dialogs.go)
		return costCostly
	default:
		return costLine
	}
}

// charge takes a token of class from u's budget; false means refused, and u.kick
// tells whether the client kept sending past its refusals.
func (ch *Chat) charge(u *user, class costClass) (ok, kick bool) {
	b, rate, burst := &u.lines, ch.cfg.RateLimit, ch.cfg.RateBurst
	switch class {
	case costCheap:
		b, rate, burst = &u.cheap, rate*cheapFactor, burst*cheapFactor
	case costCostly:
		b, rate, burst = &u.costly, costlyRate, costlyBurst
	}
	if b.allow(ch.now(), rate, burst) {
		return true, false
	}
	return false, int(b.rejected) > burst
}
