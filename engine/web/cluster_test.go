package web_test

import (
	"testing"
	"time"

	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server/chattest"
)

// TestBrowserAndQtClientOnTwoNodes (issue 13): a browser on one cluster node and the
// seed's Qt client (its query, its frames) on another chat in one lobby, through a
// real nats-server: each sees the other's line (the browser in the recent history the
// other node's line is in), the Qt client as a plain PublicMessage.
func TestBrowserAndQtClientOnTwoNodes(t *testing.T) {
	ns := natstest.Start(t)
	qtNode := chattest.Start(t, testConfig(""), chattest.InCluster(ns.URL(), "node-qt"))
	webNode := chattest.Start(t, testConfig(""), chattest.InCluster(ns.URL(), "node-web"))

	qt := chattest.Dial(t, qtNode.URL("Qt", "#d35400", 2))
	qt.Expect("Authorized")
	qt.Send(map[string]any{"text": "hello from the Qt client", "toUserId": 0})
	lines := make(chan map[string]any, 64)
	go func() { // from now on the only user of qt: it reads (and answers Pings)
		for {
			m, err := qt.NextWithin(time.Minute)
			if err != nil {
				close(lines)
				return
			}
			if m["action"] == "PublicMessage" {
				lines <- m
			}
		}
	}()

	alice := newBrowser(t, "alice", 1200, 760)
	alice.login("http://"+webNode.Addr, "Alice", "#8e44ad", 2)
	alice.waitUsers("Alice")

	// Sent before the browser came: the lobby's recent history brings it.
	if got := alice.waitMessage("hello from the Qt client"); got.Name != "Qt" || got.Dir != "in" {
		t.Errorf("the browser on the other node sees %+v, want an incoming line from Qt", got)
	}

	alice.say("hello from the browser")
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatal("the Qt client's connection ended")
			}
			if m["text"] == "hello from the browser" {
				if m["userName"] != "Alice" {
					t.Fatalf("the Qt client got %v, want Alice's line", m)
				}
				return
			}
		case <-deadline:
			t.Fatal("the Qt client on the other node never got the browser's line")
		}
	}
}
