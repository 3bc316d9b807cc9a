package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// Presence across nodes (docs/CLUSTER.md): two chatd nodes on one real nats-server,
// real clients on each. A user of node B shows in node A's Presence and Connected,
// counts and Users pages are both nodes', a clean stop of B makes its users
// Disconnected on A and B cut off from NATS makes them ConnectionLost after the ttl.

// clusterWait bounds every wait for something to cross nodes (it takes a tick and a
// NATS hop, well under a second; a node's ttl in the loss test).
const clusterWait = 15 * time.Second

// clusterNode is one node of a test cluster and the dialer of its NATS connection,
// which can cut it off.
type clusterNode struct {
	*chattest.Server
	nats *cutDialer
}

// startCluster starts n chatd nodes on ns with the nodes bucket's ttl.
func startCluster(t *testing.T, ns *natstest.Server, n int, ttl time.Duration) []*clusterNode {
	t.Helper()
	nodes := make([]*clusterNode, n)
	for i := range nodes {
		nodes[i] = startNode(t, ns, i, ttl)
	}
	return nodes
}

// startNode starts node i of a test cluster (node-i); a ttl of 0 is the default.
// configure, if given, changes the node's config further.
func startNode(t *testing.T, ns *natstest.Server, i int, ttl time.Duration, configure ...func(*server.Config)) *clusterNode {
	t.Helper()
	d := &cutDialer{}
	s := chattest.Start(t, func(c *server.Config) {
		c.Cluster = &cluster.Config{NodeName: fmt.Sprintf("node-%d", i), NodeTTL: ttl,
			NATS: cluster.NATSConfig{URLs: []string{ns.URL()}, Options: []nats.Option{nats.SetCustomDialer(d)}}}
		for _, f := range configure {
			f(c)
		}
	})
	t.Cleanup(d.Resume) // before the node stops (cleanups run last first)
	return &clusterNode{Server: s, nats: d}
}

// cutDialer dials NATS until Cut, which closes its connections and refuses new ones:
// the node is cut off from the cluster as by a partition, without a Leave. Stall
// makes its connections stop reading until Resume: the node is there for NATS (its
// subscriptions stand) but answers nothing, as a node whose link hangs.
type cutDialer struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
	stall chan struct{} // while not nil, reads wait for it to close
}

func (d *cutDialer) Dial(network, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		return nil, errors.New("cut off from NATS")
	}
	c, err := net.DialTimeout(network, address, 2*time.Second)
	if err == nil {
		d.conns = append(d.conns, c)
		c = &stallConn{Conn: c, d: d}
	}
	return c, err
}

func (d *cutDialer) Stall() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stall == nil {
		d.stall = make(chan struct{})
	}
}

func (d *cutDialer) Resume() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stall != nil {
		close(d.stall)
		d.stall = nil
	}
}

// stallConn is a NATS connection whose reads wait while its dialer stalls.
type stallConn struct {
	net.Conn
	d *cutDialer
}

// Read holds what it read while the dialer stalls (a read already waiting when the
// stall began included), so nothing that arrives meanwhile reaches nats.go.
func (c *stallConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.d.mu.Lock()
	stall := c.d.stall
	c.d.mu.Unlock()
	if stall != nil {
		<-stall
	}
	return n, err
}

func (d *cutDialer) Cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	for _, c := range d.conns {
		c.Close()
	}
}

// peer is a client read by a goroutine (a read deadline would break the connection),
// so a wait is bounded without one; it answers Pings.
type peer struct {
	t    *testing.T
	c    *chattest.Client
	auth map[string]any
	in   chan map[string]any
	mu   sync.Mutex // one writer at a time: the reader's Pongs and the test's sends
	err  error      // why the reader stopped, once in is closed
}

// join logs name in on s with query (nil: the seed's client) and starts its reader.
func join(t *testing.T, s *chattest.Server, name string, query url.Values) *peer {
	t.Helper()
	var c *chattest.Client
	var auth map[string]any
	if query == nil {
		c, auth = s.Login(t, name)
	} else {
		c, auth = s.LoginQuery(t, name, query)
	}
	p := &peer{t: t, c: c, auth: auth, in: make(chan map[string]any, 1024)}
	_ = c.Conn.SetReadDeadline(time.Time{}) // the login's read left one
	go p.read()
	return p
}

func (p *peer) read() {
	defer close(p.in)
	for {
		_, data, err := p.c.Conn.ReadMessage()
		if err != nil {
			p.err = err
			return
		}
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		if m["action"] == "Ping" {
			p.send(map[string]any{"action": "Pong"})
			continue
		}
		p.in <- m
	}
}

