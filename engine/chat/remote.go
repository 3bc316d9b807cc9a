package chat

import (
	"github.com/chatd/chatd/protocol"
)

// Presence across nodes (docs/CLUSTER.md, "Presence across nodes"). A cluster node's
// journal is also a PresenceLink: each compact tick the chat hands it the tick's net
// local changes per room, and the link hands back, on the owner, the changes the
// other nodes sent. Remote changes go down the same path as local ones (seed
// Connected/Disconnected/ConnectionLost at once, compact Presence at the next tick),
// and counts are local + remote. A remote member is never a connection here: it is in
// no room's members and not in Chat.users, so nothing is ever sent to it or removed
// because of it, even if its userId collided with a local one.

// RemoteMember is a user in a room: its userId and its fields as
// protocol.AppendUserFields encoded them on its own node.
type RemoteMember struct {
	UserID uint64
	Fields []byte
}

// RoomPresence is one room's net presence change of one tick. Going out (PublishTick)
// it is this node's change and Count its local members after it, and Left and Lost
// need only the userIds; coming in (the link's apply) it is what another node's
// members changed here, with the departed members' fields for the seed's
// Disconnected and ConnectionLost, and Count unused.
type RoomPresence struct {
	Room   string
	Count  int
	Joined []RemoteMember
	Left   []RemoteMember
	Lost   []RemoteMember
}

// PresenceLink is a cluster node's presence exchange with the other nodes
// (engine/cluster implements it). The chat never waits on it: PublishTick,
// PublishStatus and AskUsersPages only queue, and every other method is called on the
// owner and reads the link's owner-side table of remote members.
type PresenceLink interface {
	// StartPresence starts the exchange once the worker runs: from then on the link
	// calls the hooks only inside funcs it hands to h.Post (Worker.Post), so on the
	// owner.
	StartPresence(h PresenceHooks)
	// PublishTick queues this node's net changes of one tick for the other nodes.
	// It never blocks. all is this node's whole membership now, which the link asks
	// for (on the owner, within the call) only if it must resync.
	PublishTick(rooms []RoomPresence, all func() []RoomPresence)
	// PublishStatus queues a local user's status fields (nil: it has none any more)
	// for this node's snapshots. It never blocks.
	PublishStatus(userID uint64, fields []byte)
	// LocalMember tells the link that userID joined (in) or left room here, as it
	// happens, so a userId also on another node counts once.
	LocalMember(room string, userID uint64, in bool)
	// RemoteCount is how many members room has on the other nodes that are not
	// members here (each userId once).
	RemoteCount(room string) int
	// RemoteMembers is room's members on the other nodes that are not members here,
	// by userId, each once; the caller must not modify it.
	RemoteMembers(room string) []RemoteMember
	// RemoteFields is the fields of userID in room on another node, if it is there.
	RemoteFields(room string, userID uint64) ([]byte, bool)
	// RemoteRooms is every room with members on other nodes, in no order.
	RemoteRooms() []string
	// RemoteNodeCounts is room's members on each other node that has some, by node
	// name (remotepages.go).
	RemoteNodeCounts(room string) []NodeCount
	// AskUsersPages asks each span's node in turn, off the owner, for its members,
	// and hands the answers to done on the owner; false: too many asks are in flight
	// on this node (done is never called then).
	AskUsersPages(room string, spans []PageSpan, done func([]NodePage)) bool
}

// PresenceHooks are what the link calls on the owner.
type PresenceHooks struct {
	Post  func(func())
	Apply func([]RoomPresence)
	// Statuses gets the statuses of a node's snapshot, for every user of its default
	// room (nil fields: the default).
	Statuses func([]RemoteStatus)
	// IsLocal is whether userID is a member of room here now.
	IsLocal func(room string, userID uint64) bool
	// LocalPage is this node's members of room from offset, at most limit, for
	// another node's Users page.
	LocalPage func(room string, offset, limit int) NodePage
	// DefaultRoom is the room every user is in, whose members' statuses snapshots carry.
	DefaultRoom string
}

