package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server"
)

// Users pages of rooms above --presence-full-limit on a cluster (docs/CLUSTER.md,
// "Users pages of big rooms"): three nodes with a full limit of 2, so the lobby of
// 8 users is a big room whose pages the nodes answer, each from its own members.

// smallFullLimit makes every room of more than 2 members a big one.
func smallFullLimit(c *server.Config) { c.Chat.PresenceFullLimit = 2 }

// bigLobby starts three nodes (ttl 30 s) and logs in 3, 2 and 3 compact users on
// them; it returns the nodes and the users per node in login order, once every
// node counts all 8.
func bigLobby(t *testing.T) ([]*clusterNode, [][]*peer) {
	t.Helper()
	ns := natstest.Start(t)
	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		nodes[i] = startNode(t, ns, i, 30*time.Second, smallFullLimit)
	}
	users := make([][]*peer, len(nodes))
	for i, n := range []int{3, 2, 3} {
		for j := range n {
			users[i] = append(users[i], join(t, nodes[i].Server, fmt.Sprintf("U%d%d", i, j), compact))
		}
	}
	for i := range nodes {
		awaitCount(users[i][0], "lobby", 8)
	}
	return nodes, users
}

// awaitCount waits until p's presence counts count members in room.
func awaitCount(p *peer, room string, count int) {
	p.t.Helper()
	if room == "lobby" && p.auth["count"] == float64(count) {
		return
	}
	p.await(fmt.Sprintf("%s counting %d", room, count), func(m map[string]any) bool {
		e := presenceEntry(m, room)
		return e != nil && e["count"] == float64(count)
	})
}

// page asks p for room's Users page from offset and returns the answer: the Users
// page, or an Error.
func (p *peer) page(room string, offset, limit int) map[string]any {
	p.t.Helper()
	p.send(map[string]any{"action": "Users", "roomId": room, "offset": offset, "limit": limit})
	return p.await("Users or Error", func(m map[string]any) bool {
		return (m["action"] == "Users" && m["roomId"] == room) || m["action"] == "Error"
	})
}

// userIDs is the userIds of a page's users.
func userIDs(m map[string]any) []float64 {
	var ids []float64
	for _, u := range m["users"].([]any) {
		ids = append(ids, u.(map[string]any)["userId"].(float64))
	}
	return ids
}

// TestUsersPagesOfABigRoomListEveryNode: from any node, Users pages of 3 list the
// lobby's 8 members exactly once: the asking node's own first, in join order, then
// the other nodes' by node name, each in its join order; a member's status is its
// own node's.
func TestUsersPagesOfABigRoomListEveryNode(t *testing.T) {
	_, users := bigLobby(t)
	away := users[2][1]
	away.send(map[string]any{"action": "SetStatus", "status": "away", "text": "lunch"})
	away.await("its own Status", func(m map[string]any) bool { return m["action"] == "Status" })

	for i := range users {
		want := []float64{}
		for _, j := range slices.Concat([]int{i}, slices.DeleteFunc([]int{0, 1, 2}, func(j int) bool { return j == i })) {
			for _, u := range users[j] {
				want = append(want, u.id())
			}
		}
		pager := users[i][0]
		var got []float64
		offset := 0
		for range 10 { // 3 pages; the bound ends a runaway
			m := pager.page("lobby", offset, 3)
			if m["action"] != "Users" || m["count"] != float64(8) || m["offset"] != float64(offset) {
				t.Fatalf("node-%d page at %d: %v, want a Users page of the 8", i, offset, m)
			}
			got = append(got, userIDs(m)...)
			for _, u := range m["users"].([]any) {
				if u := u.(map[string]any); u["userId"] == away.id() && (u["status"] != "away" || u["statusText"] != "lunch") {
					t.Fatalf("node-%d lists %v, want away, lunch", i, u)
				}
			}
			if m["more"] != true {
				break
			}
			offset += len(m["users"].([]any))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("node-%d's pages list %v, want %v", i, got, want)
		}
	}
}

