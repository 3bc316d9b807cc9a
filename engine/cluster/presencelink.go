package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/chat"
)

// The presence link (docs/CLUSTER.md, "Presence across nodes") is the Journal's side
// of chat.PresenceLink. Three kinds of state, each with one owner, so the chat's owner
// never waits on NATS:
//   - the chat's owner: the Remote table of the other nodes' members, which ticks,
//     snapshots and node departures change only inside funcs handed to Worker.Post;
//   - the publisher goroutine: this node's own members as its ticks say (local), from
//     which it answers snapshot requests, and the tick seq;
//   - between them, under mu, the queue of ticks the owner handed over.
//
// Other goroutines beat on the nodes bucket every ttl/3, watch it (a node whose key
// expired: its users are lost here; one that left: they left) and ask nodes for
// snapshots (a gap in a node's ticks, a new node).

const (
	// maxQueuedMembers bounds the members in ticks waiting for the publisher. Past
	// it the queue is replaced by this node's whole membership (a resync), so the
	// bound costs a snapshot request of the other nodes, never a wrong table.
	maxQueuedMembers = 1 << 16
	// maxHeldTicks bounds a node's ticks held while its snapshot is on its way.
	maxHeldTicks = 64
	// snapshotTimeout bounds a snapshot request and its answer.
	snapshotTimeout = 2 * time.Second
	// maxAsking bounds the snapshot requests waiting for the asker goroutine.
	maxAsking = 64
)

// queuedTick is one tick for the publisher; full: rooms is the whole local
// membership, which replaces the publisher's table (a resync after an overflow).
type queuedTick struct {
	rooms []chat.RoomPresence
	full  bool
}

type presenceLink struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	node     string
	boot     int64
	ttl      time.Duration
	replicas int
	log      *slog.Logger
	rewatch  chan struct{} // cap 1: the nodes bucket was made again, watch it anew
	// reconnectedAt is when the watch last saw NATS reconnect (unix nanoseconds): for a
	// ttl after it, a node with no key and no responder may only be slower to come back.
	reconnectedAt atomic.Int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	kv      jetstream.KeyValue // the nodes bucket (bucket)
	queue   []queuedTick
	members int // in queue
	subs    []*nats.Subscription
	wake    chan struct{}       // cap 1: the queue has ticks
	snaps   chan chan *Snapshot // snapshot requests for the publisher goroutine
	// statusQueue is the local users' statuses changed since the publisher last
	// looked (nil: none any more), one entry per user, so it is bounded by them.
	statusQueue map[uint64]json.RawMessage

	// The publisher goroutine's.
	seq      uint64
	local    map[string]map[uint64]json.RawMessage
	statuses map[uint64]json.RawMessage // this node's users' statuses, for snapshots

	pages *usersPages // the Users pages of big rooms (userspages.go), from StartPresence

	// The chat owner's (set by StartPresence).
	post   func(func())
	apply  func([]chat.RoomPresence)
	hooks  chat.PresenceHooks
	remote *Remote
	sorted map[string][]chat.RemoteMember // RemoteMembers' answers, until the room changes
	asking map[string][]*Tick             // nodes whose snapshot is on its way: their ticks meanwhile
	ask    chan string
}

// newPresenceLink starts beating and serving this node's snapshots; StartPresence
// (the chat, once its owner runs) starts listening to the other nodes.
func newPresenceLink(ctx context.Context, j *Journal, ttl time.Duration, replicas int) (*presenceLink, error) {
	kv, err := j.js.KeyValue(ctx, nodesBucket)
	if err != nil {
		return nil, err
	}
	l := &presenceLink{nc: j.nc, js: j.js, kv: kv, node: j.node, boot: time.Now().UnixNano(), ttl: ttl, replicas: replicas, log: j.log,
		wake: make(chan struct{}, 1), snaps: make(chan chan *Snapshot), rewatch: make(chan struct{}, 1),
		local: make(map[string]map[uint64]json.RawMessage), remote: NewRemote(),
		statusQueue: make(map[uint64]json.RawMessage), statuses: make(map[uint64]json.RawMessage),
		sorted: make(map[string][]chat.RemoteMember), asking: make(map[string][]*Tick), ask: make(chan string, maxAsking)}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	sub, err := ServeSnapshots(l.nc, l.node, l.serveSnapshot)
	if err != nil {
		l.cancel()
		return nil, err
	}
	l.subs = append(l.subs, sub)
	l.wg.Add(2)
	go l.publishLoop()
	go l.beatLoop()
	return l, nil
}

