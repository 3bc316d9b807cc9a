package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
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

	// The publisher goroutine's.
	seq   uint64
	local map[string]map[uint64]json.RawMessage

	// The chat owner's (set by StartPresence).
	post   func(func())
	apply  func([]chat.RoomPresence)
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

// snapshot is local as of the last tick sent (the publisher goroutine's).
func (l *presenceLink) snapshot() *Snapshot {
	s := &Snapshot{Node: l.node, Boot: l.boot, Seq: l.seq, Rooms: make(map[string][]Member, len(l.local))}
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

// The owner's side.

// StartPresence listens to the other nodes' ticks and to the nodes bucket; what they
// change is applied on the owner, through post.
func (l *presenceLink) StartPresence(post func(func()), apply func([]chat.RoomPresence)) {
	l.post, l.apply = post, apply
	sub, err := SubscribeTicks(l.nc, l.node, func(t *Tick) { post(func() { l.onTick(t) }) })
	if err != nil {
		l.log.Error("presence across nodes is off", "err", err)
		return
	}
	l.mu.Lock()
	l.subs = append(l.subs, sub)
	l.mu.Unlock()
	l.wg.Add(2)
	go l.watchLoop()
	go l.askLoop()
}

// onTick applies another node's tick, or holds it while that node's snapshot is on
// its way, or asks for one if the tick does not follow the last.
func (l *presenceLink) onTick(t *Tick) {
	if held, asking := l.asking[t.Node]; asking {
		if len(held) < maxHeldTicks {
			l.asking[t.Node] = append(held, t)
		}
		return
	}
	gone := l.departing(t)
	changes, err := l.remote.ApplyTick(t)
	if err != nil {
		l.needSnapshot(t.Node)
		if held, asking := l.asking[t.Node]; asking { // the tick may come after the snapshot
			l.asking[t.Node] = append(held, t)
		}
		return
	}
	l.deliver(changes, gone)
}

// departing is the fields of the members t takes out, read before it is applied.
func (l *presenceLink) departing(t *Tick) map[string]map[uint64]json.RawMessage {
	n := l.remote.nodes[t.Node]
	if n == nil {
		return nil
	}
	gone := make(map[string]map[uint64]json.RawMessage)
	for _, rc := range t.Rooms {
		for _, id := range slices.Concat(rc.Left, rc.Lost) {
			if f, ok := n.rooms[rc.Room][id]; ok {
				if gone[rc.Room] == nil {
					gone[rc.Room] = make(map[uint64]json.RawMessage)
				}
				gone[rc.Room][id] = f
			}
		}
	}
	return gone
}

// needSnapshot has the asker ask node for its snapshot, unless it is asking already.
func (l *presenceLink) needSnapshot(node string) {
	if _, asking := l.asking[node]; asking {
		return
	}
	select {
	case l.ask <- node:
		l.asking[node] = nil
	default: // the asker is busy: the node's next tick asks again
	}
}

// onSnapshot applies node's snapshot (nil: the request failed), then the ticks held
// meanwhile that come after it.
func (l *presenceLink) onSnapshot(node string, s *Snapshot) {
	held, asking := l.asking[node]
	delete(l.asking, node)
	if !asking || s == nil || s.Node != node {
		return // not asked any more (the node went meanwhile), or no answer
	}
	var gone map[string]map[uint64]json.RawMessage
	if old := l.remote.nodes[node]; old != nil {
		gone = old.rooms // ApplySnapshot replaces them, it does not change them
	}
	l.deliver(l.remote.ApplySnapshot(s), gone)
	slices.SortFunc(held, func(a, b *Tick) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, t := range held {
		if t.Boot == s.Boot && t.Seq <= s.Seq {
			continue
		}
		l.onTick(t)
	}
}

// onNode handles a node's arrival (its snapshot, if it is new here) or departure.
func (l *presenceLink) onNode(ev NodeEvent) {
	switch {
	case ev.Node == l.node:
	case ev.Alive:
		if l.remote.nodes[ev.Node] == nil {
			l.needSnapshot(ev.Node)
		}
	default:
		var gone map[string]map[uint64]json.RawMessage
		if n := l.remote.nodes[ev.Node]; n != nil {
			gone = n.rooms
		}
		delete(l.asking, ev.Node)
		if ev.Left {
			l.deliver(l.remote.NodeLeft(ev.Node), gone)
		} else {
			l.deliver(l.remote.NodeGone(ev.Node), gone)
		}
	}
}

// deliver hands changes to the chat, with the departed members' fields from gone.
func (l *presenceLink) deliver(changes []Change, gone map[string]map[uint64]json.RawMessage) {
	if len(changes) == 0 {
		return
	}
	out := make([]chat.RoomPresence, 0, len(changes))
	for _, c := range changes {
		delete(l.sorted, c.Room)
		p := chat.RoomPresence{Room: c.Room}
		for _, m := range c.Joined {
			p.Joined = append(p.Joined, chat.RemoteMember{UserID: m.UserID, Fields: unwrapFields(m.Fields)})
		}
		for _, id := range c.Left {
			p.Left = append(p.Left, departed(gone, c.Room, id))
		}
		for _, id := range c.Lost {
			p.Lost = append(p.Lost, departed(gone, c.Room, id))
		}
		out = append(out, p)
	}
	l.apply(out)
}

// departed is a member that left room, with its fields from gone (a bare userId if
// they are not there, so the seed's Disconnected still names it).
func departed(gone map[string]map[uint64]json.RawMessage, room string, id uint64) chat.RemoteMember {
	if f, ok := gone[room][id]; ok {
		return chat.RemoteMember{UserID: id, Fields: unwrapFields(f)}
	}
	return chat.RemoteMember{UserID: id, Fields: strconv.AppendUint([]byte(`"userId":`), id, 10)}
}

// watchLoop reports the nodes bucket's events to the owner. It watches again when
// the watch ends or the bucket was made again (NATS away, a nats-server restart), and
// after a reconnect has every known node asked for its snapshot: ticks sent meanwhile
// were lost, and a quiet node would not send another soon.
func (l *presenceLink) watchLoop() {
	defer l.wg.Done()
	check := time.NewTicker(max(l.ttl/3, 10*time.Millisecond))
	defer check.Stop()
	reconnects := l.nc.Stats().Reconnects
	for l.ctx.Err() == nil {
		ctx, cancel := context.WithCancel(l.ctx)
		events, err := WatchNodes(ctx, l.bucket())
		if err != nil {
			events = nil // watched again at the next check
		}
		l.watch(events, check.C, &reconnects)
		cancel()
	}
}

// watch forwards events until they end, the bucket is new, NATS reconnected, or
// (without events) the next check.
func (l *presenceLink) watch(events <-chan NodeEvent, check <-chan time.Time, reconnects *uint64) {
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.rewatch:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			l.post(func() { l.onNode(ev) })
		case <-check:
			if r := l.nc.Stats().Reconnects; r != *reconnects {
				*reconnects = r
				l.post(l.resyncAll)
				return // the bucket may be a new one (a nats-server restart)
			}
			if events == nil {
				return
			}
		}
	}
}

