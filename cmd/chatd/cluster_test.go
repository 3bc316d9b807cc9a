package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chatd/chatd/protocol"
)

// TestTwoNodesOneLobby: two chatd processes on one nats-server are one chat: a line
// sent on node A reaches a member on node B at the seq A's sender got in its Sent,
// and B's History has it; the same the other way round. Messages are told apart by
// their text.
func TestTwoNodesOneLobby(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.Nodes[0], c.Nodes[1]
	alice, _ := a.Login(t, "Alice", nil)
	bob, _ := b.Login(t, "Bob", nil)
	room := protocol.DefaultRoomID

	for _, dir := range []struct {
		from, to *chattest.Client
		text     string
	}{{alice, bob, "hello from A"}, {bob, alice, "hello from B"}} {
		cid := "c-" + dir.text
		dir.from.Send(map[string]any{"text": dir.text, "clientMsgId": cid})
		sent := dir.from.ExpectWhere("Sent "+cid, func(m map[string]any) bool {
			if m["action"] == "Error" {
				t.Fatalf("%q: %v", dir.text, m)
			}
			return m["action"] == "Sent" && m["clientMsgId"] == cid
		})
		got := dir.to.ExpectWhere("the line "+dir.text, func(m map[string]any) bool {
			return m["action"] == "PublicMessage" && m["text"] == dir.text
		})
		if got["seq"] != sent["seq"] || got["roomId"] != room {
			t.Fatalf("%q arrived at seq %v in %v, its Sent said seq %v in %v", dir.text, got["seq"], got["roomId"], sent["seq"], room)
		}
	}

	texts := historyTexts(t, bob, room, 0)
	if texts["hello from A"] == 0 || texts["hello from B"] != texts["hello from A"]+1 {
		t.Fatalf("History on B: %v, want both lines, A's first", texts)
	}
}

// TestRestartedNodeCatchesUpBeforeServing: a node that was down while the others
// wrote serves again only once its SQLite has every line: its first client's History
// holds all of them.
func TestRestartedNodeCatchesUpBeforeServing(t *testing.T) {
	const lines = 3000
	c := startCluster(t, 2, "--rate-limit", "100000", "--rate-burst", "100000")
	a, b := c.Nodes[0], c.Nodes[1]
	b.Kill(t)
	alice, _ := a.Login(t, "Alice", nil)
	for i := range lines {
		alice.Send(map[string]any{"text": fmt.Sprint("while B was down ", i), "clientMsgId": fmt.Sprint("c", i)})
	}
	alice.ExpectWhere("the last Sent", func(m map[string]any) bool {
		return m["action"] == "Sent" && m["clientMsgId"] == fmt.Sprint("c", lines-1)
	})

	c.Start(t, b) // returns once B answers /healthz
	bob, _ := b.Login(t, "Bob", nil)
	// The newest page and the oldest: the lines written last are the ones a node
	// that served too early would lack.
	for _, page := range []struct{ before, first, last int }{{0, lines - 100, lines}, {101, 0, 100}} {
		texts := historyTexts(t, bob, protocol.DefaultRoomID, page.before)
		for i := page.first; i < page.last; i++ {
			if seq := texts[fmt.Sprint("while B was down ", i)]; seq != float64(i+1) {
				t.Fatalf("once B serves, its History has line %d at seq %v, want %d (page before %d: %d lines)", i, seq, i+1, page.before, len(texts))
			}
		}
	}
}

// historyTexts asks for one page of room's History (before: older than that seq;
// 0: the newest) and returns its lines' seqs by text.
func historyTexts(t *testing.T, c *chattest.Client, room string, before int) map[string]float64 {
	t.Helper()
	req := map[string]any{"action": "History", "roomId": room, "limit": 100}
	if before > 0 {
		req["before"] = before
	}
	c.Send(req)
	h := c.ExpectWhere("History", func(m map[string]any) bool {
		if m["action"] == "Error" {
			t.Fatalf("History: %v", m)
		}
		return m["action"] == "History"
	})
	texts := map[string]float64{}
	msgs, _ := h["messages"].([]any)
	for _, m := range msgs {
		line := m.(map[string]any)
		texts[line["text"].(string)], _ = line["seq"].(float64)
	}
	return texts
}

