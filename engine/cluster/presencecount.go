package cluster

import (
	"cmp"
	"encoding/json"
	"slices"

	"github.com/chatd/chatd/engine/chat"
)

// Counting each userId once. An account online on two nodes is a member of its rooms
// on both (and an account's devices on one node are one member there): the room's
// count must name it once, as one node does for two devices. The table keeps, per
// room, extra: how many (node, userId) copies are not the first, this node's members
// included. Each join or leave, remote or local, costs a look at each other node's
// room (O(nodes)), never a walk of the members.

// counted notes that userID joined (delta 1) or left (-1) room on node (or here,
// node ""): a copy that another node (or this one) also holds is an extra one.
func (r *Remote) counted(room string, userID uint64, node string, delta int) {
	if r.holders(room, userID, node) == 0 {
		return
	}
	r.extra[room] += delta
	if r.extra[room] <= 0 {
		delete(r.extra, room)
	}
}

// countedNode notes every member of rooms, node's, as joined or left.
func (r *Remote) countedNode(node string, rooms map[string]map[uint64]json.RawMessage, delta int) {
	for room, members := range rooms {
		for id := range members {
			r.counted(room, id, node, delta)
		}
	}
}

// holders is how many of the other nodes but except have userID in room, this node
// included (except "": this node is the one asking, so it is not counted).
func (r *Remote) holders(room string, userID uint64, except string) int {
	n := 0
	for name, node := range r.nodes {
		if name == except {
			continue
		}
		if _, in := node.rooms[room][userID]; in {
			n++
		}
	}
	if except != "" && r.isLocal != nil && r.isLocal(room, userID) {
		n++
	}
	return n
}

// LocalMember notes a join (in) or leave of userID in room on this node, on the
// owner, as it happens; it reports whether another node has it there too.
func (r *Remote) LocalMember(room string, userID uint64, in bool) bool {
	if r.holders(room, userID, "") == 0 {
		return false
	}
	if in {
		r.counted(room, userID, "", 1)
	} else {
		r.counted(room, userID, "", -1)
	}
	return true
}

// NodeCounts is room's members per other node (each node's own, a userId on two
// nodes in both), by node name.
func (r *Remote) NodeCounts(room string) []chat.NodeCount {
	var counts []chat.NodeCount
	for name, node := range r.nodes {
		if n := len(node.rooms[room]); n > 0 {
			counts = append(counts, chat.NodeCount{Node: name, Count: n})
		}
	}
	slices.SortFunc(counts, func(a, b chat.NodeCount) int { return cmp.Compare(a.Node, b.Node) })
	return counts
}
