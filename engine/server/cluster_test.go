package server_test

import (
	"testing"
	"time"

	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// A chatd whose lines go through a real, embedded nats-server (docs/CLUSTER.md): Sent
// comes once JetStream and the node's SQLite have a line; while NATS is down a line
// gets cluster_unavailable with its clientMsgId and a login Error cluster_unavailable
// and close 1013, while connected clients stay; once NATS is back the chat heals and
// the refused line, sent again, is taken.

// loginAnswer dials a new client and returns its first frame and the client.
func loginAnswer(t *testing.T, s *chattest.Server, name string) (map[string]any, *chattest.Client) {
	c := chattest.Dial(t, s.URL(name, "#16a085", 1))
	return c.Next(), c
}

func TestClusterNodeThroughNATSOutage(t *testing.T) {
	ns := natstest.Start(t)
	node := chattest.Start(t, func(c *server.Config) {
		c.Cluster = &cluster.Config{NATS: cluster.NATSConfig{URLs: []string{ns.URL()}}, NodeName: "node-1"}
	})
	alice, _ := node.LoginQuery(t, "Alice", editOptIn)
	if seq := sendTagged(t, alice, map[string]any{"text": "before"}); seq != 1 {
		t.Fatalf("the first line's seq %v, want 1", seq)
	}

	ns.Stop()
	var refused map[string]any
	for range 200 { // the journal hears of the outage on its own: until a login says so
		m, c := loginAnswer(t, node, "Bob")
		c.Conn.Close()
		if m["action"] == "Error" {
			refused = m
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if refused == nil || refused["code"] != "cluster_unavailable" {
		t.Fatalf("a login during the outage: %v, want Error cluster_unavailable", refused)
	}
	_, bob := loginAnswer(t, node, "Bob")
	expectClose(t, bob, 1013)

	line := map[string]any{"text": "during", "clientMsgId": "c-during"}
	alice.Send(line)
	if e := alice.Expect("Error"); e["code"] != "cluster_unavailable" || e["clientMsgId"] != "c-during" {
		t.Fatalf("a line during the outage: %v, want cluster_unavailable with its clientMsgId", e)
	}

	ns.Resume(t)
	chattest.Eventually(t, 10*time.Second, "logins after NATS is back", func() bool {
		m, c := loginAnswer(t, node, "Carol")
		c.Conn.Close()
		return m["action"] == "Authorized"
	})
	alice.Send(line) // sent again, as the client does after cluster_unavailable
	sent := alice.ExpectWhere("Sent c-during", func(m map[string]any) bool {
		if m["action"] == "Error" {
			t.Fatalf("the retry after NATS came back: %v", m)
		}
		return m["action"] == "Sent" && m["clientMsgId"] == "c-during"
	})
	if sent["seq"] != float64(2) {
		t.Fatalf("the retried line's seq %v, want 2 (no gap, nothing twice)", sent["seq"])
	}
}
