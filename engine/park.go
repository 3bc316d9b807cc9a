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
// batch, or once anything is parked already, and stops only when everything parked
// has moved to its pending buffer (unpark), so frames leave in the order they were sent.

// parkedRefBytes is what one parked frame costs besides its bytes, charged to the
// write budget so that a flood of tiny frames is bounded by the same cap.
const parkedRefBytes = 24

// backedUp reports whether the next frame must be parked: nbio still holds unsent
// bytes for the connection and nothing is pending in this batch (held only falls
// during a batch, so a batch that started writing keeps writing), or frames are
// parked already.
func (c *Conn) backedUp() bool {
	return c.tracked && (c.parked != nil || len(c.out) == 0 && c.held.Load() > 0)
}

// parked is a backed-up connection's frames, allocated when it first backs up: most
// connections never do, and an idle one should cost as little as possible.
type parked struct {
	frames [][]byte
	bytes  int // what they cost the write budget
}

// park keeps frame, which nobody modifies after, for when the socket drains.
func (c *Conn) park(frame []byte) {
	first := c.parked == nil
	if first {
		c.parked = &parked{}
	}
	c.parked.frames = append(c.parked.frames, frame)
	cost := len(frame) + parkedRefBytes
	c.parked.bytes += cost
	c.w.parked.Add(int64(cost))
	if first {
		c.armDrain()
	}
}

// armDrain asks written to post evDrain once nbio has written everything it holds.
// If that happened already, the frames move on now. Whoever of the two swaps
// drainWanted back first acts, so the wake-up is neither lost nor doubled.
func (c *Conn) armDrain() {
	c.flags.set(flagDrainWanted)
	if c.held.Load() == 0 && c.flags.unset(flagDrainWanted) {
		c.unpark()
	}
}

// drained runs on nbio's goroutines after held fell to zero.
func (c *Conn) drained() {
	if c.flags.unset(flagDrainWanted) {
		c.w.loop.post(event{kind: evDrain, conn: c})
	}
}

// unpark moves the parked frames into the pending buffer, to be written with this
// batch: one copy, made only for a connection whose socket takes bytes again.
func (c *Conn) unpark() {
	if c.parked == nil || c.closed {
		return
	}
	c.markDirty()
	c.own()
	n := len(c.out)
	for _, f := range c.parked.frames {
		c.out = append(c.out, f...)
	}
	c.w.loop.pendingBytes += len(c.out) - n
	c.dropParked()
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