func (p *peer) send(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, _ := json.Marshal(v)
	_ = p.c.Conn.WriteMessage(websocket.TextMessage, b)
}

func (p *peer) id() float64 { return p.auth["userId"].(float64) }

// await reads until match is true, failing after clusterWait.
func (p *peer) await(what string, match func(map[string]any) bool) map[string]any {
	p.t.Helper()
	deadline := time.After(clusterWait)
	for {
		select {
		case m, ok := <-p.in:
			if !ok {
				p.t.Fatalf("connection closed waiting for %s: %v", what, p.err)
			}
			if match(m) {
				return m
			}
		case <-deadline:
			p.t.Fatalf("no %s within %v", what, clusterWait)
		}
	}
}

// presenceEntry is room's entry of a Presence frame, or nil.
func presenceEntry(m map[string]any, room string) map[string]any {
	if m["action"] != "Presence" {
		return nil
	}
	rooms, _ := m["rooms"].([]any)
	for _, r := range rooms {
		if e, _ := r.(map[string]any); e["roomId"] == room {
			return e
		}
	}
	return nil
}

// hasID is whether list (joined users or left/lost ids) names id.
func hasID(list any, id float64) bool {
	xs, _ := list.([]any)
	return slices.ContainsFunc(xs, func(x any) bool {
		if u, ok := x.(map[string]any); ok {
			return u["userId"] == id
		}
		return x == id
	})
}

// users asks p for room's first Users page and returns it.
func (p *peer) users(room string) map[string]any {
	p.t.Helper()
	p.send(map[string]any{"action": "Users", "roomId": room})
	return p.await("Users "+room, func(m map[string]any) bool { return m["action"] == "Users" && m["roomId"] == room })
}

var compact = url.Values{"presence": {"compact"}, "resume": {""}}

func TestPresenceAcrossNodes(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 30*time.Second)
	a, b := nodes[0], nodes[1]
	alice := join(t, a.Server, "Alice", compact)
	carol := join(t, a.Server, "Carol", nil) // the seed's client: Connected, Disconnected
	bob := join(t, b.Server, "Bob", compact)
	if bob.id() == alice.id() || bob.id() == carol.id() {
		t.Fatalf("Bob's userId %v is another node's user's", bob.id())
	}

	alice.await("Bob joined in Alice's Presence", func(m map[string]any) bool {
		e := presenceEntry(m, "lobby")
		return e != nil && hasID(e["joined"], bob.id())
	})
	carol.await("Connected Bob", func(m map[string]any) bool {
		return m["action"] == "Connected" && m["userId"] == bob.id()
	})

	// Counts and pages are both nodes', on both nodes.
	chattest.Eventually(t, clusterWait, "Users on node-1 lists node-0's users", func() bool {
		p := bob.users("lobby")
		return p["count"] == float64(3) && hasID(p["users"], alice.id()) && hasID(p["users"], carol.id())
	})
	page := alice.users("lobby")
	if page["count"] != float64(3) || !hasID(page["users"], bob.id()) || !hasID(page["users"], alice.id()) || !hasID(page["users"], carol.id()) {
		t.Fatalf("Users on node-0: %v, want Alice, Carol and Bob", page)
	}
	alice.send(map[string]any{"action": "Rooms"})
	rooms := alice.await("Rooms", func(m map[string]any) bool { return m["action"] == "Rooms" })
	if lobby := rooms["rooms"].([]any)[0].(map[string]any); lobby["count"] != float64(3) {
		t.Fatalf("Rooms on node-0: %v, want the lobby's count 3", rooms)
	}

	// A room of its own: Bob's join shows in Alice's Presence with the sum.
	alice.send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	alice.await("RoomJoined dev", func(m map[string]any) bool { return m["action"] == "RoomJoined" })
	bob.send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	alice.await("Bob in dev", func(m map[string]any) bool {
		e := presenceEntry(m, "dev")
		return e != nil && hasID(e["joined"], bob.id()) && e["count"] == float64(2)
	})

	// Bob leaves: Disconnected for the seed, left in Presence; the counts follow.
	bob.c.Conn.Close()
	carol.await("Disconnected Bob", func(m map[string]any) bool {
		return m["action"] == "Disconnected" && m["userId"] == bob.id()
	})
	alice.await("Bob left", func(m map[string]any) bool {
		e := presenceEntry(m, "lobby")
		return e != nil && hasID(e["left"], bob.id()) && e["count"] == float64(2)
	})

	// A clean stop of node-1 (it leaves the nodes bucket): its users are Disconnected.
	dave := join(t, b.Server, "Dave", compact)
	carol.await("Connected Dave", func(m map[string]any) bool {
		return m["action"] == "Connected" && m["userId"] == dave.id()
	})
	b.Stop()
	carol.await("Disconnected Dave", func(m map[string]any) bool {
		if m["action"] == "ConnectionLost" {
			t.Fatalf("Dave of a node that stopped cleanly: %v, want Disconnected", m)
		}
		return m["action"] == "Disconnected" && m["userId"] == dave.id()
	})
	if p := alice.users("lobby"); p["count"] != float64(2) || hasID(p["users"], dave.id()) {
		t.Fatalf("Users after node-1 stopped: %v, want Alice and Carol", p)
	}
}

