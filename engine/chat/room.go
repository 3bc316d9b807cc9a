package chat

import (
	"bytes"
	"slices"

	"github.com/chatd/chatd/protocol"
)

// room is a public room with at least one member (the default room always exists).
// Rooms are created on first join and dropped when the last member leaves; their seq
// counters live on in Chat.streams.
type room struct {
	id        string
	isDefault bool
	members   []*user // join order
	rank      int     // index in Chat.dir (not for the default room)

	changes map[uint64]*change // compact presence gathered for the next tick
	remote  map[uint64]*change // the same for the other nodes' members (remote.go)
}

// pending is whether r has presence changes waiting for the tick (it is in Chat.dirty).
func (r *room) pending() bool { return r.changes != nil || r.remote != nil }

// membership is a user's place in one room or in its inbox: what it was sent, what it
// acknowledged, and whether a replay from the history is still running.
type membership struct {
	room string

	delivered uint64    // highest seq written to the connection
	syncUpto  uint64    // the replay's current end
	acks      *ackState // ack=1 only (acksOf): most clients never acknowledge

	public  bool // a room, not the user's inbox
	syncing bool // a replay is running: live messages come from the history instead
	waitAck bool // the replay paused until the client acknowledges more
	limited bool // the replay may skip to the newest maxReplay messages (no acks)
}

// ackState is what an ack=1 client's membership tracks besides the seqs: kept apart,
// since the others do not need it, and two memberships a user cost 160 bytes with it.
type ackState struct {
	acked    uint64       // highest contiguous seq the client acknowledged
	unacked  []unackedMsg // seq > acked, ascending
	resendAt int64        // unix ns: when unacked is next resent
}

// acksOf is ms's ack state, made on first use.
func (ms *membership) acksOf() *ackState {
	if ms.acks == nil {
		ms.acks = &ackState{}
	}
	return ms.acks
}

// unackedLen is how many messages of ms wait for an Ack.
func (ms *membership) unackedLen() int {
	if ms.acks == nil {
		return 0
	}
	return len(ms.acks.unacked)
}

type unackedMsg struct {
	seq   uint64
	frame []byte
}

// join puts u into the room roomID (created if new) and answers RoomJoined, or sends
// an Error and returns nil.
func (ch *Chat) join(u *user, roomID string) *membership {
	if ms := u.rooms.get(roomID); ms != nil {
		// Joining again only repeats the answer: the client may have lost track.
		u.conn.SendText(protocol.AppendMemberPage(nil, protocol.ActionRoomJoined, ch.memberPage(ch.rooms[roomID], 0, ch.pageSize(u))))
		return nil
	}
	if int(u.joined) >= ch.cfg.MaxRoomsPerUser {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeTooManyRooms, Message: "already in the maximum number of rooms; leave one first"})
		return nil
	}
	// A further device of an account follows the account into a room it is in
	// (devices.go): the room's members and presence do not change.
	member := u
	if first := ch.users[u.info.ID]; first != nil {
		member = first
	}
	r := ch.rooms[roomID]
	already := member != u && member.rooms.get(roomID) != nil
	if !already && !ch.addMember(u, member, r, roomID) {
		return nil
	}
	r = ch.rooms[roomID]
	ms := &membership{room: roomID, public: true}
	u.rooms.add(ms)
	u.joined++
	page := ch.memberPage(r, 0, ch.pageSize(u))
	page.Unread = ch.unread(u, roomID) // an account's lines waiting since it was last here
	ch.seeRoom(u, roomID)
	u.conn.SendText(protocol.AppendMemberPage(nil, protocol.ActionRoomJoined, page))
	if !already {
		ch.joined(r, member)
	}
	return ms
}