// resyncAll asks every known node for its snapshot (the owner's).
func (l *presenceLink) resyncAll() {
	for node := range l.remote.nodes {
		l.needSnapshot(node)
	}
}

// askLoop asks nodes for their snapshots, one at a time, and hands each answer (or
// nil) to the owner.
func (l *presenceLink) askLoop() {
	defer l.wg.Done()
	for {
		select {
		case <-l.ctx.Done():
			return
		case node := <-l.ask:
			ctx, cancel := context.WithTimeout(l.ctx, snapshotTimeout)
			s, err := RequestSnapshot(ctx, l.nc, node)
			gone := err != nil && l.gone(ctx, node, err)
			cancel()
			if err != nil {
				l.log.Debug("presence snapshot request failed", "node", node, "gone", gone, "err", err)
			}
			l.post(func() {
				l.onSnapshot(node, s)
				if gone {
					l.onNode(NodeEvent{Node: node})
				}
			})
		}
	}
}

// gone is whether node, which did not answer a snapshot request (err), is dead: no
// node listens on its subject and its key is not in the bucket. That catches a node
// that died while this one was away from NATS, whose key's expiry it never saw.
func (l *presenceLink) gone(ctx context.Context, node string, err error) bool {
	if !errors.Is(err, nats.ErrNoResponders) {
		return false
	}
	_, gerr := l.bucket().Get(ctx, node)
	return errors.Is(gerr, jetstream.ErrKeyNotFound)
}

// RemoteCount, RemoteMembers and RemoteFields read the Remote table (the owner's).

func (l *presenceLink) RemoteCount(room string) int { return l.remote.Count(room) }

func (l *presenceLink) RemoteFields(room string, userID uint64) ([]byte, bool) {
	f, ok := l.remote.Fields(room, userID)
	return unwrapFields(f), ok
}

func (l *presenceLink) RemoteMembers(room string) []chat.RemoteMember {
	if ms, ok := l.sorted[room]; ok {
		return ms
	}
	var ms []chat.RemoteMember
	for _, n := range l.remote.nodes {
		for id, f := range n.rooms[room] {
			ms = append(ms, chat.RemoteMember{UserID: id, Fields: unwrapFields(f)})
		}
	}
	slices.SortFunc(ms, func(a, b chat.RemoteMember) int { return cmp.Compare(a.UserID, b.UserID) })
	if len(ms) > 0 { // rooms without remote members are not kept
		l.sorted[room] = ms
	}
	return ms
}

// The Journal is the chat's PresenceLink (the chat finds it by a type assertion).

func (j *Journal) StartPresence(post func(func()), apply func([]chat.RoomPresence)) {
	j.presence.StartPresence(post, apply)
}
func (j *Journal) PublishTick(rooms []chat.RoomPresence, all func() []chat.RoomPresence) {
	j.presence.PublishTick(rooms, all)
}
func (j *Journal) RemoteCount(room string) int { return j.presence.RemoteCount(room) }
func (j *Journal) RemoteMembers(room string) []chat.RemoteMember {
	return j.presence.RemoteMembers(room)
}
func (j *Journal) RemoteFields(room string, userID uint64) ([]byte, bool) {
	return j.presence.RemoteFields(room, userID)
}

var _ chat.PresenceLink = (*Journal)(nil)