// TestNodeCutOffMakesItsUsersLost: a node that stops beating (cut off from NATS, as a
// kill -9 or a partition would) has its users ConnectionLost on the others once its
// key's ttl ran out.
func TestNodeCutOffMakesItsUsersLost(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, time.Second)
	a, b := nodes[0], nodes[1]
	alice := join(t, a.Server, "Alice", compact)
	carol := join(t, a.Server, "Carol", nil)
	dave := join(t, b.Server, "Dave", compact)
	carol.await("Connected Dave", func(m map[string]any) bool {
		return m["action"] == "Connected" && m["userId"] == dave.id()
	})
	alice.await("Dave joined", func(m map[string]any) bool {
		e := presenceEntry(m, "lobby")
		return e != nil && hasID(e["joined"], dave.id())
	})

	b.nats.Cut()
	carol.await("ConnectionLost Dave", func(m map[string]any) bool {
		if m["action"] == "Disconnected" && m["userId"] == dave.id() {
			t.Fatalf("Dave of a node cut off: %v, want ConnectionLost", m)
		}
		return m["action"] == "ConnectionLost" && m["userId"] == dave.id()
	})
	alice.await("Dave lost", func(m map[string]any) bool {
		e := presenceEntry(m, "lobby")
		return e != nil && hasID(e["lost"], dave.id()) && e["count"] == float64(2)
	})
}

// TestPresenceHealsAfterNATSRestart: a nats-server restart loses the nodes bucket
// (memory storage) and the ticks sent meanwhile; the nodes make the bucket again, and
// presence goes on: a user logging in on node-1 afterwards shows on node-0, nobody
// was lost on the way, and node-1 cut off then is seen gone in the new bucket.
func TestPresenceHealsAfterNATSRestart(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, time.Second)
	a, b := nodes[0], nodes[1]
	carol := join(t, a.Server, "Carol", nil)
	bob := join(t, b.Server, "Bob", compact)
	carol.await("Connected Bob", func(m map[string]any) bool {
		return m["action"] == "Connected" && m["userId"] == bob.id()
	})

	ns.Restart(t)
	var eve map[string]any
	chattest.Eventually(t, clusterWait, "a login on node-1 after the restart", func() bool {
		m, c := loginAnswer(t, b.Server, "Eve")
		if m["action"] != "Authorized" {
			c.Conn.Close()
			return false
		}
		eve = m
		return true
	})
	carol.await("Connected Eve", func(m map[string]any) bool {
		if m["action"] == "ConnectionLost" {
			t.Fatalf("after the restart: %v, nobody was lost", m)
		}
		return m["action"] == "Connected" && m["userId"] == eve["userId"]
	})
	chattest.Eventually(t, clusterWait, "node-0 counts Carol, Bob and Eve", func() bool {
		p := join(t, a.Server, "Probe", compact)
		defer p.c.Conn.Close()
		return p.auth["count"] == float64(4) // the probe too
	})

	b.nats.Cut()
	carol.await("ConnectionLost Bob", func(m map[string]any) bool {
		return m["action"] == "ConnectionLost" && m["userId"] == bob.id()
	})
}

// TestALateNodeSeesTheOthers: a node that starts while the others have users asks
// each for its snapshot (they send no tick while nobody comes or goes).
func TestALateNodeSeesTheOthers(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 30*time.Second)
	alice := join(t, nodes[0].Server, "Alice", compact)
	bob := join(t, nodes[1].Server, "Bob", compact)
	alice.await("Bob joined", func(m map[string]any) bool {
		e := presenceEntry(m, "lobby")
		return e != nil && hasID(e["joined"], bob.id())
	})
	late := startNode(t, ns, 2, 30*time.Second)
	erin := join(t, late.Server, "Erin", compact)
	chattest.Eventually(t, clusterWait, "the late node lists Alice, Bob and Erin", func() bool {
		p := erin.users("lobby")
		return p["count"] == float64(3) && hasID(p["users"], alice.id()) && hasID(p["users"], bob.id())
	})
}

