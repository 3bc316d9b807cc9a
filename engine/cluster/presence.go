package cluster

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
)

// Presence across nodes (docs/CLUSTER.md, "Presence across nodes"): each node sends
// one Tick per --presence-interval with its net changes per room, numbered per node,
// and answers a Snapshot of its whole local membership on request. Every other node
// keeps the result in a Remote table and feeds its changes to the chat as it does its
// own: presence costs one NATS message per node per tick, whatever the churn.

// Member is one user in a room of another node: its userId and the fields every
// message about it carries, encoded by its node (protocol.AppendUserFields).
type Member struct {
	UserID uint64          `json:"u"`
	Fields json.RawMessage `json:"f"`
}

// RoomChange is one room's net change of a tick on one node, and that node's count
// of local members after it.
type RoomChange struct {
	Room   string   `json:"r"`
	Count  int      `json:"n"`
	Joined []Member `json:"j,omitempty"`
	Left   []uint64 `json:"l,omitempty"`
	Lost   []uint64 `json:"x,omitempty"`
}

// Tick is one node's presence message of one tick. Seq counts the node's ticks since
// Boot, so a receiver sees a gap (a lost tick) or a restart (a new Boot).
type Tick struct {
	Node  string       `json:"node"`
	Boot  int64        `json:"boot"`
	Seq   uint64       `json:"seq"`
	Rooms []RoomChange `json:"rooms"`
}

// Snapshot is a node's whole local membership as of its tick Seq, and the statuses
// its users set (AppendStatusFields as a JSON object; users without one are online),
// so a node that starts late shows them before their next Status.
type Snapshot struct {
	Node     string                     `json:"node"`
	Boot     int64                      `json:"boot"`
	Seq      uint64                     `json:"seq"`
	Rooms    map[string][]Member        `json:"rooms"`
	Statuses map[uint64]json.RawMessage `json:"statuses,omitempty"`
}

// Change is what applying a tick, a snapshot or a node's loss changed in one room:
// the chat announces it as it does a local join, leave or loss.
type Change struct {
	Room   string
	Joined []Member
	Left   []uint64
	Lost   []uint64
}

// Remote is what a node knows of the other nodes' members: per node, per room, the
// members and their fields. It is the chat owner's (no lock).
//
// A userId may be a member of one room on several nodes (an account online on two
// of them) and here too; it counts once, as an account's devices do on one node:
// extra is, per room, how many of the copies are not the first (count.go).
type Remote struct {
	nodes map[string]*remoteNode
	extra map[string]int
	// isLocal reports whether a userId is a member of a room on this node (the
	// chat's; nil: none is). Local joins and leaves are told with LocalMember.
	isLocal func(room string, userID uint64) bool
}

type remoteNode struct {
	boot  int64
	seq   uint64
	rooms map[string]map[uint64]json.RawMessage
}

// NewRemote is an empty table.
func NewRemote() *Remote {
	return &Remote{nodes: make(map[string]*remoteNode), extra: make(map[string]int)}
}

// ErrNeedSnapshot is returned by ApplyTick when the tick does not follow the last one
// applied from its node (a lost tick, a restarted or new node): ask that node for a
// Snapshot and apply it instead.
var ErrNeedSnapshot = fmt.Errorf("presence tick out of sequence: a snapshot is needed")

// ApplyTick applies t if it follows the last tick of its node, and returns the
// changes to announce.
func (r *Remote) ApplyTick(t *Tick) ([]Change, error) {
	n := r.nodes[t.Node]
	if n == nil || n.boot != t.Boot || t.Seq != n.seq+1 {
		return nil, fmt.Errorf("tick %d of node %s (boot %d): %w", t.Seq, t.Node, t.Boot, ErrNeedSnapshot)
	}
	n.seq = t.Seq
	changes := make([]Change, 0, len(t.Rooms))
	for _, rc := range t.Rooms {
		members := n.rooms[rc.Room]
		if members == nil {
			members = make(map[uint64]json.RawMessage)
			n.rooms[rc.Room] = members
		}
		c := Change{Room: rc.Room}
		for _, m := range rc.Joined {
			if _, in := members[m.UserID]; !in {
				c.Joined = append(c.Joined, m)
				r.counted(rc.Room, m.UserID, t.Node, 1)
			}
			members[m.UserID] = m.Fields
		}
		c.Left = r.removeMembers(rc.Room, t.Node, members, rc.Left)
		c.Lost = r.removeMembers(rc.Room, t.Node, members, rc.Lost)
		if len(members) == 0 {
			delete(n.rooms, rc.Room)
		}
		if len(c.Joined)+len(c.Left)+len(c.Lost) > 0 {
			changes = append(changes, c)
		}
	}
	return changes, nil
}