// addMember puts member (the user u is a device of, or u) into the room roomID,
// made if new; r is the room or nil. A full room answers u room_full.
func (ch *Chat) addMember(u, member *user, r *room, roomID string) bool {
	if r == nil {
		r = &room{id: roomID}
		ch.rooms[roomID] = r
		ch.dir.add(r)
		ch.roomsChanged()
	} else if len(r.members) >= ch.cfg.MaxRoomMembers {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeRoomFull, Message: "room " + quote(roomID) + " is full"})
		return false
	}
	r.members = append(r.members, member)
	if !r.isDefault { // everyone is in it: it is listed first, not in the directory
		ch.dir.grew(r)
	}
	return true
}

// leave takes u out of r and tells the room; the caller drops r from u.rooms.
func (ch *Chat) leave(u *user, r *room, lost bool) {
	i := slices.Index(r.members, u)
	if i < 0 {
		return
	}
	r.members = slices.Delete(r.members, i, i+1)
	if r.isDefault {
		ch.rosterN = -1 // stale: defaultRoster rebuilds it
	} else {
		u.joined--
		ch.dir.shrank(r)
	}
	ch.left(r, u, lost)
	if len(r.members) == 0 && !r.isDefault && !r.pending() {
		ch.dropRoom(r)
	}
}

// dropRoom forgets r, which has no members left (its seqs live on in Chat.streams).
func (ch *Chat) dropRoom(r *room) {
	delete(ch.rooms, r.id)
	ch.dir.drop(r)
	ch.roomsChanged()
}

func (ch *Chat) handleJoin(u *user, in *protocol.Inbound) {
	if !protocol.ValidRoomID(in.RoomID) {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBadRoomID, Message: "roomId must be 1-64 characters of A-Z a-z 0-9 _ - ."})
		return
	}
	if ms := ch.join(u, in.RoomID); ms != nil {
		ch.keepAccountRoom(u, in.RoomID, true)
		ch.startSync(u, ms, since{}, in.RoomID)
		ch.joinOtherDevices(u, in.RoomID)
	}
}

func (ch *Chat) handleLeave(u *user, in *protocol.Inbound) {
	r, ms := ch.memberOf(u, in.RoomID)
	if ms == nil {
		return
	}
	if r.isDefault {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeDefaultRoom, Message: "the default room cannot be left"})
		return
	}
	devices := ch.devicesOf(u) // the account's rooms are left on all its devices
	for _, d := range devices[1:] {
		if d.rooms.get(r.id) != nil {
			d.rooms.remove(r.id)
			d.joined--
		}
	}
	devices[0].rooms.remove(r.id)
	ch.leave(devices[0], r, false)
	ch.keepAccountRoom(u, r.id, false)
	for _, d := range devices {
		d.conn.SendText(protocol.AppendRoomLeft(nil, r.id))
	}
}

// memberOf finds the public room roomID ("" is the default room) that u is in, or
// answers an Error and returns nils.
func (ch *Chat) memberOf(u *user, roomID string) (*room, *membership) {
	if roomID == "" {
		roomID = ch.defaultRoom.id
	}
	if !protocol.ValidRoomID(roomID) {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBadRoomID, Message: "roomId must be 1-64 characters of A-Z a-z 0-9 _ - ."})
		return nil, nil
	}
	ms := u.rooms.get(roomID)
	if ms == nil || !ms.public {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeNotInRoom, Message: "not in room " + quote(roomID) + "; JoinRoom first"})
		return nil, nil
	}
	return ch.rooms[roomID], ms
}

// Rooms pages: plain {"action":"Rooms"} gets the first roomsPage rooms, as before
// paging came (when it listed up to 1000); limit may ask for up to maxRoomsPage.
const (
	roomsPage    = 100
	maxRoomsPage = 1000
)

// handleRooms answers one page of the rooms with members, busiest first: the default
// room (everyone is in it) and then the directory, which is kept sorted, so the answer
// costs its page whatever the number of rooms.
func (ch *Chat) handleRooms(u *user, in *protocol.Inbound) {
	u.conn.SendText(protocol.AppendRooms(nil, ch.roomsPage(u, in.Offset, in.Limit)))
}

