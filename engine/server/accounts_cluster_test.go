package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/chat"
	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// Registered accounts shared by a cluster (docs/CLUSTER.md, "Accounts"), on a real
// nats-server with two chatd nodes in the test process: an account registered on one
// node logs in on the other, its tokens are valid on every node and a logout ends
// their connections everywhere, its name is held cluster-wide, one of two nodes
// registering a name at once wins, a JWT's sub is one userId on every node, and
// while NATS is away registration and login answer cluster_unavailable.

// accountNodes starts n cluster nodes (node-0, node-1, …) on ns with opts.
func accountNodes(t *testing.T, ns *natstest.Server, n int, opts ...chattest.Option) []*chattest.Server {
	t.Helper()
	nodes := make([]*chattest.Server, n)
	for i := range nodes {
		nodes[i] = chattest.Start(t, append([]chattest.Option{chattest.InCluster(ns.URL(), fmt.Sprintf("node-%d", i))}, opts...)...)
	}
	return nodes
}

// TestClusterAccountOnEveryNode: registered on A, the account logs in with its
// password on B at once; A's token logs in on B and B's on A, as the same userId; a
// logout on A of the token B's connection logged in with closes it (bad_token,
// 4004), and the token is refused on both nodes after.
func TestClusterAccountOnEveryNode(t *testing.T) {
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2)
	a, b := nodes[0], nodes[1]
	apiA, apiB := newAPI(t, a, ""), newAPI(t, b, "")

	tokA, id := apiA.register("Alice", "alices password")
	tokB := apiB.login("Alice", "alices password") // no wait: B looks the name up in the cluster

	onB, m := dialToken(t, b, tokA) // no wait either: B looks the token up
	expectAccount(t, m, "Alice", id)
	onA, m := dialToken(t, a, tokB)
	expectAccount(t, m, "Alice", id)

	if status, _, _ := apiA.post("/api/logout", nil, bearerHeader(tokA)); status != http.StatusNoContent {
		t.Fatalf("logout on A: %d", status)
	}
	if e := onB.Expect("Error"); e["code"] != "bad_token" {
		t.Fatalf("B's connection after the logout on A: %v", e)
	}
	expectClose(t, onB, 4004)
	onA.Send(map[string]any{"text": "still here"}) // logged in with the other token
	if m := onA.Expect("PublicMessage"); m["text"] != "still here" {
		t.Fatalf("the other token's connection: %v", m)
	}
	expectBadToken(t, b, tokA)
	expectBadToken(t, a, tokA)

	if status, _, _ := apiB.post("/api/logout?all=1", nil, bearerHeader(tokB)); status != http.StatusNoContent {
		t.Fatalf("logout ?all=1 on B: %d", status)
	}
	if e := onA.Expect("Error"); e["code"] != "bad_token" {
		t.Fatalf("A's connection after ?all=1 on B: %v", e)
	}
	expectClose(t, onA, 4004)
	apiA.expect("/api/login", creds("Alice", "wrong password"), http.StatusUnauthorized, "bad_credentials")
}

// TestClusterAccountNameHeldOnEveryNode: a name registered on A is refused to
// nicknames on B (and its look-alikes), which get "name (N)" as for any taken name,
// whether or not the account is online; a registration on B of it is name_taken.
func TestClusterAccountNameHeldOnEveryNode(t *testing.T) {
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2)
	a, b := nodes[0], nodes[1]
	_, id := newAPI(t, a, "").register("Carol", "carols password")

	for _, nick := range []string{"Carol", "carol", "Сarol"} { // the last with a Cyrillic С
		c, auth := b.Login(t, nick)
		if auth["userName"] == nick || auth["userId"] == id {
			t.Fatalf("nickname %q on B: %v, want another name and userId", nick, auth)
		}
		c.Conn.Close()
	}
	newAPI(t, b, "").expect("/api/register", creds("carol", "another password"), http.StatusConflict, "name_taken")
}

// TestClusterRegistrationRaceHasOneWinner: both nodes register the same names at
// once; for each name exactly one gets 201 and the other 409 name_taken, and the
// userIds handed out are distinct across the nodes.
func TestClusterRegistrationRaceHasOneWinner(t *testing.T) {
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2)
	apis := []*apiClient{newAPI(t, nodes[0], ""), newAPI(t, nodes[1], "")}
	ids := map[float64]string{}
	for i := range 8 {
		name := fmt.Sprintf("Racer %d", i)
		var wg sync.WaitGroup
		status := make([]int, 2)
		answers := make([]map[string]any, 2)
		for n, api := range apis {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status[n], answers[n], _ = api.post("/api/register", creds(name, "racers password"), nil)
			}()
		}
		wg.Wait()
		won := 0
		for n := range apis {
			switch {
			case status[n] == http.StatusCreated:
				won++
				id := answers[n]["userId"].(float64)
				if ids[id] != "" {
					t.Fatalf("userId %v given to %q and %q", id, ids[id], name)
				}
				ids[id] = name
			case status[n] != http.StatusConflict || answers[n]["error"] != "name_taken":
				t.Fatalf("%q on node %d: %d %v, want 201 or 409 name_taken", name, n, status[n], answers[n])
			}
		}
		if won != 1 {
			t.Fatalf("%q: %d nodes registered it, want exactly 1 (%v)", name, won, status)
		}
	}
}