// removeMembers deletes ids from members (node's in room) and returns those that
// were there.
func (r *Remote) removeMembers(room, node string, members map[uint64]json.RawMessage, ids []uint64) []uint64 {
	var gone []uint64
	for _, id := range ids {
		if _, in := members[id]; in {
			delete(members, id)
			r.counted(room, id, node, -1)
			gone = append(gone, id)
		}
	}
	return gone
}

// ApplySnapshot replaces what the table holds of s's node with s, and returns the
// difference as changes: who joined and who left while ticks were missed.
func (r *Remote) ApplySnapshot(s *Snapshot) []Change {
	old := r.nodes[s.Node]
	n := &remoteNode{boot: s.Boot, seq: s.Seq, rooms: make(map[string]map[uint64]json.RawMessage, len(s.Rooms))}
	for room, members := range s.Rooms {
		m := make(map[uint64]json.RawMessage, len(members))
		for _, mem := range members {
			m[mem.UserID] = mem.Fields
		}
		if len(m) > 0 {
			n.rooms[room] = m
		}
	}
	var before map[string]map[uint64]json.RawMessage
	if old != nil {
		before = old.rooms
		r.countedNode(s.Node, old.rooms, -1)
	}
	r.nodes[s.Node] = n
	r.countedNode(s.Node, n.rooms, 1)
	return diffRooms(before, n.rooms, false)
}

// NodeGone forgets node (its liveness key expired) and returns its members as lost.
func (r *Remote) NodeGone(node string) []Change { return r.forget(node, true) }

// NodeLeft forgets node (it left cleanly: Leave) and returns its members as left.
func (r *Remote) NodeLeft(node string) []Change { return r.forget(node, false) }

func (r *Remote) forget(node string, lost bool) []Change {
	n := r.nodes[node]
	if n == nil {
		return nil
	}
	delete(r.nodes, node)
	r.countedNode(node, n.rooms, -1)
	return diffRooms(n.rooms, nil, lost)
}

// diffRooms is the changes from before to after, room by room, in room order; the
// departed are lost (a dead node) or left.
func diffRooms(before, after map[string]map[uint64]json.RawMessage, lost bool) []Change {
	rooms := make([]string, 0, len(before)+len(after))
	for room := range before {
		rooms = append(rooms, room)
	}
	for room := range after {
		if _, seen := before[room]; !seen {
			rooms = append(rooms, room)
		}
	}
	slices.Sort(rooms)
	var changes []Change
	for _, room := range rooms {
		c := Change{Room: room}
		for id, f := range after[room] {
			if _, was := before[room][id]; !was {
				c.Joined = append(c.Joined, Member{UserID: id, Fields: f})
			}
		}
		for id := range before[room] {
			if _, is := after[room][id]; !is {
				if lost {
					c.Lost = append(c.Lost, id)
				} else {
					c.Left = append(c.Left, id)
				}
			}
		}
		slices.SortFunc(c.Joined, func(a, b Member) int { return cmp.Compare(a.UserID, b.UserID) })
		slices.Sort(c.Left)
		slices.Sort(c.Lost)
		if len(c.Joined)+len(c.Left)+len(c.Lost) > 0 {
			changes = append(changes, c)
		}
	}
	return changes
}

// Count is how many members room has on the other nodes that are not members here
// nor counted on another node already: the chat's count is its own members plus
// this, each userId once.
func (r *Remote) Count(room string) int {
	n := 0
	for _, node := range r.nodes {
		n += len(node.rooms[room])
	}
	return n - r.extra[room]
}

// Rooms is every room with members on other nodes, in no order.
func (r *Remote) Rooms() []string {
	seen := make(map[string]struct{})
	var rooms []string
	for _, node := range r.nodes {
		for room, ms := range node.rooms {
			if _, ok := seen[room]; !ok && len(ms) > 0 {
				seen[room] = struct{}{}
				rooms = append(rooms, room)
			}
		}
	}
	return rooms
}

// Fields is the encoded fields of userID in room on another node, if it is there.
func (r *Remote) Fields(room string, userID uint64) (json.RawMessage, bool) {
	for _, node := range r.nodes {
		if f, ok := node.rooms[room][userID]; ok {
			return f, true
		}
	}
	return nil, false
}