// TestSingleNodeNeedsNoCluster: without --nats (and with CHATD_NATS empty) chatd is the
// single-node server: no NATS anywhere, its lines get Sent from its own SQLite, and it
// never opens a cluster journal.
func TestSingleNodeNeedsNoCluster(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	cmd := chatd(t, dir, "start", "--listen", addr, "--data-dir", "data", "--log-level", "info")
	cmd.Env = append(cmd.Env, "CHATD_NATS=")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitHealthy(t, addr)
	c := chattest.Dial(t, "ws://"+addr+"/?userName=Solo")
	c.Expect("Authorized")
	c.Send(map[string]any{"text": "alone", "clientMsgId": "c1"})
	if sent := c.Expect("Sent"); sent["seq"] != float64(1) {
		t.Fatalf("Sent %v, want seq 1", sent)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if out := log.String(); strings.Contains(out, "cluster") || !strings.Contains(out, "history opened") {
		t.Fatalf("a single node's log mentions the cluster (or is not its log):\n%s", out)
	}
}

// TestNodesOnOnePort: one box's way, two nodes on one port with --reuse-port: the
// clients land on both, and a line reaches every one of them at one seq.
func TestNodesOnOnePort(t *testing.T) {
	const clients = 20 // all on one node by chance: 2^-19
	c := startClusterOnOnePort(t, 2)
	addr := c.Nodes[0].Addr
	var cls []*chattest.Client
	for i := range clients {
		cl := chattest.Dial(t, fmt.Sprintf("ws://%s/?userName=u%d", addr, i))
		cl.Expect("Authorized")
		cls = append(cls, cl)
	}
	for pid, n := range connsByPid(t, addr, len(c.Nodes)) {
		if n == 0 {
			t.Fatalf("node pid %d holds none of the %d clients", pid, clients)
		}
	}
	cls[0].Send(map[string]any{"text": "to everyone on the box", "clientMsgId": "c1"})
	var seq any
	for i, cl := range cls {
		m := cl.ExpectWhere("the line", func(m map[string]any) bool {
			return m["action"] == "PublicMessage" && m["text"] == "to everyone on the box"
		})
		if i == 0 {
			seq = m["seq"]
		} else if m["seq"] != seq {
			t.Fatalf("client %d got the line at seq %v, client 0 at %v", i, m["seq"], seq)
		}
	}
}

// TestNodesHealAfterNATSRestart: nats-server restarts on its store under two running
// nodes; the nodes reconnect by themselves, a line sent again after cluster_unavailable
// gets Sent, and it reaches the other node at that seq, after the line from before.
func TestNodesHealAfterNATSRestart(t *testing.T) {
	c := startCluster(t, 2)
	alice, _ := c.Nodes[0].Login(t, "Alice", nil)
	bob, _ := c.Nodes[1].Login(t, "Bob", nil)
	send := func(text string) float64 { // until Sent; cluster_unavailable is retried
		cid := "c-" + text
		for range 200 {
			alice.Send(map[string]any{"text": text, "clientMsgId": cid})
			m := alice.ExpectWhere("Sent or Error", func(m map[string]any) bool {
				return (m["action"] == "Sent" || m["action"] == "Error") && m["clientMsgId"] == cid
			})
			if m["action"] == "Sent" {
				return m["seq"].(float64)
			}
			if m["code"] != "cluster_unavailable" {
				t.Fatalf("%q: %v", text, m)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%q never got Sent", text)
		return 0
	}
	before := send("before the restart")
	c.NATS.Restart(t)
	after := send("after the restart")
	if after != before+1 {
		t.Fatalf("seqs %v then %v, want consecutive", before, after)
	}
	for _, want := range []struct {
		text string
		seq  float64
	}{{"before the restart", before}, {"after the restart", after}} {
		m := bob.ExpectWhere(want.text, func(m map[string]any) bool {
			return m["action"] == "PublicMessage" && m["text"] == want.text
		})
		if m["seq"] != want.seq {
			t.Fatalf("%q reached B at seq %v, want %v", want.text, m["seq"], want.seq)
		}
	}
}
