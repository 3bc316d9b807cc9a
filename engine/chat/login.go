package chat

import (
	"strings"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// membersPage is the first page of members in Authorized and RoomJoined for
// presence=compact clients, and the largest page Users answers.
const membersPage = 100

// login logs the user in: a unique nickname (or, with a valid resume token, the
// identity it had), Authorized to the newcomer, Connected to the default room (the
// newcomer included: the Qt client adds itself to its list from it), then the recent
// history, or with since= everything it missed, room by room. OnWebSocketConnect
// calls it once a userId is reserved for it. A cluster node first reserves the name
// or takes the identity over cluster-wide (clusterlogin.go).
func (ch *Chat) login(c *engine.Conn, r *engine.Request) {
	if ch.cl.link != nil {
		ch.clusterLogin(c, r)
		return
	}
	u := newUser(c, 0, r, &ch.cfg)
	tok := r.Query.Get("resume") // "resume=" with no value only opts in
	resumed, resumeFailed := ch.identify(u, tok)
	ch.enter(u, r, resumed, resumeFailed)
}

// enter is the rest of a login once u has its identity: it becomes a member of the
// default room, gets Authorized, and its rooms and their history.
func (ch *Chat) enter(u *user, r *engine.Request, resumed, resumeFailed bool) {
	ch.register(u)
	ch.authorize(u, resumed)
	if resumeFailed {
		ch.counters.resumeFailed++
		ch.sendError(u, &protocol.Error{Code: protocol.CodeResumeFailed, Message: "the resume token is invalid or expired; logged in as a new user"})
	}
	ch.joined(ch.defaultRoom, u)
	ch.restoreRooms(u, parseSince(r.Query.Get("since")))
	ch.log.Debug("user connected", "userId", u.info.ID, "userName", u.info.Name, "remote", r.RemoteAddr, "resumed", resumed) // the upgrade made this string already; Conn.RemoteAddr would make another
}

// identify gives u its identity: the one tok names (taking it over from a connection
// that still holds it), or a new userId and a unique name; an opt-in client's new
// identity becomes resumable. It reports whether tok resumed, and whether a token
// was given but did not.
func (ch *Chat) identify(u *user, tok string) (resumed, failed bool) {
	var online *user
	var off *identity
	if tok != "" {
		online, off = ch.resumeIdentity(tok)
		failed = online == nil && off == nil
	}
	if !failed && tok != "" {
		ch.takeIdentity(u, online, off)
	} else {
		ch.newIdentity(u, ch.takeUserID(), ch.uniqueName(u.info.Name))
	}
	return tok != "" && !failed, failed
}

// takeIdentity makes u the resumable identity a token named: the one online as old,
// taking it over from that connection, or the offline off.
func (ch *Chat) takeIdentity(u, old *user, off *identity) {
	if old != nil { // the same client on a new connection: take over
		ch.remove(old, false) // which keeps the identity offline, in ids
		old.conn.Close(CloseReplaced)
		off = ch.ids[old.info.ID]
	}
	delete(ch.ids, off.info.ID)
	u.info, u.secret, u.resumable = off.info, off.secret, true
	ch.counters.resumed++
	ch.saveOnline(u)
}

// newIdentity gives u a new userId and name; an opt-in client's identity becomes
// resumable.
func (ch *Chat) newIdentity(u *user, userID uint64, name string) {
	u.info.ID, u.info.Name = userID, name
	if !u.optIn {
		return
	}
	u.secret, u.resumable = newSecret(), true
	ch.saveOnline(u)
}

// register makes u findable (by id, name and connection) and a member of the default
// room.
func (ch *Chat) register(u *user) {
	ch.takeName(u.info.Name, u.info.ID)
	ch.users[u.info.ID] = u
	ch.attach(u)
	ch.defaultRoom.members = append(ch.defaultRoom.members, u)
	u.rooms.add(&membership{room: ch.defaultRoom.id, public: true})
}

// attach puts u on its connection (every login, a further device too): counted, and
// on the ack sweep's list if it acknowledges.
func (ch *Chat) attach(u *user) {
	u.conn.SetValue(u)
	ch.counters.logins++
	ch.meters.logins.Add(1)
	if u.ack {
		ch.ackUsers = append(ch.ackUsers, u)
		u.ackListed = true
	}
}

// authorize sends Authorized: for an opt-in client the first page of members and its
// resume token, for the seed's client the whole roster.
func (ch *Chat) authorize(u *user, resumed bool) {
	if u.optIn {
		page := ch.memberPage(ch.defaultRoom, 0, ch.pageSize(u))
		u.conn.SendText(protocol.AppendAuthorizedPage(nil, u.encodedOnce(), page, ch.token(u.info.ID, u.secret), resumed))
		return
	}
	ch.payload = protocol.AppendAuthorizedRoster(ch.payload[:0], u.encodedOnce(), ch.seedRoster())
	u.conn.SendText(ch.payload)
}

// restoreRooms syncs u's default room, joins and syncs every other room from (the
// since parameter) names, recent history or everything after its seqs, and replays
// the dialogs it names after their seqs (dialogs it does not name are not replayed:
// the client asks Dialogs and History).
func (ch *Chat) restoreRooms(u *user, from since) {
	ch.startSync(u, u.rooms.get(ch.defaultRoom.id), from, ch.defaultRoom.id)
	for _, roomID := range from.order {
		if roomID == ch.defaultRoom.id || u.rooms.get(roomID) != nil || ch.restoreDialog(u, roomID, from) {
			continue
		}
		if strings.HasPrefix(roomID, protocol.InboxPrefix) {
			// Another identity's inbox: the one a failed resume left behind (the
			// client learns that from resume_failed), never one to join.
			continue
		}
		if !protocol.ValidRoomID(roomID) {
			ch.sendError(u, &protocol.Error{Code: protocol.CodeBadRoomID, Message: "since names an invalid room " + quote(roomID)})
			continue
		}
		if ms := ch.join(u, roomID); ms != nil {
			ch.startSync(u, ms, from, roomID)
			ch.joinOtherDevices(u, roomID) // an account's rooms are on all its devices
		}
	}
}

// pageSize is how many members u gets at once: everyone for the seed's way, a page
// for presence=compact.
func (ch *Chat) pageSize(u *user) int {
	if u.compact {
		return membersPage
	}
	return 1 << 30
}

// memberPage is r's members from offset, at most limit of them, in join order.
func (ch *Chat) memberPage(r *room, offset, limit int) protocol.MemberPage {
	p := protocol.MemberPage{RoomID: r.id, Count: ch.count(r), Offset: offset}
	end := min(len(r.members), offset+limit)
	for i := offset; i < end; i++ {
		p.Users = append(p.Users, r.members[i].encoded())
		p.Statuses = append(p.Statuses, ch.statusFields(r.members[i]))
	}
	p.More = end < len(r.members)
	ch.remotePage(r, &p, offset, limit) // a cluster's other nodes' members after these
	return p
}

// defaultRoster is the default room's members as the seed's Authorized lists them,
// encoded once and kept: a login appends its entry, a leave drops the cache (rebuilt
// at the next seed-client login), so a login storm does not re-encode the whole list
// for every newcomer.
func (ch *Chat) defaultRoster() []byte {
	members := ch.defaultRoom.members
	if ch.rosterN < 0 || ch.rosterN > len(members) {
		ch.roster, ch.rosterN = ch.roster[:0], 0
	}
	for _, m := range members[ch.rosterN:] {
		ch.roster = protocol.AppendRosterEntry(ch.roster, m.encoded())
	}
	ch.rosterN = len(members)
	return ch.roster
}
