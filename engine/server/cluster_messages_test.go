package server_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server/chattest"
)

// TestClusterEditsAndReactionsCrossNodes: edits, reactions and deletes are records of
// the cluster's stream (docs/CLUSTER.md), so a member on another node sees them as on
// one node, and the other node's history has them.
func TestClusterEditsAndReactionsCrossNodes(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 0)
	alice, authA := nodes[0].LoginQuery(t, "Alice", editOptIn)
	bob, authB := nodes[1].LoginQuery(t, "Bob", editOptIn)

	seq := sendLine(t, alice, "lobby", "typo hree")
	bob.ExpectWhere("the line", func(m map[string]any) bool { return m["action"] == "PublicMessage" && m["seq"] == seq })

	alice.Send(map[string]any{"action": "Edit", "seq": seq, "text": "typo here"})
	if e := bob.Expect("Edited"); e["seq"] != seq || e["text"] != "typo here" {
		t.Fatalf("Bob on the other node got %v, want the edit of seq %v", e, seq)
	}
	if texts := historyTexts(t, bob, "lobby"); !slices.Contains(texts, "typo here") {
		t.Fatalf("the other node's history: %v, want the edited text", texts)
	}

	bob.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": "👍"})
	want := []string{"👍:1:" + fmt.Sprint(authB["userId"])}
	if got := summary(nextReactions(t, alice, seq)); !slices.Equal(got, want) {
		t.Fatalf("Alice got %v for Bob's reaction on the other node, want %v", got, want)
	}
	nextReactions(t, bob, seq) // his own
	alice.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": "👍"})
	want = []string{"👍:2:" + fmt.Sprint(authB["userId"]) + "," + fmt.Sprint(authA["userId"])}
	if got := summary(nextReactions(t, bob, seq)); !slices.Equal(got, want) {
		t.Fatalf("Bob got %v, want %v: one order of toggles on both nodes", got, want)
	}

	alice.Send(map[string]any{"action": "Delete", "seq": seq})
	if d := bob.Expect("Deleted"); d["seq"] != seq {
		t.Fatalf("Bob got %v, want the delete of seq %v", d, seq)
	}
}

// historyTexts is the texts of a room's latest lines, read with History.
func historyTexts(t *testing.T, c *chattest.Client, room string) []string {
	t.Helper()
	c.Send(map[string]any{"action": "History", "roomId": room, "limit": 50})
	h := c.ExpectWhere("History", func(m map[string]any) bool { return m["action"] == "History" })
	var texts []string
	for _, m := range h["messages"].([]any) {
		texts = append(texts, fmt.Sprint(m.(map[string]any)["text"]))
	}
	return texts
}

// TestClusterPrivateMessagesCrossNodes: a private line reaches its recipient on
// another node once presence has told the sender's node it is online there (the seed's
// client answers as on one node), and the reply comes back.
func TestClusterPrivateMessagesCrossNodes(t *testing.T) {
	ns := natstest.Start(t)
	nodes := startCluster(t, ns, 2, 0)
	alice, authA := nodes[0].LoginQuery(t, "Alice", editOptIn)
	qt, authQ := nodes[1].Login(t, "Qt") // the seed's client
	qt.AutoPong = true
	alice.ExpectWhere("Qt in Alice's Presence", func(m map[string]any) bool {
		return m["action"] == "Presence" && presenceEntry(m, "lobby") != nil &&
			hasID(presenceEntry(m, "lobby")["joined"], authQ["userId"].(float64))
	})

	alice.Send(map[string]any{"text": "psst", "toUserId": authQ["userId"], "clientMsgId": "p1"})
	alice.ExpectWhere("Sent p1", func(m map[string]any) bool {
		if m["action"] == "Error" {
			t.Fatalf("a private line to the other node: %v", m)
		}
		return m["action"] == "Sent" && m["clientMsgId"] == "p1"
	})
	got := qt.ExpectWhere("the private line", func(m map[string]any) bool { return m["action"] == "PrivateMessage" })
	if got["text"] != "psst" || got["userName"] != "Alice" {
		t.Fatalf("the Qt client on the other node got %v, want Alice's private line", got)
	}

	qt.Send(map[string]any{"text": "hi back", "toUserId": authA["userId"]})
	back := alice.ExpectWhere("the reply", func(m map[string]any) bool {
		return m["action"] == "PrivateMessage" && m["text"] == "hi back"
	})
	if back["userName"] != "Qt" {
		t.Fatalf("Alice got %v, want the Qt client's reply", back)
	}
}
