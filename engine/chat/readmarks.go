package chat

import (
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Read positions of accounts: how far each has read each room it is in, kept with the
// history (store.AccountRoom with Read), so Rooms and a login's RoomJoined say how many
// lines wait unread, on whatever device. A room seen for the first time starts read up
// to its last line (a newcomer owes nothing); the account's own line marks the room
// read up to it, so its own lines never count. Anonymous users have no read positions.
// A Read moves the account's position: its other devices get ReadMarker. Its own
// lines move it silently, since every device sees them come from itself.

// handleRead moves u's read position in a room up to seq.
func (ch *Chat) handleRead(u *user, in *protocol.Inbound) {
	if !u.account {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeAccountRequired, Message: "read positions are kept for accounts; log in with one"})
		return
	}
	if dialog, ok := ch.dialogAccess(u, in.RoomID); dialog {
		if seq := min(in.Seq, ch.committedSeq(in.RoomID)); ok && ch.markRead(u, in.RoomID, seq) {
			ch.sendReadMarker(u, in.RoomID, seq)
		}
		return
	}
	r, ms := ch.memberOf(u, in.RoomID)
	if ms == nil {
		return
	}
	seq := min(in.Seq, ch.committedSeq(r.id))
	if ch.markRead(u, r.id, seq) {
		ch.sendReadMarker(u, r.id, seq) // its other devices clear what it read
	}
}

// markRead moves account user u's read position in room up to seq (never down) and
// reports whether it moved.
func (ch *Chat) markRead(u *user, room string, seq uint64) bool {
	if !u.account || isOldInbox(room) {
		return false // old inboxes keep no positions; dialogs do (callers check u is in it)
	}
	reads := ch.acct.reads[u.info.ID]
	if old, ok := reads[room]; ok && old >= seq {
		return false // a first position may be 0: a room seen before its first line
	}
	if reads == nil {
		if ch.acct.reads == nil {
			ch.acct.reads = make(map[uint64]map[string]uint64)
		}
		reads = make(map[string]uint64)
		ch.acct.reads[u.info.ID] = reads
	}
	reads[room] = seq
	if ch.writer != nil {
		ch.writer.AddAccountRoom(store.AccountRoom{UserID: u.info.ID, Room: room, Read: seq, IsRead: true})
	}
	return true
}

// seeRoom starts u's read position in a room it has none for at the room's last line.
func (ch *Chat) seeRoom(u *user, room string) {
	if _, ok := ch.acct.reads[u.info.ID][room]; u.account && !ok {
		ch.markRead(u, room, ch.committedSeq(room))
	}
}

// unread is how many lines of room account user u has not read; protocol.NoUnread
// for an anonymous user.
func (ch *Chat) unread(u *user, room string) int {
	if !u.account {
		return protocol.NoUnread
	}
	read, ok := ch.acct.reads[u.info.ID][room]
	if last := ch.committedSeq(room); ok && last > read {
		return int(last - read)
	}
	return 0
}
