package engine

import (
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// Transport is what a Conn writes to: the network connection under the WebSocket
// (net.Conn satisfies it), or an in-memory transport attached with Worker.Attach.
type Transport interface {
	Write(b []byte) (int, error)
	// SetReadDeadline bounds the wait for the peer's answer to a close frame.
	SetReadDeadline(t time.Time) error
}

// Request is the WebSocket handshake as OnWebSocketConnect sees it.
type Request struct {
	Path       string
	Query      url.Values
	Header     http.Header
	RemoteAddr string // the peer's host:port; from a --trusted-proxies peer, the client's address its X-Forwarded-For names
}

// Conn is one WebSocket connection. Its methods are owner-only: call them from Handler
// callbacks and timers.
type Conn struct {
	id    uint64
	t     Transport
	w     *Worker
	value any // the handler's own state for the connection (SetValue)

	out    []byte  // frames waiting for the end of the owner's batch
	parked *parked // frames kept while the socket is backed up (park.go)
	// closing is set once the server decided to close, or by the write that failed
	// (a writer, while the owner waits for the writers).
	closing *CloseReason

	// The write budget (--max-write-buffer) counts every byte queued for the
	// connection: pending frames (out) and what the transport holds unsent (held).
	// tracked: the transport reports what the socket took (a plain nbio socket); over
	// TLS, and in memory, held stays 0 and nbio's own cap is the backstop.
	held  atomic.Int64
	flags connFlags // closeSent, dropped, drainWanted: set from nbio's goroutines too
	slot  int32     // its index in the owner's connection list (loop.conns)

	shared  bool // out is a caller's frame, not a buffer of ours: copy before appending
	closed  bool
	tracked bool
	// The small fields sit together at the end: 112 bytes in all, a size class below
	// where one more field puts it (conn_size_test.go).
}

// connFlags are the Conn's flags that nbio's goroutines read and set as well, as bits
// of one word (three atomic.Bools took 12 bytes and the Conn to 128).
type connFlags struct{ v atomic.Uint32 }

const (
	flagCloseSent   uint32 = 1 << iota // a close frame went out
	flagDropped                        // cut: what nbio still holds is being freed, no longer counted
	flagDrainWanted                    // parked frames wait for nbio to write what it holds
)

func (f *connFlags) has(bit uint32) bool { return f.v.Load()&bit != 0 }

// set sets bit and reports whether it was set already.
func (f *connFlags) set(bit uint32) (was bool) { return f.v.Or(bit)&bit != 0 }

// unset clears bit and reports whether it was set.
func (f *connFlags) unset(bit uint32) (was bool) { return f.v.And(^bit)&bit != 0 }

// ID is unique for the life of the process and starts at 1, like Workerman's.
func (c *Conn) ID() uint64 { return c.id }

// SetValue keeps v with the connection for the handler (Workerman's
// $connection->user): a map from connection to state cost ~40 bytes a connection
// more, and a lookup per message.
func (c *Conn) SetValue(v any) { c.value = v }

// Value is what SetValue kept, or nil.
func (c *Conn) Value() any { return c.value }

// RemoteAddr is the peer's address as seen at accept.
// It is asked of the transport, not kept: a log line is rarer than a connection.
func (c *Conn) RemoteAddr() string {
	if a, ok := c.t.(interface{ RemoteAddr() net.Addr }); ok {
		return a.RemoteAddr().String()
	}
	return ""
}

// Closing reports whether the server has started closing this connection.
func (c *Conn) Closing() bool { return c.closing != nil || c.closed }

// SendText sends payload as one TEXT frame.
func (c *Conn) SendText(payload []byte) { c.send(OpText, payload) }

// SendBinary sends payload as one BINARY frame.
func (c *Conn) SendBinary(payload []byte) { c.send(OpBinary, payload) }

func (c *Conn) send(op byte, payload []byte) {
	if c.Closing() || !c.fits(len(payload)+maxFrameHeader) {
		return
	}
	c.w.stats.framesOut.Add(1)
	if c.backedUp() {
		c.park(AppendFrame(nil, op, payload))
		return
	}
	c.markDirty()
	c.own()
	n := len(c.out)
	c.out = AppendFrame(c.out, op, payload)
	c.w.loop.pendingBytes += len(c.out) - n
}

// SendFrame sends an already framed message (see AppendFrame). Broadcasts frame a
// message once and pass the same bytes to every recipient. It reports whether the
// connection kept frame by reference (a backed-up socket parks it): then frame must
// never be modified again. Otherwise it was copied, and a caller that got false from
// every SendFrame of frame may reuse its buffer for the next one.
func (c *Conn) SendFrame(frame []byte) (kept bool) {
	if c.Closing() || !c.fits(len(frame)+parkedRefBytes) {
		return false
	}
	c.w.stats.framesOut.Add(1)
	if c.backedUp() {
		c.park(frame)
		return true
	}
	c.w.loop.pendingBytes += len(frame)
	if len(c.out) == 0 {
		// A batch's only frame is written from the caller's bytes: a broadcast's
		// recipients, and every connection at a Ping sweep, cost no buffer and no copy.
		c.w.loop.dirty = append(c.w.loop.dirty, c)
		c.out, c.shared = frame, true
		return true
	}
	c.own()
	c.out = append(c.out, frame...)
	return false
}

// own makes out a buffer of the connection's own before anything is appended to it.
func (c *Conn) own() {
	if c.shared {
		c.out, c.shared = append(c.w.loop.getBuffer(), c.out...), false
	}
}

// markDirty puts the connection on the batch's write list when it gets its first
// pending byte.
func (c *Conn) markDirty() {
	if len(c.out) == 0 {
		c.w.loop.dirty = append(c.w.loop.dirty, c)
		if c.out == nil {
			c.out = c.w.loop.getBuffer()
		}
	}
}

// flush writes the pending frames in one write and settles the connection after it.
func (c *Conn) flush() {
	c.write()
	c.afterWrite()
}

// write writes the pending frames in one write (nbio copies what the socket does not
// take at once). It touches nothing but its own Conn (c.out, and c.closing if the
// write fails), so the writers may run it for many connections in parallel.
func (c *Conn) write() {
	if len(c.out) > 0 && !c.closed {
		c.hand(len(c.out))
		if _, err := c.t.Write(c.out); err != nil && c.closing == nil {
			reason := closeReasonFor(err)
			c.closing = &reason
		}
	}
}

// maxFrameHeader is the longest header a server frame has.
const maxFrameHeader = 10

// fits reports whether n more bytes stay within the connection's write budget; if
// not, the connection is cut as a slow consumer and its pending frames dropped.
func (c *Conn) fits(n int) bool {
	if !c.tracked {
		return true
	}
	if c.holding()+int64(n) > int64(c.w.cfg.MaxWriteBuffer) {
		c.w.stats.hit(limitWriteBuffer)
		c.cut()
		return false
	}
	c.w.enforceTotalBudget(n)
	return !c.Closing()
}

// holding is every byte queued for the connection: what nbio holds unsent, what is
// pending in this batch and what is parked.
func (c *Conn) holding() int64 { return c.held.Load() + int64(len(c.out)+c.parkedBytes()) }

// cut closes a slow consumer at once: no close frame (it would queue behind what the
// client does not read), its pending frames dropped, the socket closed, so nbio frees
// what it held for it.
func (c *Conn) cut() {
	if c.closing == nil {
		reason := CloseSlowConsumer
		c.closing = &reason
	}
	c.flags.set(flagCloseSent)
	if c.holding() >= cutReleaseBytes {
		c.w.releaseSoon.Store(true)
	}
	c.w.loop.pendingBytes -= len(c.out)
	c.out, c.shared = nil, false
	c.dropParked()
	if c.tracked && !c.flags.set(flagDropped) {
		c.w.held.Add(-c.held.Swap(0)) // freed by nbio's close, which follows at once
	}
	_ = c.t.SetReadDeadline(time.Now())
}

// cutReleaseBytes is what a cut or closed connection must have held for the memory it
// frees to be handed back to the OS without waiting out releaseSpacing: 500 non-readers
// cut at their 4 MiB caps left the process 41% above its baseline 5 s later, and 500
// closed by the ping timeout (the kernel's send buffers had taken most of what they
// were sent, so they never reached the cap) 120% above it until the next release 16 s
// later.
const cutReleaseBytes = 1 << 20

// hand counts n bytes given to the transport; written takes back what the socket
// took. Both are safe from any goroutine.
func (c *Conn) hand(n int) {
	if c.tracked && !c.flags.has(flagDropped) {
		c.held.Add(int64(n))
		c.w.held.Add(int64(n))
	}
}

func (c *Conn) written(n int) {
	if c.tracked && !c.flags.has(flagDropped) {
		c.w.held.Add(int64(-n))
		if c.held.Add(int64(-n)) == 0 {
			c.drained()
		}
	}
}

// afterWrite, on the owner, hands the buffer back to the owner's free list, so an
// idle connection holds no buffer at all. (A write error, which set closing, means
// nbio closed the connection: its write buffer overflowed, or the peer is gone.)
func (c *Conn) afterWrite() {
	if !c.shared {
		c.w.loop.putBuffer(c.out)
	}
	c.out, c.shared = nil, false
	c.armDrainAfterWrite()
}

// Close sends a close frame with reason and closes the connection once the peer has
// answered it, or after the worker's shutdown grace. Frames sent earlier go out first.
// OnClose follows with the same reason.
func (c *Conn) Close(reason CloseReason) {
	if c.Closing() {
		return
	}
	if !c.flags.set(flagCloseSent) {
		if c.backedUp() {
			c.park(AppendFrame(nil, OpClose, reason.payload())) // after what is parked
		} else {
			c.own()
			c.out = AppendFrame(c.out, OpClose, reason.payload())
		}
	}
	if len(c.out) > 0 {
		c.flush()
	}
	if c.closing == nil {
		c.closing = &reason
	}
	// nbio closes the socket when the peer's close frame arrives, or at this deadline.
	_ = c.t.SetReadDeadline(time.Now().Add(c.w.cfg.ShutdownGrace))
}

// fail closes a connection whose peer broke the protocol or a limit: what was sent
// to it before goes out, then the close frame, then the socket closes at once
// instead of waiting for an answer.
func (c *Conn) fail(reason CloseReason) {
	c.Close(reason)
	_ = c.t.SetReadDeadline(time.Now())
}