// TestClusterJWTSubIsOneAccount: the same sub's first logins on both nodes at once
// are one account, one userId, on both; later logins keep it.
func TestClusterJWTSubIsOneAccount(t *testing.T) {
	secret := []byte("site secret")
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2, withJWTKey(writeKey(t, secret)))
	exp := time.Now().Add(time.Hour).Unix()
	for i := range 4 {
		tok := signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": fmt.Sprintf("site-%d", i), "name": "Lena", "exp": exp})
		var wg sync.WaitGroup
		auths := make([]map[string]any, 2)
		for n, s := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := chattest.Dial(t, "ws://"+s.Addr+"/?presence=compact&token="+tok)
				auths[n] = c.Next()
				c.Conn.Close()
			}()
		}
		wg.Wait()
		for _, m := range auths {
			if m["action"] != "Authorized" || m["account"] != true {
				t.Fatalf("JWT login of site-%d: %v", i, m)
			}
		}
		if auths[0]["userId"] != auths[1]["userId"] {
			t.Fatalf("sub site-%d: userId %v on node-0, %v on node-1, want one", i, auths[0]["userId"], auths[1]["userId"])
		}
		_, again := dialToken(t, nodes[1], tok)
		if again["userId"] != auths[0]["userId"] {
			t.Fatalf("sub site-%d again on node-1: %v, want userId %v", i, again, auths[0]["userId"])
		}
	}
}

// TestClusterNodeRequiresAccounts: --allow-anonymous=false on cluster nodes: a login
// without a token is account_required (4006) on each, a token registered on one
// logs in on the other.
func TestClusterNodeRequiresAccounts(t *testing.T) {
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2, func(c *server.Config) { c.Accounts.AllowAnonymous = false })
	tok, id := newAPI(t, nodes[0], "").register("Erin", "erins password")
	for _, s := range nodes {
		c := chattest.Dial(t, s.URL("Mallory", "#16a085", 1))
		if e := c.Next(); e["action"] != "Error" || e["code"] != "account_required" {
			t.Fatalf("an anonymous login: %v, want Error account_required", e)
		}
		expectClose(t, c, 4006)
	}
	_, m := dialToken(t, nodes[1], tok)
	expectAccount(t, m, "Erin", id)
}

// TestClusterAccountsThroughNATSOutage: while NATS is down, register, login and
// logout answer 503 cluster_unavailable and make nothing; a token known before still
// logs in... as far as the chat lets logins in then (it answers 1013 while NATS is
// away); once NATS is back, the name refused meanwhile registers (no half-made
// account held it), the old token still works, and the other node's mirror has
// gone on: the new account logs in there and a logout on the first node ends its
// connection there.
func TestClusterAccountsThroughNATSOutage(t *testing.T) {
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2)
	node, other := nodes[0], nodes[1]
	api := newAPI(t, node, "")
	tok, id := api.register("Frank", "franks password")

	ns.Stop()
	chattest.Eventually(t, 10*time.Second, "register refused while NATS is down", func() bool {
		status, m, _ := api.post("/api/register", creds("Grace", "graces password"), nil)
		if status == http.StatusCreated {
			t.Fatalf("registered while NATS is down: %v", m)
		}
		return status == http.StatusServiceUnavailable && m["error"] == "cluster_unavailable"
	})
	api.expect("/api/login", creds("Frank", "franks password"), http.StatusServiceUnavailable, "cluster_unavailable")
	// a name this node does not know may be another node's account: not "wrong password"
	api.expect("/api/login", creds("Nobody", "nobodys password"), http.StatusServiceUnavailable, "cluster_unavailable")
	if status, m, _ := api.post("/api/logout", nil, bearerHeader(tok)); status != http.StatusServiceUnavailable || m["error"] != "cluster_unavailable" {
		t.Fatalf("logout while NATS is down: %d %v, want 503 cluster_unavailable", status, m)
	}

	ns.Resume(t)
	chattest.Eventually(t, 15*time.Second, "register once NATS is back", func() bool {
		status, _, _ := api.post("/api/register", creds("Grace", "graces password"), nil)
		return status == http.StatusCreated
	})
	_, m := dialToken(t, node, tok) // the logout refused meanwhile revoked nothing
	expectAccount(t, m, "Frank", id)
	// The other node's mirror goes on after the outage: it has what was made since.
	apiB := newAPI(t, other, "")
	var tokB string
	chattest.Eventually(t, 15*time.Second, "the new account's login on the other node", func() bool {
		status, m, _ := apiB.post("/api/login", creds("Grace", "graces password"), nil)
		if status == http.StatusOK {
			tokB = m["token"].(string)
		}
		return status == http.StatusOK // 503 until that node is back on NATS
	})
	onB, _ := dialToken(t, other, tokB)
	if status, _, _ := api.post("/api/logout", nil, bearerHeader(tokB)); status != http.StatusNoContent {
		t.Fatalf("logout on the first node of the other's token: %d", status)
	}
	expectClose(t, onB, 4004)
}

