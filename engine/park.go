package engine

// Parking: frames for a connection whose socket is backed up are kept by reference,
// not copied, until nbio reports the socket drained.
//
// A broadcast used to copy every frame into each recipient's pending buffer, and nbio
// copied it again into its write cache (zeroed first) when the socket took nothing.
// With 500 clients that never read in a room getting 1,000 messages of 3 KB a second,
// that was 3 GB/s of copying on the owner and its writers until the clients reached
// their caps, and the reading clients' p99 went from 8 ms to up to 784 ms. A parked
// frame costs a slice header: the bytes are the one frame every recipient shares
// (SendFrame's frames are never modified after the call).
//
// Order holds: a connection parks once nbio holds bytes for it at the start of a
// batch, once the batch holds maxBatchOut, or once anything is parked already, and
// stops only when everything parked has moved to its pending buffer (unpark), so
// frames leave in the order they were sent.
//
// A batch writes at most maxBatchOut to a connection: the frames after it park too,
// and move on once the socket has taken the batch. A login's replay (50 lines of 3 KB,
// the roster, the room's presence) was one 250 KB write per connection, copied into the
// pending buffer and again into nbio's write cache for a client that reads nothing:
// 500 such logins at once took RSS to 140 MB, and the runtime kept metadata for that
// peak after the clients were cut. At 64 KiB a batch, those logins' first batches were
// still 32 MB at once (peak 86-122 MB, RSS 5 s after the cut 6-13% over the warm
// baseline); at 16 KiB 70-74 MB and 4-5%, with the same p99 and CPU.

// parkedRefBytes is what one parked frame costs besides its bytes, charged to the
// write budget so that a flood of tiny frames is bounded by the same cap.
const parkedRefBytes = 24

// maxBatchOut is the most one batch writes to a connection (plus the frame that
// crossed it): what a socket takes in one write, and what nbio copies at most when it
// takes nothing.
const maxBatchOut = 16 << 10

// backedUp reports whether the next frame must be parked: nbio still holds unsent
// bytes for the connection and nothing is pending in this batch (held only falls
// during a batch, so a batch that started writing keeps writing), the batch holds
// maxBatchOut already, or frames are parked already.
func (c *Conn) backedUp() bool {
	return c.tracked && (c.parked != nil || len(c.out) >= maxBatchOut || len(c.out) == 0 && c.held.Load() > 0)
}

// parked is a backed-up connection's frames, allocated when it first backs up: most
// connections never do, and an idle one should cost as little as possible.
type parked struct {
	frames [][]byte
	bytes  int // what they cost the write budget
}

// park keeps frame, which nobody modifies after, for when the socket drains. Behind
// a batch's pending frames, the batch's write arms the drain (afterWrite).
func (c *Conn) park(frame []byte) {
	first := c.parked == nil
	if first {
		c.parked = &parked{}
	}
	c.parked.frames = append(c.parked.frames, frame)
	cost := len(frame) + parkedRefBytes
	c.parked.bytes += cost
	c.w.parked.Add(int64(cost))
	if first && len(c.out) == 0 {
		c.armDrain()
	}
}

// armDrain asks written to post evDrain once nbio has written everything it holds.
// If that happened already, the frames move on now.
func (c *Conn) armDrain() {
	if c.wantDrain() {
		c.unpark()
	}
}

// armDrainAfterWrite is armDrain for frames parked behind the batch just written:
// if nbio took it all already, the next batch moves them on (this one's flush is over).
func (c *Conn) armDrainAfterWrite() {
	if c.parked == nil || c.closed || c.flags.has(flagDrainWanted) {
		return
	}
	if c.wantDrain() {
		c.w.loop.post(event{kind: evDrain, conn: c})
	}
}

// wantDrain sets drainWanted for written, and reports whether nbio holds nothing
// already, in which case the caller acts itself. Whoever of the two swaps
// drainWanted back first acts, so the wake-up is neither lost nor doubled.
func (c *Conn) wantDrain() bool {
	c.flags.set(flagDrainWanted)
	return c.held.Load() == 0 && c.flags.unset(flagDrainWanted)
}

// drained runs on nbio's goroutines after held fell to zero.
func (c *Conn) drained() {
	if c.flags.unset(flagDrainWanted) {
		c.w.loop.post(event{kind: evDrain, conn: c})
	}
}

// unpark moves the parked frames, up to maxBatchOut of them, into the pending buffer,
// to be written with this batch: one copy, made only for a connection whose socket
// takes bytes again. The rest wait for that write (afterWrite arms the drain).
func (c *Conn) unpark() {
	if c.parked == nil || c.closed {
		return
	}
	c.markDirty()
	c.own()
	n := len(c.out)
	p := c.parked
	moved, cost := 0, 0
	for ; moved < len(p.frames) && (moved == 0 || len(c.out)-n < maxBatchOut); moved++ {
		c.out = append(c.out, p.frames[moved]...)
		cost += len(p.frames[moved]) + parkedRefBytes
	}
	c.w.loop.pendingBytes += len(c.out) - n
	if moved == len(p.frames) {
		c.dropParked()
		return
	}
	clear(p.frames[:moved]) // let the moved frames go
	p.frames = p.frames[moved:]
	p.bytes -= cost
	c.w.parked.Add(int64(-cost))
}

// dropParked forgets the parked frames (moved on, or the connection is cut or gone).
func (c *Conn) dropParked() {
	if c.parked != nil {
		c.w.parked.Add(int64(-c.parked.bytes))
		c.parked = nil
	}
	c.flags.unset(flagDrainWanted)
}

// parkedBytes is what the parked frames cost the write budget.
func (c *Conn) parkedBytes() int {
	if c.parked == nil {
		return 0
	}
	return c.parked.bytes
}