// RemoteStatus is a user's status fields (AppendStatusFields; nil: the default).
type RemoteStatus struct {
	UserID uint64
	Fields []byte
}

// count is r's members on every node.
func (ch *Chat) count(r *room) int {
	if ch.link == nil {
		return len(r.members)
	}
	return len(r.members) + ch.link.RemoteCount(r.id)
}

// startPresence starts the link, if the journal is one.
func (ch *Chat) startPresence(post func(func())) {
	if ch.link != nil {
		ch.link.StartPresence(PresenceHooks{Post: post, Apply: ch.remotePresence, Statuses: ch.snapshotStatuses,
			IsLocal: ch.isLocalMember, LocalPage: ch.localPage, DefaultRoom: ch.defaultRoom.id})
	}
	if ch.sig != nil {
		ch.sig.StartSignals(post, ch.applySignal)
	}
}

// localTick appends r's net local changes of the tick (remote ones are the other
// nodes' to send) to rooms, for the link.
func (ch *Chat) localTick(rooms []RoomPresence, r *room) []RoomPresence {
	if ch.link == nil || len(r.changes) == 0 {
		return rooms
	}
	p := RoomPresence{Room: r.id, Count: len(r.members)}
	for id, c := range r.changes {
		switch {
		case c.is && !c.was:
			p.Joined = append(p.Joined, RemoteMember{UserID: id, Fields: c.fields})
		case !c.is && c.was && c.lost:
			p.Lost = append(p.Lost, RemoteMember{UserID: id})
		case !c.is && c.was:
			p.Left = append(p.Left, RemoteMember{UserID: id})
		}
	}
	if len(p.Joined)+len(p.Left)+len(p.Lost) == 0 {
		return rooms
	}
	return append(rooms, p)
}

// localMembership is every local member of every room, for the link's resync.
func (ch *Chat) localMembership() []RoomPresence {
	rooms := make([]RoomPresence, 0, len(ch.rooms))
	for _, r := range ch.rooms {
		p := RoomPresence{Room: r.id, Count: len(r.members), Joined: make([]RemoteMember, 0, len(r.members))}
		for _, m := range r.members {
			p.Joined = append(p.Joined, RemoteMember{UserID: m.info.ID, Fields: m.encodedOnce()})
		}
		rooms = append(rooms, p)
	}
	return rooms
}

// remotePresence announces what the other nodes' members changed, as joined and left
// do for local ones. A room with no local member has nobody to tell: its count is
// read from the link when asked.
func (ch *Chat) remotePresence(changes []RoomPresence) {
	ch.roomsChanged()
	for _, c := range changes {
		r := ch.rooms[c.Room]
		if r == nil {
			continue
		}
		for _, m := range c.Joined {
			if r.isDefault {
				ch.sendSeedPresence(r, protocol.AppendUserEvent(ch.payload[:0], protocol.ActionConnected, m.Fields))
			} else {
				ch.sendSeedPresence(r, ch.presenceNow(r, protocol.PresenceRoom{Joined: [][]byte{m.Fields}}))
			}
			ch.noteRemote(r, m, true, false)
		}
		ch.remoteDeparted(r, c.Left, false)
		ch.remoteDeparted(r, c.Lost, true)
	}
}

// remoteDeparted announces remote members who left r (lost: their node died).
func (ch *Chat) remoteDeparted(r *room, ms []RemoteMember, lost bool) {
	for _, m := range ms {
		if r.isDefault {
			delete(ch.remoteStatuses, m.UserID) // gone from its node: its status with it
		}
		switch {
		case r.isDefault && lost:
			ch.sendSeedPresence(r, protocol.AppendUserEvent(ch.payload[:0], protocol.ActionConnectionLost, m.Fields))
		case r.isDefault:
			ch.sendSeedPresence(r, protocol.AppendUserEvent(ch.payload[:0], protocol.ActionDisconnected, m.Fields))
		case lost:
			ch.sendSeedPresence(r, ch.presenceNow(r, protocol.PresenceRoom{Lost: []uint64{m.UserID}}))
		default:
			ch.sendSeedPresence(r, ch.presenceNow(r, protocol.PresenceRoom{Left: []uint64{m.UserID}}))
		}
		ch.noteRemote(r, m, false, lost)
	}
}

