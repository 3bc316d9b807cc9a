package cluster

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/chatd/chatd/engine/store"
)

const (
	// publishWorkers bounds the appends in flight at once, each to another room.
	publishWorkers = 16
	// publishTimeout bounds one append (or tip load, or catch-up) before it counts
	// as unclear and is retried.
	publishTimeout = 5 * time.Second
	retryMin       = 20 * time.Millisecond
	retryMax       = time.Second
)

// outLine is a line waiting for the stream, under its Nats-Msg-Id.
type outLine struct {
	m    store.Message
	id   string
	size int
}

func lineBytes(m *store.Message) int {
	return int(unsafe.Sizeof(*m)) + len(m.Room) + len(m.UserName) + len(m.Color) + len(m.Text) + len(m.ClientMsgID) + len(m.File) + len(m.ReplyTo)
}

// publisher gets queued lines into the stream: per room in order, at most one append
// in flight per room (a room's next line needs the tip its last one made), several
// rooms at once on publishWorkers goroutines, taken in turn. What it holds is bounded
// by bytes; past the bound, or while NATS is disconnected, lines are refused.
type publisher struct {
	j      *Journal
	prefix string // <node>-<boot>-: every Msg-Id of this node's run starts with it
	max    int
	tips   tips
	ctx    context.Context // canceled when Close gives up on what is queued
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	cond     *sync.Cond
	rooms    map[string][]*outLine // queued lines per room, oldest first
	busy     map[string]bool       // rooms whose head line a worker is appending
	ready    []string              // rooms with lines and no append in flight, in turn
	held     int                   // bytes queued
	lines    int                   // lines queued
	n        uint64                // Msg-Ids handed out
	inflight map[string]bool       // Msg-Ids being appended -> the consumer has seen the line
	closing  bool
	stopped  bool
}

func newPublisher(j *Journal, prefix string, maxBytes int) *publisher {
	p := &publisher{j: j, prefix: prefix, max: maxBytes, tips: tips{m: make(map[string]Tip)},
		rooms: make(map[string][]*outLine), busy: make(map[string]bool), inflight: make(map[string]bool)}
	p.cond = sync.NewCond(&p.mu)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for range publishWorkers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// refusal is why a line could not be queued now, or nil.
func (p *publisher) refusal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusalLocked(0)
}

// refusalLocked is why size more bytes cannot be queued, or nil. Called with mu held.
func (p *publisher) refusalLocked(size int) error {
	if !p.j.connected.Load() {
		return unavailable("NATS is disconnected")
	}
	if p.closing {
		return unavailable("the node is stopping")
	}
	if p.held+size > p.max {
		return unavailable("%d bytes are waiting for NATS (limit %d)", p.held, p.max)
	}
	return nil
}

// add queues ms, all or none, each under a Msg-Id of its own: <node>-<boot>-<n>,
// never the room and seq (a racing loser with the same id would be told "duplicate"
// and believe its line stored).
func (p *publisher) add(ms []store.Message) error {
	size := 0
	for i := range ms {
		size += lineBytes(&ms[i])
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.refusalLocked(size); err != nil {
		return err
	}
	for i := range ms {
		p.n++
		l := &outLine{m: ms[i], id: p.prefix + strconv.FormatUint(p.n, 10), size: lineBytes(&ms[i])}
		room := l.m.Room
		if len(p.rooms[room]) == 0 && !p.busy[room] {
			p.ready = append(p.ready, room)
			p.cond.Signal()
		}
		p.rooms[room] = append(p.rooms[room], l)
	}
	p.held += size
	p.lines += len(ms)
	return nil
}

func (p *publisher) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lines
}

// work appends rooms' head lines, a room at a time, until the publisher stops.
func (p *publisher) work() {
	defer p.wg.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.ready) == 0 && !p.stopped {
			p.cond.Wait()
		}
		if p.stopped {
			return
		}
		room := p.ready[0]
		p.ready = p.ready[1:]
		p.busy[room] = true
		l := p.rooms[room][0]
		p.inflight[l.id] = false
		p.mu.Unlock()
		stored := p.publish(l)
		p.mu.Lock()
		delete(p.inflight, l.id)
		delete(p.busy, room)
		if !stored { // stopped: the line stays counted as lost
			continue
		}
		p.rooms[room] = p.rooms[room][1:]
		p.held -= l.size
		p.lines--
		if len(p.rooms[room]) > 0 {
			p.ready = append(p.ready, room)
		} else {
			delete(p.rooms, room)
		}
		p.cond.Broadcast() // a worker may take the room; close may be waiting for an empty queue
	}
}

