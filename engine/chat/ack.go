package chat

import (
	"time"

	"github.com/chatd/chatd/protocol"
)

// maxUnacked is how many messages per room an ack=1 client may leave unacknowledged;
// past it the connection is closed with CloseUnacked and the client should resume.
// A replay pauses at half of it until the client acknowledges.
const maxUnacked = 4096

// track remembers a message sent to an ack=1 client until it is acknowledged; it
// reports whether it kept frame.
func (ch *Chat) track(u *user, ms *membership, seq uint64, frame []byte) bool {
	if !u.ack {
		return false
	}
	a := ms.acksOf()
	if len(a.unacked) == 0 {
		a.resendAt = ch.now().Add(ch.cfg.AckTimeout).UnixNano()
	}
	a.unacked = append(a.unacked, unackedMsg{seq: seq, frame: frame})
	if len(a.unacked) > maxUnacked {
		ch.log.Info("client does not acknowledge", "userId", u.info.ID, "room", ms.room)
		u.conn.Close(CloseUnacked)
	}
	return true
}

// handleAck takes the highest contiguous seq the client has of a room (or inbox).
func (ch *Chat) handleAck(u *user, in *protocol.Inbound) {
	roomID := in.RoomID
	if roomID == "" {
		roomID = ch.defaultRoom.id
	}
	ms := u.membershipOf(roomID)
	if ms == nil && inDialog(roomID, u.info.ID) {
		return // a dialog of its this connection tracks no more (or not yet): nothing to take
	}
	if ms == nil {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeNotInRoom, Message: "not in room " + quote(roomID)})
		return
	}
	seq := min(in.Seq, ms.delivered)
	if !u.ack || seq <= ms.acksOf().acked {
		return // only ack=1 clients' acks mean anything
	}
	a := ms.acks
	a.acked = seq
	i := 0
	for i < len(a.unacked) && a.unacked[i].seq <= seq {
		i++
	}
	n := copy(a.unacked, a.unacked[i:])
	clear(a.unacked[n:])
	a.unacked = a.unacked[:n]
	if n > 0 {
		a.resendAt = ch.now().Add(ch.cfg.AckTimeout).UnixNano()
	}
	if ms.waitAck && n < maxUnacked/2 {
		ms.waitAck = false
		ch.readRange(u, ms)
	}
}

// resendUnacked is the ack timer: every message a client has not acknowledged within
// --ack-timeout is sent again, the same bytes; the client drops what it has by
// (roomId, seq).
func (ch *Chat) resendUnacked() {
	now := ch.now().UnixNano()
	live := ch.ackUsers[:0]
	for _, u := range ch.ackUsers {
		if !u.online() {
			u.ackListed = false
			continue
		}
		live = append(live, u)
		for _, list := range [2]memberships{u.rooms, u.dialogs} {
			for _, ms := range list {
				a := ms.acks
				if a == nil || len(a.unacked) == 0 || now < a.resendAt {
					continue
				}
				for _, s := range a.unacked {
					u.conn.SendFrame(s.frame)
				}
				ch.counters.resent += uint64(len(a.unacked))
				a.resendAt = now + int64(ch.cfg.AckTimeout/time.Nanosecond)
			}
		}
	}
	clear(ch.ackUsers[len(live):])
	ch.ackUsers = live
}