// roomsPage is the page of Rooms from offset, at most limit rooms (0: roomsPage).
func (ch *Chat) roomsPage(u *user, offset, limit uint64) protocol.RoomsPage {
	if limit == 0 {
		limit = roomsPage
	}
	remote := ch.remoteOnlyRooms()
	local := 1 + ch.dir.listed()
	p := protocol.RoomsPage{Total: local + len(remote)}
	p.Offset = int(min(offset, uint64(p.Total)))
	end := min(p.Total, p.Offset+int(min(limit, maxRoomsPage)))
	p.Rooms = make([]protocol.RoomCount, 0, end-p.Offset)
	for i := p.Offset; i < end; i++ {
		if i >= local { // on other nodes only: nobody here is a member
			id := remote[i-local]
			p.Rooms = append(p.Rooms, protocol.RoomCount{RoomID: id, Count: ch.link.RemoteCount(id), Unread: protocol.NoUnread})
			continue
		}
		r := ch.defaultRoom
		if i > 0 {
			r = ch.dir.order[i-1]
		}
		unread := protocol.NoUnread
		if u.rooms.get(r.id) != nil {
			unread = ch.unread(u, r.id) // anonymous users: NoUnread still
		}
		p.Rooms = append(p.Rooms, protocol.RoomCount{RoomID: r.id, Count: ch.count(r), Unread: unread})
	}
	p.More = end < p.Total
	return p
}

// maxWatch bounds the users one client may ask about with Users userIds.
const maxWatch = 1000

func (ch *Chat) handleUsers(u *user, in *protocol.Inbound, data []byte) {
	r, ms := ch.memberOf(u, in.RoomID)
	if ms == nil {
		return
	}
	if bytes.Contains(data, []byte(`"userIds"`)) {
		ids, err := protocol.DecodeUserIDs(data)
		if err != nil {
			ch.sendError(u, err)
			return
		}
		if len(ids) > 0 {
			ch.usersByID(u, r, ids)
			return
		}
	}
	limit := int(min(in.Limit, membersPage))
	if limit == 0 {
		limit = membersPage
	}
	offset := int(min(in.Offset, uint64(ch.listed(r))))
	if ch.pagedByNodes(r) {
		ch.usersFromNodes(u, r, offset, limit) // a big cluster room: the nodes answer (remotepages.go)
		return
	}
	u.conn.SendText(protocol.AppendMemberPage(nil, protocol.ActionUsers, ch.memberPage(r, offset, limit)))
}

// usersByID answers Users with userIds: those of them in r now (at most a page), and
// from now on u's Presence carries their changes even when r is above
// --presence-full-limit.
func (ch *Chat) usersByID(u *user, r *room, ids []uint64) {
	p := protocol.MemberPage{RoomID: r.id, Count: ch.count(r)}
	for _, id := range ids[:min(len(ids), membersPage)] {
		if u.watch == nil {
			u.watch = make(map[uint64]struct{})
		}
		if len(u.watch) < maxWatch {
			u.watch[id] = struct{}{}
		}
		if o := ch.users[id]; o != nil && o.rooms.get(r.id) != nil {
			p.Users = append(p.Users, o.encoded())
			p.Statuses = append(p.Statuses, ch.statusFields(o))
		} else {
			ch.remoteUser(r, id, &p)
		}
	}
	u.conn.SendText(protocol.AppendMemberPage(nil, protocol.ActionUsers, p))
}

// memberships are the rooms a user is in: the default room first, then (opt-in) its
// inbox and the rooms it joined, at most --max-rooms-per-user. A slice, not a map:
// a one-entry map cost about 250 bytes per idle connection.
type memberships []*membership

func (s memberships) get(room string) *membership {
	for _, ms := range s {
		if ms.room == room {
			return ms
		}
	}
	return nil
}

func (s *memberships) add(ms *membership) { *s = append(*s, ms) }

func (s *memberships) remove(room string) {
	for i, ms := range *s {
		if ms.room == room {
			*s = slices.Delete(*s, i, i+1)
			return
		}
	}
}