// publish appends l until it is in the stream, or the publisher stops (false). A
// lost race renumbers it at once. After an unclear failure (a timeout, NATS gone) the
// line may be stored already: before trying again the node catches up with the
// stream, and a line its consumer has seen meanwhile is done, not sent again
// ("catch up before you republish", docs/CLUSTER.md); within the 2-minute dedup
// window a retry would be harmless anyway.
func (p *publisher) publish(l *outLine) bool {
	data, err := encodeLine(&l.m)
	if err != nil { // nothing in a Message fails to encode; never retried
		p.j.log.Error("cluster line dropped", "room", l.m.Room, "err", err)
		return true
	}
	unclear := false
	backoff := retryMin
	for p.ctx.Err() == nil {
		err := errNotCaughtUp
		if seen, caughtUp := p.settled(l.id, unclear); seen {
			return true
		} else if caughtUp {
			err = p.appendOnce(l, data)
		}
		if err == nil {
			return true
		}
		if errors.Is(err, ErrStaleTip) {
			continue
		}
		unclear = true
		p.j.log.Debug("cluster append failed, retrying", "room", l.m.Room, "msg_id", l.id, "err", err)
		select {
		case <-p.ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, retryMax)
	}
	return false
}

// appendOnce appends l at the room's tip, loading the tip if it is not known; a
// failure forgets the tip, so the next try loads it again.
func (p *publisher) appendOnce(l *outLine, data []byte) error {
	ctx, cancel := p.attempt()
	defer cancel()
	room := l.m.Room
	tip, ok := p.tips.get(room)
	if !ok {
		var err error
		if tip, err = LoadTip(ctx, p.j.stream, room); err != nil {
			return err
		}
		p.tips.raise(room, tip, true)
	}
	next, err := AppendLine(ctx, p.j.js, room, tip, l.id, data)
	if err != nil {
		p.tips.forget(room, tip)
		return err
	}
	p.tips.raise(room, next, true)
	return nil
}

// attempt is the context of one request to NATS: it ends after publishTimeout, when
// the connection is lost (no answer can come then) or when the publisher stops.
func (p *publisher) attempt() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(p.ctx, publishTimeout)
	stop := context.AfterFunc(p.j.connEpoch(), cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// errNotCaughtUp: an unclear line waits for the node to catch up before a retry.
var errNotCaughtUp = errors.New("not caught up with the stream")

// settled, for a line whose last append was unclear, catches the node up with the
// stream and tells whether the consumer has seen the line meanwhile (it is stored)
// and whether it caught up (a retry is safe only then). A clear line is not seen
// and needs no catching up.
func (p *publisher) settled(id string, unclear bool) (seen, caughtUp bool) {
	if !unclear {
		return false, true
	}
	if !p.j.connected.Load() {
		return false, false
	}
	ctx, cancel := p.attempt()
	defer cancel()
	if err := p.j.WaitCaughtUp(ctx); err != nil {
		return false, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight[id], true
}

// consumed is the consumer's news of a line of the stream: its room's tip, if this
// node appends there, and whether it is a line being appended.
func (p *publisher) consumed(room string, tip Tip, id string) {
	p.tips.raise(room, tip, false)
	if !p.own(id) {
		return
	}
	p.mu.Lock()
	if _, ok := p.inflight[id]; ok {
		p.inflight[id] = true
	}
	p.mu.Unlock()
}

// own tells whether Msg-Id id is of a line this run of the node queued.
func (p *publisher) own(id string) bool { return strings.HasPrefix(id, p.prefix) }

// close stops taking lines, waits up to timeout for the queued ones to be appended,
// then stops the workers. It returns how many lines were left.
func (p *publisher) close(timeout time.Duration) int {
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	deadline := time.AfterFunc(timeout, func() { // stops the workers' retries, and the wait
		p.cancel()
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	p.mu.Lock()
	for p.lines > 0 && p.ctx.Err() == nil {
		p.cond.Wait()
	}
	p.stopped = true
	left := p.lines
	p.cond.Broadcast()
	p.mu.Unlock()
	deadline.Stop()
	p.cancel()
	p.wg.Wait()
	return left
}

// tips are the rooms' tips as this node last knew them. Only rooms the node appends
// to are kept: the consumer raises a known tip, so a node racing another learns the
// other's lines without a lost race each time, but adds no room.
type tips struct {
	mu sync.Mutex
	m  map[string]Tip
}

func (t *tips) get(room string) (Tip, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tip, ok := t.m[room]
	return tip, ok
}

// raise sets room's tip to tip if it is later than the known one; add: also if none
// is known.
func (t *tips) raise(room string, tip Tip, add bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, ok := t.m[room]
	if (ok && tip.StreamSeq > cur.StreamSeq) || (!ok && add) {
		t.m[room] = tip
	}
}

// forget drops room's tip if it is still stale, so the next append loads it.
func (t *tips) forget(room string, stale Tip) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[room] == stale {
		delete(t.m, room)
	}
}
