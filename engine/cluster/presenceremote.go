package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/chat"
)

// The presence link's owner side (presencelink.go has the publisher's): the other
// nodes' ticks, snapshots and comings and goings applied to the Remote table on the
// chat's owner, and the goroutines that watch the nodes bucket and ask for snapshots.

// StartPresence listens to the other nodes' ticks and to the nodes bucket; what they
// change is applied on the owner, through post.
func (l *presenceLink) StartPresence(h chat.PresenceHooks) {
	l.post, l.apply, l.hooks = h.Post, h.Apply, h
	l.remote.isLocal = h.IsLocal
	post := h.Post
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
	if err := l.startUsersPages(); err != nil {
		l.log.Error("users pages of big rooms list this node's members only", "err", err)
	}
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
	for _, rc := range t.Rooms {
		delete(l.sorted, rc.Room) // a member known already may come with new fields
	}
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
	l.snapshotStatuses(s)
	slices.SortFunc(held, func(a, b *Tick) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, t := range held {
		if t.Boot == s.Boot && t.Seq <= s.Seq {
			continue
		}
		l.onTick(t)
	}
}

// snapshotStatuses hands the chat the statuses of s's node's users: every member of
// its default room, with its status or none (the default).
func (l *presenceLink) snapshotStatuses(s *Snapshot) {
	members := s.Rooms[l.hooks.DefaultRoom]
	if l.hooks.Statuses == nil || len(members) == 0 {
		return
	}
	statuses := make([]chat.RemoteStatus, 0, len(members))
	for _, m := range members {
		st := chat.RemoteStatus{UserID: m.UserID}
		if f, ok := s.Statuses[m.UserID]; ok {
			st.Fields = unwrapStatus(f)
		}
		statuses = append(statuses, st)
	}
	l.hooks.Statuses(statuses)
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
				l.reconnectedAt.Store(time.Now().UnixNano())
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
			if gone && time.Since(time.Unix(0, l.reconnectedAt.Load())) < l.ttl {
				// Just after a nats-server restart the bucket is new and the other
				// nodes may not have reconnected yet: ask again once they could have.
				gone = false
				time.AfterFunc(l.ttl, func() {
					if l.ctx.Err() == nil { // not after the link stopped
						l.post(func() { l.needSnapshot(node) })
					}
				})
			}
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

func (l *presenceLink) RemoteRooms() []string { return l.remote.Rooms() }

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
	// Each userId once, and none that is a member here too (the chat lists it).
	ms = slices.CompactFunc(ms, func(a, b chat.RemoteMember) bool { return a.UserID == b.UserID })
	if l.remote.isLocal != nil {
		ms = slices.DeleteFunc(ms, func(m chat.RemoteMember) bool { return l.remote.isLocal(room, m.UserID) })
	}
	if len(ms) > 0 { // rooms without remote members are not kept
		l.sorted[room] = ms
	}
	return ms
}

func (l *presenceLink) RemoteNodeCounts(room string) []chat.NodeCount {
	return l.remote.NodeCounts(room)
}

// LocalMember counts a userId of a local join or leave once, and drops room's page
// cache when another node has that userId there too (RemoteMembers leaves it out
// while it is a member here).
func (l *presenceLink) LocalMember(room string, userID uint64, in bool) {
	if l.remote.LocalMember(room, userID, in) {
		delete(l.sorted, room)
	}
}

// The Journal is the chat's PresenceLink (the chat finds it by a type assertion).

func (j *Journal) StartPresence(h chat.PresenceHooks) { j.presence.StartPresence(h) }
func (j *Journal) PublishTick(rooms []chat.RoomPresence, all func() []chat.RoomPresence) {
	j.presence.PublishTick(rooms, all)
}
func (j *Journal) PublishStatus(userID uint64, fields []byte) {
	j.presence.PublishStatus(userID, fields)
}
func (j *Journal) LocalMember(room string, userID uint64, in bool) {
	j.presence.LocalMember(room, userID, in)
}
func (j *Journal) RemoteNodeCounts(room string) []chat.NodeCount {
	return j.presence.RemoteNodeCounts(room)
}
func (j *Journal) AskUsersPages(room string, spans []chat.PageSpan, done func([]chat.NodePage)) bool {
	return j.presence.AskUsersPages(room, spans, done)
}
func (j *Journal) RemoteCount(room string) int { return j.presence.RemoteCount(room) }
func (j *Journal) RemoteRooms() []string       { return j.presence.RemoteRooms() }
func (j *Journal) RemoteMembers(room string) []chat.RemoteMember {
	return j.presence.RemoteMembers(room)
}
func (j *Journal) RemoteFields(room string, userID uint64) ([]byte, bool) {
	return j.presence.RemoteFields(room, userID)
}

var _ chat.PresenceLink = (*Journal)(nil)
