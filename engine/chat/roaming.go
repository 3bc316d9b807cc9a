package chat

import (
	"slices"

	"github.com/chatd/chatd/engine/store"
)

// An account's rooms follow it (roaming): the rooms it joins and has not left are
// kept with the history (store.AccountRoom, through the writer), and every login of
// the account, on any device, rejoins them: a RoomJoined each, then the room's recent
// lines as after any join, so History gives the rest of what was missed. Anonymous
// users' rooms follow their identity through resume instead.

// rejoinAccountRooms joins account user u to its kept rooms it is not in yet.
func (ch *Chat) rejoinAccountRooms(u *user) {
	for _, roomID := range ch.acct.rooms[u.info.ID] {
		if u.rooms.get(roomID) != nil {
			continue // since= brought it back already
		}
		if ms := ch.join(u, roomID); ms != nil {
			ch.startSync(u, ms, since{}, roomID)
		}
	}
}

// keepAccountRoom records that account user u joined (in) or left roomID.
func (ch *Chat) keepAccountRoom(u *user, roomID string, in bool) {
	if !u.account || roomID == ch.defaultRoom.id {
		return
	}
	rooms := ch.acct.rooms[u.info.ID]
	i := slices.Index(rooms, roomID)
	switch {
	case in && i < 0:
		rooms = append(rooms, roomID)
	case !in && i >= 0:
		rooms = slices.Delete(rooms, i, i+1)
		delete(ch.acct.reads[u.info.ID], roomID) // a room left keeps no read position (the store drops it too)
	case ch.cl.link == nil:
		return // nothing changed
	default:
		// A cluster node's list may be a moment behind the cluster's (a record from
		// before this node's last change, accountcluster.go): the change is queued
		// all the same, so none is lost.
	}
	if ch.acct.rooms == nil {
		ch.acct.rooms = make(map[uint64][]string)
	}
	ch.acct.rooms[u.info.ID] = rooms
	if ch.writer != nil {
		ch.writer.AddAccountRoom(store.AccountRoom{UserID: u.info.ID, Room: roomID, In: in})
	}
}