// TestUsersPagesOfAStalledNode: a node whose NATS link hangs ends the page where its
// part begins (more: true, so the next offset asks it again) and a page that is all
// its part is the Error cluster_unavailable, each within the ask's second; a client
// waits for at most 2 pages at once (the rest are busy at once) and is served
// meanwhile. A node cut off from NATS fails its part at once.
func TestUsersPagesOfAStalledNode(t *testing.T) {
	nodes, users := bigLobby(t)
	nodes[2].nats.Stall()
	a := users[0][0]
	m := a.page("lobby", 3, 3) // node-1's 2, then node-2's first
	if m["action"] != "Users" || !slices.Equal(userIDs(m), []float64{users[1][0].id(), users[1][1].id()}) || m["more"] != true {
		t.Fatalf("the page through the stalled node: %v, want node-1's two and more", m)
	}
	if m := a.page("lobby", 5, 3); m["action"] != "Error" || m["code"] != "cluster_unavailable" {
		t.Fatalf("a page of the stalled node's members: %v, want cluster_unavailable", m)
	}

	flood := join(t, nodes[0].Server, "Flood", compact)
	awaitCount(flood, "lobby", 9)
	const asks = 10 // the budget's burst
	for range asks {
		flood.send(map[string]any{"action": "Users", "roomId": "lobby", "offset": 8, "limit": 3})
	}
	codes := map[any]int{}
	for range asks {
		m := flood.await("an answer", func(m map[string]any) bool { return m["action"] == "Error" || m["action"] == "Users" })
		codes[m["code"]]++
	}
	if codes["cluster_unavailable"] > 2 || codes["busy"] < asks-2 || codes["cluster_unavailable"]+codes["busy"] != asks {
		t.Fatalf("answers to %d pages at once: %v, want at most 2 asked (cluster_unavailable), the rest busy", asks, codes)
	}
	flood.send(map[string]any{"action": "Rooms"})
	flood.await("Rooms meanwhile", func(m map[string]any) bool { return m["action"] == "Rooms" })

	// node-1 cut off (gone from NATS, its key not expired yet): its part (after node-0's 4,
	// Flood included) fails at once.
	nodes[1].nats.Cut()
	if m := a.page("lobby", 4, 2); m["action"] != "Error" || m["code"] != "cluster_unavailable" || !strings.Contains(m["message"].(string), "node-1") {
		t.Fatalf("a page from the cut-off node's part: %v, want cluster_unavailable naming node-1", m)
	}
	if m := a.page("lobby", 0, 4); m["action"] != "Users" || len(userIDs(m)) != 4 || m["more"] != true {
		t.Fatalf("the local part meanwhile: %v, want node-0's 4 and more", m)
	}
}

// TestALateNodeSeesStatuses: a node that starts after a user of another node set a
// status shows it in its pages at once: the snapshot carries it.
func TestALateNodeSeesStatuses(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 30*time.Second)
	bob := join(t, nodes[1].Server, "Bob", compact)
	bob.send(map[string]any{"action": "SetStatus", "status": "busy", "text": "in a meeting"})
	// Its own Status goes out in the tick that hands the status to its node's link.
	bob.await("Bob's own Status", func(m map[string]any) bool { return m["action"] == "Status" && m["userId"] == bob.id() })

	late := startNode(t, ns, 2, 30*time.Second)
	erin := join(t, late.Server, "Erin", compact)
	if erin.auth["count"] != float64(2) {
		erin.await("Bob on the late node", func(m map[string]any) bool {
			e := presenceEntry(m, "lobby")
			return e != nil && hasID(e["joined"], bob.id())
		})
	}
	users, _ := erin.users("lobby")["users"].([]any)
	i := slices.IndexFunc(users, func(u any) bool { return u.(map[string]any)["userId"] == bob.id() })
	if i < 0 {
		t.Fatalf("Bob is not in the late node's page: %v", users)
	}
	if u := users[i].(map[string]any); u["status"] != "busy" || u["statusText"] != "in a meeting" {
		t.Fatalf("Bob on the late node: %v, want busy, in a meeting", u)
	}
}
