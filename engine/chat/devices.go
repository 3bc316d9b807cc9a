package chat

import (
	"slices"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// An account may be online on several devices (connections) at once and is one user:
// one Connected when its first device arrives, one Disconnected when its last leaves,
// every message to every device, Sent to the device that sent the line. The first
// device is the user everyone sees (ch.users, its rooms' members); the others follow
// it into every room and are reached through otherDevices. Rooms are the account's:
// a join or a leave on one device is done on all of them.

// maxDevices bounds the connections of one account: each is charged the rate limits
// on its own, so more devices would be more of the owner's time for one person. The
// next login past it replaces the oldest (4002).
const maxDevices = 8

// otherDevices is the further connections of u's account, oldest first: nil for every
// anonymous user and for an account on one device. Every fan-out sends to u and then
// to these.
func (ch *Chat) otherDevices(u *user) []*user {
	if !u.account || len(ch.acct.devices) == 0 {
		return nil
	}
	return ch.acct.devices[u.info.ID]
}

// devicesOf is every connection of the user u is one device of, the first one first.
func (ch *Chat) devicesOf(u *user) []*user {
	first := ch.users[u.info.ID]
	if first == nil {
		return []*user{u}
	}
	return append([]*user{first}, ch.otherDevices(first)...)
}

// addDevice logs u in as a further device of the account first is online as: the
// same user, so nobody else hears of it. It gets Authorized, its own Connected (a
// seed-style client lists itself from it), and every room of the account with its
// recent lines, as a first login does.
func (ch *Chat) addDevice(first, u *user, r *engine.Request) {
	u.info = first.info
	u.fields = first.fields
	if ch.acct.devices == nil {
		ch.acct.devices = make(map[uint64][]*user)
	}
	ch.acct.devices[u.info.ID] = append(ch.acct.devices[u.info.ID], u)
	ch.attach(u)
	ch.authorizeAccount(u)
	if !u.compact {
		u.conn.SendText(protocol.AppendUserEvent(ch.payload[:0], protocol.ActionConnected, u.encodedOnce()))
	}
	ms := &membership{room: ch.defaultRoom.id, public: true}
	u.rooms.add(ms)
	ch.restoreRooms(u, parseSince(r.Query.Get("since")))
	ch.rejoinAccountRooms(u)
	ch.log.Debug("account connected on another device", "userId", u.info.ID, "devices", 1+len(ch.acct.devices[u.info.ID]), "remote", r.RemoteAddr)
}

// makeRoomForDevice closes the oldest connection of first's account if it has
// maxDevices already, and returns the user the account is online as then (nil: none).
func (ch *Chat) makeRoomForDevice(first *user) *user {
	if 1+len(ch.otherDevices(first)) < maxDevices {
		return first
	}
	id := first.info.ID
	ch.remove(first, false)
	first.conn.Close(CloseReplaced)
	return ch.users[id]
}

// removeDevice logs out u, one device of an account online on others too, and
// reports whether it was one: nobody else hears of it. When u was the first device,
// the next takes its place in ch.users and in its rooms' members.
func (ch *Chat) removeDevice(u *user) bool {
	others := ch.otherDevices(ch.users[u.info.ID])
	if len(others) == 0 {
		return false
	}
	first := ch.users[u.info.ID]
	if first == u {
		next := others[0]
		ch.users[u.info.ID] = next
		for _, ms := range u.rooms {
			if r := ch.rooms[ms.room]; r != nil && ms.public {
				if i := slices.Index(r.members, u); i >= 0 {
					r.members[i] = next
				}
			}
		}
		others = others[1:]
	} else {
		others = slices.DeleteFunc(slices.Clone(others), func(d *user) bool { return d == u })
	}
	if len(others) == 0 {
		delete(ch.acct.devices, u.info.ID)
	} else {
		ch.acct.devices[u.info.ID] = others
	}
	u.conn.SetValue(nil)
	delete(ch.acct.loginToken, u.conn.ID())
	delete(ch.held, u.conn.ID())
	if u.reads != nil {
		u.reads.cancel()
	}
	u.rooms = nil
	delete(ch.connDialogs, u.conn.ID())
	return true
}

// joinOtherDevices follows u's join of roomID on the account's other devices: a
// RoomJoined each and the room's recent lines.
func (ch *Chat) joinOtherDevices(u *user, roomID string) {
	for _, d := range ch.devicesOf(u) {
		if d == u || d.rooms.get(roomID) != nil {
			continue
		}
		if ms := ch.join(d, roomID); ms != nil {
			ch.startSync(d, ms, since{}, roomID)
		}
	}
}

// sendOptIn sends frame to each of m's connections that opted in (the seed's client
// does not know the action).
func (ch *Chat) sendOptIn(m *user, frame []byte) {
	if m.optIn {
		m.conn.SendFrame(frame)
	}
	for _, d := range ch.otherDevices(m) {
		if d.optIn {
			d.conn.SendFrame(frame)
		}
	}
}

// sendReadMarker tells the account's devices but from that it read room up to seq.
func (ch *Chat) sendReadMarker(from *user, room string, seq uint64) {
	devices := ch.devicesOf(from)
	if len(devices) < 2 {
		return
	}
	payload := protocol.AppendReadMarker(nil, room, seq)
	for _, d := range devices {
		if d != from {
			d.conn.SendText(payload)
		}
	}
}
