package chat

import (
	"context"
	"math"
	"time"

	"github.com/chatd/chatd/engine"
)

// New userIds come from a range reserved durably before any of it is handed out, so
// no crash gives a second user the id (and with it the inbox) of one that was
// Authorized before the crash. The next block is reserved through the writer while
// the current one still has ids left; a login that finds none waits, queued, for the
// reservation's commit instead of the owner ever waiting on the disk.
const (
	idBlockMin       = 1024    // the first reservation, and the smallest
	idBlockMax       = 1 << 20 // reservations double up to this while logins have to wait
	maxWaitingLogins = 1024    // logins queued for a reservation; past it CloseNoUserID
	maxHeldFrames    = 16      // a waiting login's frames kept for after its Authorized
	maxHeldBytes     = 32 << 10
	loginWaitTimeout = 10 * time.Second // a reservation that takes longer: CloseNoUserID
)

// userIDs hands out new userIds.
type userIDs struct {
	next      uint64 // the next id to hand out
	reserved  uint64 // ids up to this are durably reserved (MaxUint64: no store, nothing to reserve)
	requested uint64 // the reservation queued last; above reserved while it commits
	block     uint64 // how many ids the next reservation adds
	waited    bool   // a login waited since the last reservation: the next one is bigger
	// A cluster node's blocks come from KV and need not follow each other: the
	// block reserved ahead waits here until the current one is used up.
	aheadFirst, aheadLast uint64
}

// noReservation is the allocator of a chat without a store: nothing survives a
// restart, so there is nothing to reserve.
func noReservation() userIDs {
	return userIDs{next: 1, reserved: math.MaxUint64, requested: math.MaxUint64, block: idBlockMin}
}

// waitingLogin is a connection whose login waits for a userId.
type waitingLogin struct {
	conn      *engine.Conn
	req       *engine.Request
	at        time.Time
	held      []engine.Message // frames it sent meanwhile, handled after its login
	heldBytes int
	gone      bool // closed while waiting
}

// OnWebSocketConnect logs the user in, or queues the login while no userId is
// reserved for it (and behind logins queued already, so none overtakes another).
func (ch *Chat) OnWebSocketConnect(c *engine.Conn, r *engine.Request) {
	if ch.clusterUnavailable(c) {
		return
	}
	if ch.admitAccount(c, r) { // a token (or no anonymous logins): account.go
		return
	}
	if len(ch.waiting) == 0 && ch.userIDs.next <= ch.userIDs.reserved {
		ch.login(c, r)
		return
	}
	if len(ch.waitingBy) >= maxWaitingLogins {
		ch.counters.idRefused++
		c.Close(CloseNoUserID)
		return
	}
	if len(ch.waiting) >= 2*maxWaitingLogins {
		ch.compactWaiting() // drops at least half: amortized O(1) per login
	}
	wl := &waitingLogin{conn: c, req: r, at: ch.now()}
	ch.waiting = append(ch.waiting, wl)
	ch.waitingBy[c.ID()] = wl
	ch.userIDs.waited = true
	ch.counters.idWaits++
	ch.reserveUserIDs()
}

// takeUserID hands out the next reserved userId; the caller made sure there is one.
func (ch *Chat) takeUserID() uint64 {
	ids := &ch.userIDs
	id := ids.next
	ids.next++
	if ids.next > ids.reserved && ids.aheadLast != 0 {
		ids.next, ids.reserved, ids.requested = ids.aheadFirst, ids.aheadLast, ids.aheadLast
		ids.aheadFirst, ids.aheadLast = 0, 0
	}
	ch.reserveUserIDs()
	return id
}

// reserveUserIDs queues the next block's reservation when less than half a block is
// left and none is committing already.
func (ch *Chat) reserveUserIDs() {
	ids := &ch.userIDs
	if ch.writer == nil || ids.requested != ids.reserved || ids.aheadLast != 0 {
		return
	}
	if left := ids.reserved - (ids.next - 1); left >= ids.block/2 && len(ch.waiting) == 0 {
		return
	}
	if ids.waited {
		ids.block = min(2*ids.block, idBlockMax)
		ids.waited = false
	}
	if ch.cl.link != nil {
		ch.reserveClusterIDs(uint64(len(ch.waiting)) + ids.block)
		return
	}
	ids.requested = ids.next - 1 + uint64(len(ch.waiting)) + ids.block
	ch.writer.ReserveUserIDs(ids.requested)
}