// noteRemote is noteChange for a remote member: kept apart from the local changes,
// so a colliding userId never merges with a local user's change (nor goes out in
// this node's tick).
func (ch *Chat) noteRemote(r *room, m RemoteMember, is, lost bool) {
	if !r.pending() {
		ch.dirty = append(ch.dirty, r)
	}
	if r.remote == nil {
		r.remote = make(map[uint64]*change)
	}
	c := r.remote[m.UserID]
	if c == nil {
		c = &change{fields: m.Fields, was: !is}
		r.remote[m.UserID] = c
	}
	c.is, c.lost = is, lost
}

// remotePage adds the other nodes' members to p, a page of r from offset of at most
// limit users whose local members are in already: they come after the local ones, by
// userId. Above --presence-full-limit the table's members are not listed: a Users page
// there asks the nodes (remotepages.go), and a first page (RoomJoined, Authorized) is
// the local members, with more set if the other nodes have members after them.
func (ch *Chat) remotePage(r *room, p *protocol.MemberPage, offset, limit int) {
	if ch.link == nil {
		return
	}
	if p.Count > ch.cfg.PresenceFullLimit {
		p.More = p.More || offset+len(p.Users) < ch.listed(r)
		return
	}
	remote := ch.link.RemoteMembers(r.id)
	start := min(max(0, offset-len(r.members)), len(remote))
	end := min(len(remote), start+max(0, limit-len(p.Users)))
	for _, m := range remote[start:end] {
		p.Users = append(p.Users, m.Fields)
		p.Statuses = append(p.Statuses, ch.remoteStatusFields(m.UserID))
	}
	p.More = p.More || end < len(remote)
}

// listed is how many members r's pages list: every node's, each userId once, or
// above --presence-full-limit the sum of every node's own (pagedByNodes).
func (ch *Chat) listed(r *room) int {
	if !ch.pagedByNodes(r) {
		return ch.count(r)
	}
	n := len(r.members)
	for _, c := range ch.link.RemoteNodeCounts(r.id) {
		n += c.Count
	}
	return n
}

// remoteUser is u's entry for Users userIds when id is a member of r on another node.
func (ch *Chat) remoteUser(r *room, id uint64, p *protocol.MemberPage) {
	if ch.link == nil {
		return
	}
	if f, ok := ch.link.RemoteFields(r.id, id); ok {
		p.Users = append(p.Users, f)
		p.Statuses = append(p.Statuses, ch.remoteStatusFields(id))
	}
}

// seedRoster is the seed's Authorized roster: the default room's local members
// (defaultRoster, cached) and then the other nodes'.
func (ch *Chat) seedRoster() []byte {
	roster := ch.defaultRoster()
	if ch.link == nil {
		return roster
	}
	remote := ch.link.RemoteMembers(ch.defaultRoom.id)
	if len(remote) == 0 {
		return roster
	}
	b := make([]byte, len(roster), len(roster)+len(remote)*64)
	copy(b, roster) // the cache stays the local members' only
	for _, m := range remote {
		b = protocol.AppendRosterEntry(b, m.Fields)
	}
	return b
}

// noteLocal tells the link of a local join (in) or leave of userID in r, so a userId
// also on another node counts once.
func (ch *Chat) noteLocal(r *room, userID uint64, in bool) {
	if ch.link != nil {
		ch.link.LocalMember(r.id, userID, in)
	}
}

// isLocalMember is whether userID is a member of roomID here (its first device is).
func (ch *Chat) isLocalMember(roomID string, userID uint64) bool {
	u := ch.users[userID]
	if u == nil {
		return false
	}
	ms := u.rooms.get(roomID)
	return ms != nil && ms.public
}
