package chat

import (
	"cmp"
	"slices"
)

// Rooms whose members are all on other nodes of the cluster: the directory (local
// rooms, busiest first) knows nothing of them, so Rooms lists them after it, busiest
// first by their count on the other nodes. The list is rebuilt at most once per
// change of the other nodes' presence (a tick) or of the local rooms, when a Rooms
// request finds it stale, not per request.
type remoteRooms struct {
	list  []string
	stale bool
}

// remoteOnlyRooms is the rooms with members on other nodes only, busiest first.
func (ch *Chat) remoteOnlyRooms() []string {
	if ch.link == nil {
		return nil
	}
	rr := &ch.remoteRooms
	if !rr.stale {
		return rr.list
	}
	rr.list = rr.list[:0]
	for _, id := range ch.link.RemoteRooms() {
		if ch.rooms[id] == nil && ch.link.RemoteCount(id) > 0 {
			rr.list = append(rr.list, id)
		}
	}
	slices.SortFunc(rr.list, func(a, b string) int {
		return cmp.Or(cmp.Compare(ch.link.RemoteCount(b), ch.link.RemoteCount(a)), cmp.Compare(a, b))
	})
	rr.stale = false
	return rr.list
}

// roomsChanged marks the remote-only list stale: the other nodes' rooms or the local
// ones changed.
func (ch *Chat) roomsChanged() { ch.remoteRooms.stale = true }
