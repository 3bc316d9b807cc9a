package engine

import (
	"sync"
)

type eventKind uint8

const (
	evOpen eventKind = iota
	evMessage
	evClose
	evFail // the peer broke RFC 6455 or a limit: close after what came before
	evFunc
	evDrain // nbio wrote everything it held for a connection with parked frames
	evQuit
)

// event is one thing for the owner to do. It is a plain struct, not a closure, so the
// hot path (a message) allocates nothing to queue it. 64 bytes: a Ping sweep queues
// one Pong per connection at once (take), so what is rare (a close's reason, a timer,
// which runs as its fn) is kept out of line.
type event struct {
	kind   eventKind
	binary bool
	conn   *Conn
	data   []byte
	req    *Request     // evOpen
	reason *CloseReason // evClose, evFail
	fn     func()       // evFunc
}

// loop is the owner's queue and the state only the owner touches. Producers (nbio's
// handler pool, timers, HTTP handlers) append under mu; the owner swaps the whole
// queue out and runs it without the lock. The queue is unbounded so that the owner,
// which itself produces events (closing a connection), can never deadlock on it;
// per-connection limits bound what one client can put in it.
type loop struct {
	mu    sync.Mutex
	queue []event
	wake  chan struct{}

	// Owner-only.
	dirty          []*Conn
	pendingBytes   int      // frames in the dirty connections' buffers (the write budgets count them)
	scannedInBatch bool     // enforceTotalBudget found nobody to cut since the last flush
	writers        *writers // nil: the owner writes alone
	buffers        [][]byte // free pending buffers, reused across batches
	freeBytes      int      // their capacity, bounded by maxFreeBytes
	dropQueues     int      // takes that drop a spare queue above minKeptQueue: 2 after a release (the queue and its spare)
	conns          []*Conn  // open connections, in no order (a map cost ~25 bytes more a connection)
	timers         map[TimerID]*timer
	nextTimer      TimerID
}

func newLoop() *loop {
	return &loop{
		wake:   make(chan struct{}, 1),
		timers: make(map[TimerID]*timer),
	}
}

// post queues ev for the owner. Safe from any goroutine; never blocks.
func (l *loop) post(ev event) {
	l.mu.Lock()
	l.queue = append(l.queue, ev)
	first := len(l.queue) == 1
	l.mu.Unlock()
	if first {
		l.wakeOwner()
	}
}

// postAll queues evs for the owner in their order under one lock: a poller's read
// that held many frames takes the lock once, not once per frame.
func (l *loop) postAll(evs []event) {
	if len(evs) == 0 {
		return
	}
	l.mu.Lock()
	first := len(l.queue) == 0
	l.queue = append(l.queue, evs...)
	l.mu.Unlock()
	if first {
		l.wakeOwner()
	}
}

func (l *loop) wakeOwner() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// take swaps the queue for spare (emptied) and returns what was queued. A spare far
// bigger than the batch it held goes if it is also bigger than what the open
// connections need: a login storm grows the queue to thousands of events (~100 bytes
// each, 0.6 MB after 5,000 logins), which a calm server never needs again, while every
// Ping sweep brings one Pong per connection back at once (room for 2 a connection:
// append grows the queue by doubling). Dropping the queue after each sweep cost 2.6 MB
// of garbage every 5 s at 15,000 idle connections, which let the heap grow to its GC
// goal (RSS) between collections. The release after a storm (dropFreeBuffers) drops
// what take keeps.
func (l *loop) take(spare []event) []event {
	if cap(spare) > minKeptQueue && (l.dropQueues > 0 || cap(spare) > 2*len(l.conns) && len(spare) < cap(spare)/4) {
		spare = nil
	}
	l.dropQueues = max(l.dropQueues-1, 0)
	clear(spare)
	l.mu.Lock()
	batch := l.queue
	l.queue = spare[:0]
	l.mu.Unlock()
	return batch
}

// addConn and removeConn keep conns: a removal moves the last connection into the gap.
func (l *loop) addConn(c *Conn) {
	c.slot = int32(len(l.conns))
	l.conns = append(l.conns, c)
}

func (l *loop) removeConn(c *Conn) {
	if int(c.slot) >= len(l.conns) || l.conns[c.slot] != c {
		return // never added
	}
	last := len(l.conns) - 1
	moved := l.conns[last]
	l.conns[c.slot], moved.slot = moved, c.slot
	l.conns[last] = nil
	l.conns = l.conns[:last]
}

// minKeptQueue is the capacity below which a queue is always kept.
const minKeptQueue = 256

// queued is the number of events waiting, for /status.
func (l *loop) queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// flush writes every connection's pending frames: one write per connection per batch,
// spread over the writers.
func (l *loop) flush() {
	l.writers.writeAll(l.dirty)
	for i, c := range l.dirty {
		c.afterWrite()
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
	l.pendingBytes, l.scannedInBatch = 0, false
}

// Pending buffers: a connection takes one when it first gets a frame in a batch and
// gives it back after the flush. Kept owner-local (no sync.Pool) and bounded.
const (
	// Smaller ones (a Ping) are cheaper to drop than to grow later; a durable line's
	// echo and Sent (~400 bytes) are kept: at 512 every one of them allocated afresh.
	minKeptBuffer = 256
	maxKeptBuffer = 64 << 10
	maxFreeBytes  = 4 << 20 // what the free list may hold after a big batch
)

// getBuffer returns a free buffer, or nil when there is none: append then allocates
// what the first frame needs. A fixed-size fresh buffer cost 2 KB per connection for
// every Ping sweep of a big idle server (15,000 connections: 30 MB of garbage every
// ping interval), since the free list keeps only maxFreeBytes of them.
func (l *loop) getBuffer() []byte {
	if n := len(l.buffers); n > 0 {
		b := l.buffers[n-1]
		l.buffers[n-1] = nil
		l.buffers = l.buffers[:n-1]
		l.freeBytes -= cap(b)
		return b
	}
	return nil
}

func (l *loop) putBuffer(b []byte) {
	if cap(b) < minKeptBuffer || cap(b) > maxKeptBuffer || l.freeBytes+cap(b) > maxFreeBytes {
		return
	}
	l.freeBytes += cap(b)
	l.buffers = append(l.buffers, b[:0])
}
