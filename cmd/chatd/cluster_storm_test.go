package main

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chatd/chatd/protocol"
)

// TestKilledNodesClientsResumeElsewhere (issue 13, "Guarantees keep their meaning"):
// three nodes; senders on node 0 send in a storm and node 0 is killed (SIGKILL) in the
// middle of it. Each sender resumes on another node with its token, as the same
// identity, and sends again every line it got no Sent for, with its clientMsgId.
// Then every line has its Sent, each once in the history at the seq its Sent gave,
// the seqs gap-free, and the members on the surviving nodes saw the lobby in that one
// order, each line once.
func TestKilledNodesClientsResumeElsewhere(t *testing.T) {
	const senders, before, during = 3, 20, 40
	c := startCluster(t, 3, "--rate-limit", "1000", "--rate-burst", "1000")
	dying := c.Nodes[0]
	watchers := []*chattest.Client{}
	for i, nd := range c.Nodes[1:] {
		w, _ := nd.Login(t, fmt.Sprint("Watcher ", i), url.Values{"resume": {""}})
		watchers = append(watchers, w)
	}
	type sender struct {
		cl    *chattest.Client
		token string
		id    any
		sent  map[string]float64 // clientMsgId → seq of its Sent
	}
	ss := make([]*sender, senders)
	for i := range ss {
		cl, auth := dying.Login(t, fmt.Sprint("Sender ", i), url.Values{"resume": {""}})
		ss[i] = &sender{cl: cl, token: auth["resumeToken"].(string), id: auth["userId"], sent: map[string]float64{}}
	}
	cid := func(i, n int) string { return fmt.Sprintf("s%d-%d", i, n) }
	send := func(s *sender, i, n int) { s.cl.Send(map[string]any{"text": cid(i, n), "clientMsgId": cid(i, n)}) }

	for i, s := range ss { // some lines before the storm, each waited for
		for n := range before {
			send(s, i, n)
		}
		for len(s.sent) < before {
			readSent(t, s.cl, s.sent)
		}
	}
	for n := before; n < before+during; n++ { // the storm: not waited for, the node dies in it
		for i, s := range ss {
			send(s, i, n)
		}
	}
	for _, s := range ss {
		readSent(t, s.cl, s.sent) // at least one more Sent, so the kill is mid-storm
	}
	dying.Kill(t)
	for _, s := range ss {
		drainUntilClosed(s.cl, s.sent)
	}

	for i, s := range ss { // resume on a surviving node, and send again what got no Sent
		nd := c.Nodes[1+i%2]
		cl, auth := nd.Login(t, fmt.Sprint("Sender ", i), url.Values{"resume": {s.token}})
		if auth["resumed"] != true || auth["userId"] != s.id {
			t.Fatalf("sender %d on %s: %v, want resumed as userId %v", i, nd.Name, auth, s.id)
		}
		s.cl = cl
		resent := 0
		for n := range before + during {
			if _, ok := s.sent[cid(i, n)]; !ok {
				send(s, i, n)
				resent++
			}
		}
		t.Logf("sender %d: %d lines got no Sent before the kill, sent again on %s", i, resent, nd.Name)
		for len(s.sent) < before+during {
			readSent(t, s.cl, s.sent)
		}
	}

	total := senders * (before + during)
	history := lobbyHistory(t, c.Nodes[2], total)
	for i, s := range ss {
		for n := range before + during {
			id := cid(i, n)
			if got := history[id]; len(got) != 1 || got[0] != s.sent[id] {
				t.Fatalf("%s in the history at seqs %v, its Sent said %v: want exactly there, once", id, got, s.sent[id])
			}
		}
	}
	for i, w := range watchers {
		expectLobbyInOrder(t, w, total, fmt.Sprint("watcher ", i))
	}
}

// readSent reads until one Sent arrives and records it; an Error fails the test.
func readSent(t *testing.T, cl *chattest.Client, sent map[string]float64) {
	t.Helper()
	m := cl.ExpectWhere("Sent", func(m map[string]any) bool {
		if m["action"] == "Error" {
			t.Fatalf("a line got %v", m)
		}
		return m["action"] == "Sent"
	})
	sent[m["clientMsgId"].(string)] = m["seq"].(float64)
}

// drainUntilClosed records the Sents a client still gets until its node's death
// closes its connection.
func drainUntilClosed(cl *chattest.Client, sent map[string]float64) {
	for range 100_000 {
		m, err := cl.NextWithin(10 * time.Second)
		if err != nil {
			return
		}
		if m["action"] == "Sent" {
			sent[m["clientMsgId"].(string)] = m["seq"].(float64)
		}
	}
}

// lobbyHistory is the lobby's whole history read on nd by a new client, newest page
// first: each text with every seq it is stored at. It checks it holds want lines. A
// node serves History from its own copy, which holds a line once the node consumed it
// from the stream, a few ms after the Sent another node gave (docs/CLUSTER.md), so it
// reads again until all want are there (10 s at most).
func lobbyHistory(t *testing.T, nd *testNode, want int) map[string][]float64 {
	t.Helper()
	cl, _ := nd.Login(t, "Reader", nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		texts, seen := readLobby(cl, want)
		if seen == want || time.Now().After(deadline) {
			if seen != want {
				t.Fatalf("the lobby's history holds %d lines, want %d", seen, want)
			}
			return texts
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readLobby reads the lobby's history once, newest page first, up to want lines.
func readLobby(cl *chattest.Client, want int) (texts map[string][]float64, seen int) {
	texts = map[string][]float64{}
	before := 0
	for seen < want {
		req := map[string]any{"action": "History", "roomId": protocol.DefaultRoomID, "limit": 100}
		if before > 0 {
			req["before"] = before
		}
		cl.Send(req)
		h := cl.ExpectWhere("History", func(m map[string]any) bool { return m["action"] == "History" })
		msgs, _ := h["messages"].([]any)
		if len(msgs) == 0 {
			break
		}
		oldest := 1 << 30
		for _, m := range msgs {
			line := m.(map[string]any)
			seq := line["seq"].(float64)
			texts[line["text"].(string)] = append(texts[line["text"].(string)], seq)
			oldest = min(oldest, int(seq))
			seen++
		}
		before = oldest
	}
	return texts, seen
}

// expectLobbyInOrder reads a member's lobby lines until it has want of them: their
// seqs must be 1, 2, … want, each once.
func expectLobbyInOrder(t *testing.T, cl *chattest.Client, want int, who string) {
	t.Helper()
	next := 1
	for next <= want {
		m := cl.ExpectWhere("a lobby line", func(m map[string]any) bool {
			return m["action"] == "PublicMessage" && m["roomId"] == protocol.DefaultRoomID
		})
		if m["seq"] != float64(next) {
			t.Fatalf("%s got seq %v, want %d (one order, no gap, nothing twice)", who, m["seq"], next)
		}
		next++
	}
}