// PublishTick queues one tick of this node's changes (the chat's owner; never blocks).
func (l *presenceLink) PublishTick(rooms []chat.RoomPresence, all func() []chat.RoomPresence) {
	n := 0
	for _, r := range rooms {
		n += len(r.Joined) + len(r.Left) + len(r.Lost)
	}
	l.mu.Lock()
	resync := l.members+n > maxQueuedMembers
	if resync {
		// The publisher is far behind (NATS stuck): the queue becomes the whole
		// membership as of now, which includes this tick.
		l.queue, l.members = []queuedTick{{rooms: all(), full: true}}, 0
	} else {
		l.queue = append(l.queue, queuedTick{rooms: rooms})
		l.members += n
	}
	l.mu.Unlock()
	if resync {
		l.log.Warn("presence ticks queue full: resyncing", "node", l.node)
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// publishLoop publishes the queued ticks and answers snapshot requests from local.
func (l *presenceLink) publishLoop() {
	defer l.wg.Done()
	for {
		select {
		case <-l.ctx.Done():
			return
		case reply := <-l.snaps:
			reply <- l.snapshot()
		case <-l.wake:
			l.mu.Lock()
			queue := l.queue
			l.queue, l.members = nil, 0
			l.takeStatuses()
			l.mu.Unlock()
			for _, q := range queue {
				l.publish(q)
			}
		}
	}
}

// publish applies q to local and sends it as the next tick. A resync is not sent:
// its seq is skipped, so the others see a gap and ask for the snapshot.
func (l *presenceLink) publish(q queuedTick) {
	l.seq++
	if q.full {
		clear(l.local)
		l.seq++
	}
	t := &Tick{Node: l.node, Boot: l.boot, Seq: l.seq, Rooms: make([]RoomChange, 0, len(q.rooms))}
	for _, r := range q.rooms {
		members := l.local[r.Room]
		if members == nil {
			members = make(map[uint64]json.RawMessage, len(r.Joined))
			l.local[r.Room] = members
		}
		rc := RoomChange{Room: r.Room, Count: r.Count}
		for _, m := range r.Joined {
			f := wrapFields(m.Fields)
			members[m.UserID] = f
			rc.Joined = append(rc.Joined, Member{UserID: m.UserID, Fields: f})
		}
		for _, m := range r.Left {
			delete(members, m.UserID)
			rc.Left = append(rc.Left, m.UserID)
		}
		for _, m := range r.Lost {
			delete(members, m.UserID)
			rc.Lost = append(rc.Lost, m.UserID)
		}
		if len(members) == 0 {
			delete(l.local, r.Room)
		}
		t.Rooms = append(t.Rooms, rc)
	}
	if q.full {
		return
	}
	if err := PublishTick(l.nc, t); err != nil {
		l.log.Debug("presence tick not sent: the others will ask for a snapshot", "seq", t.Seq, "err", err)
	}
}

// wrapFields makes the chat's encoded fields ("userId":1,…) a JSON object, which a
// Member's Fields must be; unwrapFields undoes it without a copy.
func wrapFields(f []byte) json.RawMessage {
	b := make([]byte, 0, len(f)+2)
	b = append(b, '{')
	b = append(b, f...)
	return append(b, '}')
}

func unwrapFields(f json.RawMessage) []byte {
	if len(f) < 2 {
		return nil
	}
	return f[1 : len(f)-1]
}

// PublishStatus queues a local user's status for the snapshots (the chat's owner;
// never blocks).
func (l *presenceLink) PublishStatus(userID uint64, fields []byte) {
	var f json.RawMessage
	if fields != nil {
		f = wrapStatus(fields)
	}
	l.mu.Lock()
	l.statusQueue[userID] = f
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// takeStatuses moves the queued statuses into the publisher's (under mu).
func (l *presenceLink) takeStatuses() {
	if len(l.statusQueue) == 0 {
		return
	}
	for id, f := range l.statusQueue {
		if f == nil {
			delete(l.statuses, id)
		} else {
			l.statuses[id] = f
		}
	}
	l.statusQueue = make(map[uint64]json.RawMessage) // a cleared map would keep its size
}

// snapshot is local as of the last tick sent (the publisher goroutine's).
func (l *presenceLink) snapshot() *Snapshot {
	s := &Snapshot{Node: l.node, Boot: l.boot, Seq: l.seq, Rooms: make(map[string][]Member, len(l.local)),
		Statuses: maps.Clone(l.statuses)}
	for room, members := range l.local {
		ms := make([]Member, 0, len(members))
		for id, f := range members {
			ms = append(ms, Member{UserID: id, Fields: f})
		}
		s.Rooms[room] = ms
	}
	return s
}

// serveSnapshot asks the publisher goroutine for the snapshot (on nats.go's goroutine).
func (l *presenceLink) serveSnapshot() *Snapshot {
	reply := make(chan *Snapshot, 1)
	ctx, cancel := context.WithTimeout(l.ctx, snapshotTimeout)
	defer cancel()
	select {
	case l.snaps <- reply:
		return <-reply
	case <-ctx.Done():
		return nil // answered "null": the asker asks again at the next gap
	}
}

// beatLoop puts this node's key every ttl/3, so it outlives no beat by more than ttl.
func (l *presenceLink) beatLoop() {
	defer l.wg.Done()
	every := max(l.ttl/3, 10*time.Millisecond)
	for {
		l.beat(every)
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// beat puts this node's key. A nats-server restart loses the nodes bucket (memory
// storage): a failed beat makes it again, and has the watcher watch the new one.
func (l *presenceLink) beat(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(l.ctx, timeout)
	defer cancel()
	err := Beat(ctx, l.bucket(), l.node, nil)
	if err == nil || l.ctx.Err() != nil {
		return
	}
	// The put waited out ctx for a stream that is not there: a fresh one to make it.
	ctx, cancel = context.WithTimeout(l.ctx, snapshotTimeout)
	defer cancel()
	kv, cerr := l.js.CreateOrUpdateKeyValue(ctx, NodesConfig(l.ttl, l.replicas))
	if cerr != nil {
		l.log.Debug("node beat failed", "node", l.node, "err", err, "bucket", cerr)
		return
	}
	l.mu.Lock()
	l.kv = kv
	l.mu.Unlock()
	select {
	case l.rewatch <- struct{}{}:
	default:
	}
	if err := Beat(ctx, kv, l.node, nil); err != nil {
		l.log.Debug("node beat failed", "node", l.node, "err", err)
	}
}

// bucket is the nodes bucket as last opened.
func (l *presenceLink) bucket() jetstream.KeyValue {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kv
}

// close stops the goroutines and, if NATS is there, deletes this node's key (Leave),
// so the others see its users leave at once rather than lost after the ttl.
func (l *presenceLink) close(connected bool) {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	for _, s := range l.subs {
		_ = s.Unsubscribe()
	}
	l.subs = nil
	l.mu.Unlock()
	if !connected {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	if err := Leave(ctx, l.bucket(), l.node); err != nil {
		l.log.Warn("node leave failed: the others will see its users lost after the ttl", "node", l.node, "err", err)
	}
}