// TestRoomsListsRoomsOfOtherNodes: a room whose members are all on another node is in
// Rooms too, with its count there, after the rooms with local members.
func TestRoomsListsRoomsOfOtherNodes(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 0)
	alice := join(t, nodes[0].Server, "Alice", compact)
	bob := join(t, nodes[1].Server, "Bob", compact)
	carol := join(t, nodes[1].Server, "Carol", compact)
	for _, p := range []*peer{bob, carol} {
		p.send(map[string]any{"action": "JoinRoom", "roomId": "garden"})
		p.await("RoomJoined", func(m map[string]any) bool { return m["action"] == "RoomJoined" })
	}
	deadline := time.Now().Add(clusterWait)
	for {
		alice.send(map[string]any{"action": "Rooms"})
		m := alice.await("Rooms", func(m map[string]any) bool { return m["action"] == "Rooms" })
		rooms, _ := m["rooms"].([]any)
		if len(rooms) == 2 && m["total"] == float64(2) {
			garden := rooms[1].(map[string]any)
			if garden["roomId"] != "garden" || garden["count"] != float64(2) {
				t.Fatalf("Rooms on node-0: %v, want garden with the other node's 2 members", rooms)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Rooms on node-0 never listed the other node's room: %v", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSignalsCrossNodes: Typing, Status and Buzz reach users on another node (the
// status also in its Users pages there), the
// seed's client's buzz as its PrivateMessage line, and a second buzz within the
// interval is refused on the sender's node as on one node.
func TestSignalsCrossNodes(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 0)
	alice := join(t, nodes[0].Server, "Alice", compact)
	qt := join(t, nodes[0].Server, "Qt", nil)
	bob := join(t, nodes[1].Server, "Bob", compact)
	for _, seen := range []struct {
		who *peer
		id  float64
	}{{alice, bob.id()}, {bob, alice.id()}} { // both nodes know the other's users
		seen.who.await("the other node's user", func(m map[string]any) bool {
			e := presenceEntry(m, "lobby")
			return e != nil && hasID(e["joined"], seen.id)
		})
	}

	bob.send(map[string]any{"action": "Typing", "roomId": "lobby"})
	if m := alice.await("Typing", func(m map[string]any) bool { return m["action"] == "Typing" }); m["userId"] != bob.id() {
		t.Fatalf("Alice got %v, want Bob typing", m)
	}
	bob.send(map[string]any{"action": "SetStatus", "status": "away", "text": "lunch"})
	if m := alice.await("Status", func(m map[string]any) bool { return m["action"] == "Status" }); m["userId"] != bob.id() || m["status"] != "away" {
		t.Fatalf("Alice got %v, want Bob away", m)
	}
	users, _ := alice.users("lobby")["users"].([]any)
	if i := slices.IndexFunc(users, func(u any) bool { return u.(map[string]any)["userId"] == bob.id() }); i < 0 {
		t.Fatalf("Bob is not in Alice's Users page: %v", users)
	} else if u := users[i].(map[string]any); u["status"] != "away" || u["statusText"] != "lunch" {
		t.Fatalf("Bob in Alice's Users page: %v, want away, lunch", u)
	}
	bob.send(map[string]any{"action": "Buzz", "toUserId": alice.id()})
	if m := alice.await("Buzz", func(m map[string]any) bool { return m["action"] == "Buzz" }); m["userId"] != bob.id() {
		t.Fatalf("Alice got %v, want Bob's buzz", m)
	}
	bob.send(map[string]any{"action": "Buzz", "toUserId": alice.id()})
	if e := bob.await("Error", func(m map[string]any) bool { return m["action"] == "Error" }); e["code"] != "rate_limited" {
		t.Fatalf("Bob's second buzz got %v, want rate_limited", e)
	}
	bob.send(map[string]any{"action": "Buzz", "toUserId": qt.id()})
	if m := qt.await("the buzz line", func(m map[string]any) bool { return m["action"] == "PrivateMessage" }); m["text"] != "** BUZZ! **" || m["userName"] != "Bob" {
		t.Fatalf("the seed client got %v, want Bob's buzz line", m)
	}
}