// TestClusterJWTNameIsUniqueAcrossNodes: a JWT's display name is de-duplicated
// cluster-wide: the name of an account registered on A is "name (2)" for a JWT on B,
// a nickname on B cannot take the name a JWT account is online with on A, and the
// name is free again once that account left.
func TestClusterJWTNameIsUniqueAcrossNodes(t *testing.T) {
	secret := []byte("site secret")
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2, withJWTKey(writeKey(t, secret)))
	a, b := nodes[0], nodes[1]
	exp := time.Now().Add(time.Hour).Unix()
	newAPI(t, a, "").register("Lena", "lenas password")

	_, m := dialToken(t, b, signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "s-1", "name": "Lena", "exp": exp}))
	if m["action"] != "Authorized" || m["userName"] != "Lena (2)" {
		t.Fatalf("a JWT named like an account of the other node: %v, want Lena (2)", m)
	}
	nick, m := dialToken(t, a, signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "s-2", "name": "Nick", "exp": exp}))
	if m["userName"] != "Nick" {
		t.Fatalf("a JWT login: %v, want Nick", m)
	}
	c, auth := b.Login(t, "Nick")
	if auth["userName"] != "Nick (2)" {
		t.Fatalf("a nickname on B like a JWT account online on A: %v, want Nick (2)", auth)
	}
	c.Conn.Close()
	nick.Conn.Close()
	eventuallyFree(t, b, "Nick", "once the JWT account left")
}

// eventuallyFree waits until a nickname login on s as name gets name itself.
func eventuallyFree(t *testing.T, s *chattest.Server, name, when string) {
	t.Helper()
	chattest.Eventually(t, 10*time.Second, fmt.Sprintf("%q free %s", name, when), func() bool {
		c, auth := s.Login(t, name)
		c.Conn.Close()
		return auth["userName"] == name
	})
}

// TestClusterJWTNameHeldWhileOnAnyNode: a JWT account online on A and on B shows its
// display name on both; when its device on A leaves, the name is still its own on B,
// so a nickname on A cannot take it, and it is free once the account left B too.
func TestClusterJWTNameHeldWhileOnAnyNode(t *testing.T) {
	secret := []byte("site secret")
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2, withJWTKey(writeKey(t, secret)))
	a, b := nodes[0], nodes[1]
	tok := signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "s-9", "name": "Omar", "exp": time.Now().Add(time.Hour).Unix()})
	onA, m := dialToken(t, a, tok)
	onB, mb := dialToken(t, b, tok)
	if m["userName"] != "Omar" || mb["userName"] != "Omar" || m["userId"] != mb["userId"] {
		t.Fatalf("one JWT account on two nodes: %v and %v, want Omar, the same userId", m, mb)
	}
	js, err := jetstream.New(ns.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	names, err := js.KeyValue(context.Background(), "chatd_names")
	if err != nil {
		t.Fatal(err)
	}
	folded, _ := chat.NameKeys("Omar")
	heldOnA := func() bool {
		h, ok, err := cluster.NameHolder(context.Background(), names, folded)
		return err == nil && ok && (h.Node == "node-0" || slices.Contains(h.Shared, "node-0"))
	}
	chattest.Eventually(t, 10*time.Second, "the name held from both nodes", heldOnA)
	onA.Conn.Close()
	chattest.Eventually(t, 10*time.Second, "node-0 left the name", func() bool { return !heldOnA() })
	c, auth := a.Login(t, "Omar")
	if auth["userName"] == "Omar" {
		t.Fatalf("a nickname on A took the name the JWT account shows on B: %v", auth)
	}
	c.Conn.Close()
	onB.Conn.Close()
	eventuallyFree(t, a, "Omar", "once the account left both nodes")
}

