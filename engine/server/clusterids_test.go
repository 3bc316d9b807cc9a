package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// Identities across the nodes of one cluster (docs/CLUSTER.md, "Names, userIds,
// sessions, resume"), on a real nats-server with two chatd nodes: names and userIds
// are unique cluster-wide, a resume token of one node resumes on the other (taking the
// identity over from a connection still open there), and a line accepted by one node
// is not stored twice when its sender retries it on the other.

func TestClusterNamesAndUserIDsAreUniqueAcrossNodes(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 0)
	a, b := nodes[0], nodes[1]

	bobA, authA := a.Login(t, "Bob")
	_, authB := b.Login(t, "Bob")
	_, authB2 := b.Login(t, "bob") // the same name by case, on the node that has "Bob (2)"
	_, authA2 := a.Login(t, "Воb") // a Cyrillic look-alike, on the first node
	for _, tc := range []struct {
		auth map[string]any
		want string
	}{{authA, "Bob"}, {authB, "Bob (2)"}, {authB2, "bob (3)"}, {authA2, "Воb (4)"}} {
		if tc.auth["userName"] != tc.want {
			t.Errorf("Authorized as %v, want %q", tc.auth["userName"], tc.want)
		}
	}
	ids := map[any]bool{}
	for _, auth := range []map[string]any{authA, authB, authB2, authA2} {
		if ids[auth["userId"]] {
			t.Fatalf("userId %v handed out twice across the nodes", auth["userId"])
		}
		ids[auth["userId"]] = true
	}

	bobA.Conn.Close() // a seed client's name is freed when it leaves
	chattest.Eventually(t, 10*time.Second, `"Bob" free again on the other node`, func() bool {
		c, auth := b.Login(t, "Bob")
		c.Conn.Close()
		return auth["userName"] == "Bob"
	})
}

func TestClusterResumeOnAnotherNode(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 0)
	a, b := nodes[0], nodes[1]

	aliceA, auth := a.LoginQuery(t, "Alice", editOptIn)
	seq := sendTagged(t, aliceA, map[string]any{"text": "from A", "clientMsgId": "m1"})
	tok := auth["resumeToken"].(string)

	// Online on A, resumed on B: B takes the identity over and A's connection closes.
	aliceB, again := b.LoginQuery(t, "Alice", url.Values{"resume": {tok}, "presence": {"compact"}})
	if again["resumed"] != true || again["userId"] != auth["userId"] || again["userName"] != "Alice" {
		t.Fatalf("resumed on the other node as %v, want Alice, userId %v, resumed", again, auth["userId"])
	}
	expectClose(t, aliceA, 4002)

	// The line A stored: retried on B with its clientMsgId, it is answered, not stored again.
	aliceB.Send(map[string]any{"text": "from A", "clientMsgId": "m1"})
	sent := aliceB.ExpectWhere("Sent m1", func(m map[string]any) bool { return m["action"] == "Sent" && m["clientMsgId"] == "m1" })
	if sent["seq"] != seq {
		t.Fatalf("the retry on the other node got seq %v, want the original %v", sent["seq"], seq)
	}
	if next := sendTagged(t, aliceB, map[string]any{"text": "from B"}); next != seq+1 {
		t.Fatalf("the next line's seq %v, want %v (the retry stored nothing)", next, seq+1)
	}

	// Gone from B, back on A within the grace: the same identity once more.
	aliceB.Conn.Close()
	chattest.Eventually(t, 10*time.Second, "resume on the first node after leaving the second", func() bool {
		c, back := a.LoginQuery(t, "Alice", url.Values{"resume": {tok}})
		c.Conn.Close()
		return back["resumed"] == true && back["userId"] == auth["userId"]
	})

	// The name stays the identity's meanwhile: a newcomer called Alice is "Alice (2)".
	_, other := b.Login(t, "Alice")
	if other["userName"] != "Alice (2)" {
		t.Fatalf("a newcomer while Alice may resume: %v, want Alice (2)", other["userName"])
	}
}

func TestClusterForgedTokenIsRefusedOnEveryNode(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 0)
	_, auth := nodes[0].LoginQuery(t, "Alice", editOptIn)
	tok := []byte(auth["resumeToken"].(string))
	tok[len(tok)-1] ^= 1 // one bit of the MAC
	c, got := nodes[1].LoginQuery(t, "Mallory", url.Values{"resume": {string(tok)}})
	if got["resumed"] == true || got["userId"] == auth["userId"] {
		t.Fatalf("a forged token resumed %v", got)
	}
	if e := c.Expect("Error"); e["code"] != "resume_failed" {
		t.Fatalf("a forged token: %v, want Error resume_failed", e)
	}
}

// TestClusterNodeTakesAccounts: a cluster node serves the accounts API (register
// answers 201, no longer 501 accounts_unavailable) and starts with the flags that
// need accounts, --allow-anonymous=false and --jwt-key (accounts_cluster_test.go
// shows them across nodes).
func TestClusterNodeTakesAccounts(t *testing.T) {
	ns := natstest.Start(t)
	node := startCluster(t, ns, 1, 0)[0]
	resp, err := http.Post("http://"+node.Addr+"/api/register", "application/json", strings.NewReader(`{"name":"Alice","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"token"`) {
		t.Fatalf("register on a cluster node: %d %s, want 201 with a token", resp.StatusCode, body)
	}

	strict := chattest.Start(t, chattest.InCluster(ns.URL(), "node-x"), withJWTKey(writeKey(t, []byte("site secret"))),
		func(c *server.Config) { c.Accounts.AllowAnonymous = false })
	c := chattest.Dial(t, strict.URL("Mallory", "#16a085", 1))
	if e := c.Next(); e["code"] != "account_required" {
		t.Fatalf("an anonymous login on a node with --allow-anonymous=false: %v, want account_required", e)
	}
}