// reserveClusterIDs has a block of n userIds reserved in the cluster's KV, off the
// owner; requested stays above reserved while it is on its way.
func (ch *Chat) reserveClusterIDs(n uint64) {
	ids, link := &ch.userIDs, ch.cl.link
	floor := ids.reserved
	ids.requested = ids.reserved + 1
	queued := ch.identityJob(func(ctx context.Context) func() {
		first, last, err := link.ReserveUserIDBlock(ctx, n, floor)
		return func() { ch.clusterIDsReserved(first, last, err) }
	})
	if !queued {
		ids.requested = ids.reserved // the next login or sweep asks again
	}
}

// clusterIDsReserved runs on the owner with a block from KV: it is the current one
// if the current one is used up, else the one ahead.
func (ch *Chat) clusterIDsReserved(first, last uint64, err error) {
	ids := &ch.userIDs
	ids.requested = ids.reserved
	if err != nil {
		ch.log.Warn("cluster: reserve userIds", "err", err) // the sweep tries again
		return
	}
	if ids.next > ids.reserved {
		ids.next, ids.reserved, ids.requested = first, last, last
	} else {
		ids.aheadFirst, ids.aheadLast = first, last
	}
	ch.serveWaiting()
}

// userIDsReserved runs on the owner once a reservation is durable: the waiting
// logins go ahead, in order, each followed by the frames it sent while it waited.
func (ch *Chat) userIDsReserved(upto uint64) {
	ids := &ch.userIDs
	ids.reserved = max(ids.reserved, upto)
	ids.requested = max(ids.requested, ids.reserved)
	ch.serveWaiting()
}

// serveWaiting logs in the waiting logins that have a userId now, in order, each
// followed by the frames it sent while it waited.
func (ch *Chat) serveWaiting() {
	ids := &ch.userIDs
	n := 0
	for ; n < len(ch.waiting) && ids.next <= ids.reserved; n++ {
		wl := ch.waiting[n]
		if wl.gone || wl.conn.Closing() {
			continue
		}
		delete(ch.waitingBy, wl.conn.ID())
		ch.login(wl.conn, wl.req)
		for _, m := range wl.held {
			if wl.conn.Closing() {
				break
			}
			ch.OnMessage(wl.conn, m)
		}
	}
	ch.waiting = append(ch.waiting[:0], ch.waiting[n:]...)
	ch.serveAccountIDs()
	ch.reserveUserIDs()
}

// holdFrame keeps a frame of a waiting login for after its login; one that sends more
// than a client has any reason to before its Authorized is closed.
func (ch *Chat) holdFrame(c *engine.Conn, m engine.Message) {
	wl := ch.waitingBy[c.ID()]
	if wl == nil {
		return
	}
	if len(wl.held) >= maxHeldFrames || wl.heldBytes+len(m.Data) > maxHeldBytes {
		c.Close(engine.ClosePolicy)
		return
	}
	wl.held = append(wl.held, m)
	wl.heldBytes += len(m.Data)
}

// forgetWaiting drops a waiting login whose connection closed.
func (ch *Chat) forgetWaiting(c *engine.Conn) {
	if wl := ch.waitingBy[c.ID()]; wl != nil {
		wl.gone, wl.held = true, nil
		delete(ch.waitingBy, c.ID())
	}
}

// compactWaiting drops closed logins from the queue, so connections that come and go
// while a reservation commits cannot fill it.
func (ch *Chat) compactWaiting() {
	kept := ch.waiting[:0]
	for _, wl := range ch.waiting {
		if !wl.gone {
			kept = append(kept, wl)
		}
	}
	clear(ch.waiting[len(kept):])
	ch.waiting = kept
}

// expireWaiting closes the logins that have waited longer than loginWaitTimeout: the
// store is not committing, and the client does better to try again later.
func (ch *Chat) expireWaiting(now time.Time) {
	n := 0
	for ; n < len(ch.waiting) && now.Sub(ch.waiting[n].at) >= loginWaitTimeout; n++ { // oldest first
		if wl := ch.waiting[n]; !wl.gone {
			ch.counters.idRefused++
			wl.conn.Close(CloseNoUserID)
			ch.forgetWaiting(wl.conn)
		}
	}
	if n > 0 {
		ch.waiting = append(ch.waiting[:0], ch.waiting[n:]...)
	}
}