// TestClusterTakesASingleNodesAccounts: the accounts a server registered as a single
// node are the cluster's once it restarts as a node on the same --data-dir: another
// node logs them in with their password and their old tokens, their names are held
// (a nickname gets "name (2)", registering it is name_taken), and a restart imports
// nothing twice.
func TestClusterTakesASingleNodesAccounts(t *testing.T) {
	dir, secret := t.TempDir(), []byte("site secret")
	jwtKey := withJWTKey(writeKey(t, secret))
	dataDir := func(c *server.Config) { c.DataDir = dir }
	single := chattest.Start(t, dataDir, jwtKey)
	tok, id := newAPI(t, single, "").register("Pia", "pias password")
	jwtTok := signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "s-pia", "name": "Quin", "exp": time.Now().Add(time.Hour).Unix()})
	_, quin := dialToken(t, single, jwtTok)
	single.Stop()

	ns := natstest.Start(t)
	for restart := range 2 {
		first := chattest.Start(t, dataDir, jwtKey, chattest.InCluster(ns.URL(), "node-0"))
		other := chattest.Start(t, jwtKey, chattest.InCluster(ns.URL(), fmt.Sprintf("node-%d", restart+1)))
		api := newAPI(t, other, "")
		api.login("Pia", "pias password")
		_, m := dialToken(t, other, tok)
		expectAccount(t, m, "Pia", id)
		if _, m := dialToken(t, other, jwtTok); m["userId"] != quin["userId"] {
			t.Fatalf("the single node's JWT account on another node: %v, want userId %v", m, quin["userId"])
		}
		api.expect("/api/register", creds("pia", "another password"), http.StatusConflict, "name_taken")
		c, auth := other.Login(t, "Pia")
		if auth["userName"] == "Pia" {
			t.Fatalf("a nickname took a single node's account name: %v", auth)
		}
		c.Conn.Close()
		first.Stop()
		other.Stop()
	}
}

// TestClusterAccountRoomsAndReadsFollowIt: the rooms an account joined on A (and not
// left) are rejoined at its login on B, and its read position from A counts there:
// the lines others sent while it was away are unread on B, its own are not; a Read on
// B counts on A.
func TestClusterAccountRoomsAndReadsFollowIt(t *testing.T) {
	ns := natstest.Start(t)
	nodes := accountNodes(t, ns, 2)
	a, b := nodes[0], nodes[1]
	tok, _ := newAPI(t, a, "").register("Fay", "fays password")
	fay, _ := dialToken(t, a, tok)
	for _, action := range []map[string]any{
		{"action": "JoinRoom", "roomId": "dev"}, {"action": "JoinRoom", "roomId": "ops"}, {"action": "LeaveRoom", "roomId": "ops"},
	} {
		fay.Send(action)
	}
	fay.Expect("RoomLeft")
	sendTagged(t, fay, map[string]any{"text": "mine", "roomId": "dev"})
	fay.Conn.Close()

	bob, _ := a.LoginQuery(t, "Bob", editOptIn)
	bob.Send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	bob.Expect("RoomJoined")
	var last float64
	for i := range 3 {
		last = sendTagged(t, bob, map[string]any{"text": fmt.Sprint("news ", i), "roomId": "dev"})
	}

	// rooms logs in on s once the cluster's record reached it, and returns the rooms
	// rejoined with their unread counts.
	rooms := func(s *chattest.Server, want map[string]float64) {
		t.Helper()
		chattest.Eventually(t, clusterWait, fmt.Sprintf("rooms %v on %s", want, s.Addr), func() bool {
			c, m := dialToken(t, s, tok)
			defer c.Conn.Close()
			if m["action"] != "Authorized" {
				t.Fatalf("login: %v", m)
			}
			got := map[string]float64{}
			c.Send(map[string]any{"action": "Rooms"}) // answered after every rejoin
			for {
				m := c.Next()
				switch m["action"] {
				case "RoomJoined":
					got[m["roomId"].(string)], _ = m["unread"].(float64)
				case "Rooms":
					return fmt.Sprint(got) == fmt.Sprint(want)
				}
			}
		})
	}
	rooms(b, map[string]float64{"dev": 3}) // Bob's three, not Fay's own; not ops, left
	onB, _ := dialToken(t, b, tok)
	onB.Send(map[string]any{"action": "Read", "roomId": "dev", "seq": last - 1})
	onB.Send(map[string]any{"action": "Rooms"}) // answered after the Read
	onB.Expect("Rooms")
	onB.Conn.Close()
	rooms(a, map[string]float64{"dev": 1})
}
