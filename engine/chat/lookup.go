package chat

import (
	"context"
	"strconv"

	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Edit, Delete and a reply's quote need the original message: its author, time and
// text. They read it through the reads pool rather than keeping a per-room ring of
// recent messages on the owner: the store has every message, so an edit of a line
// older than any bounded ring (the window is 48 hours), or one after a restart, gets
// the same answer, and the owner keeps no memory per message. The price is a read per
// request, which the rate limiter bounds (Edit and Delete cost the costly class, a
// reply a line) and maxLookups bounds per user; and a reply gets its seq when its
// quote has been read, so a line sent right after a reply may come before it.
const maxLookups = 4

// lookupResult is the original message as the store has it; found false: no such seq.
type lookupResult struct {
	msg   store.Message
	found bool
	err   error
}

// lookup reads seq of roomID off the owner, then calls then on the owner if u is still
// online and in the room. Without a store there is nothing to find: no_such_message.
//
// finally, if not nil, runs on the owner once the lookup is over, whatever its outcome,
// unless u left meanwhile (its pending reads are then dropped).
func (ch *Chat) lookup(u *user, roomID string, seq uint64, then func(lookupResult), finally func()) {
	if ch.store == nil || seq == 0 || seq > ch.committedSeq(roomID) {
		ch.sendError(u, noSuchMessage(roomID, seq))
		runFinally(finally)
		return
	}
	if ch.lookups == nil {
		ch.lookups = make(map[uint64]int)
	}
	id := u.info.ID
	if ch.lookups[id] >= maxLookups {
		ch.counters.readsBusy++
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBusy, Message: "too many of your edits, deletes or replies are being looked up; retry after them"})
		runFinally(finally)
		return
	}
	job := readJob{ctx: u.readCtx(), run: func(ctx context.Context, st store.Store) func() {
		msgs, err := st.Range(ctx, roomID, seq-1, seq, 1)
		res := lookupResult{err: err}
		if err == nil && len(msgs) == 1 && msgs[0].Seq == seq {
			res.msg, res.found = msgs[0], true
		}
		return func() {
			ch.lookupDone(id)
			if !u.online() {
				return // gone: its pending reads were dropped, and so is finally
			}
			defer runFinally(finally)
			if !ch.inStream(u, roomID) {
				return // gone, or left the room meanwhile
			}
			if res.err != nil {
				ch.log.Error("message lookup failed", "room", roomID, "seq", seq, "err", res.err)
				ch.sendError(u, &protocol.Error{Code: protocol.CodeHistoryUnavailable, Message: "could not read the history of " + quote(roomID)})
				return
			}
			then(res)
		}
	}}
	if !ch.readq.push(job, false) {
		ch.counters.readsBusy++
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBusy, Message: "the server is answering too many reads; retry later"})
		runFinally(finally)
		return
	}
	ch.lookups[id]++
}

func runFinally(finally func()) {
	if finally != nil {
		finally()
	}
}

// lookupDone counts one of id's lookups answered (a cancelled one never is: its user
// left, and remove forgets the count).
func (ch *Chat) lookupDone(id uint64) {
	if n := ch.lookups[id]; n > 1 {
		ch.lookups[id] = n - 1
	} else {
		delete(ch.lookups, id)
	}
}

func noSuchMessage(roomID string, seq uint64) *protocol.Error {
	return &protocol.Error{Code: protocol.CodeNoSuchMessage, Message: "no message " + quote(roomID) + "/" + strconv.FormatUint(seq, 10)}
}
