package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/chat"
	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/store"
)

var _ chat.Journal = (*Journal)(nil)

// waitFor bounds every wait of these tests: generous, as the race detector and a
// shared 2-core box slow everything; it is a bound against hanging, not a speed test.
const waitFor = 2 * time.Minute

// node is a chatd node as far as its journal goes: its own SQLite in a directory of
// its own, a journal on the shared nats-server, and what its commit callback got.
type node struct {
	t    *testing.T
	name string
	dir  string
	st   *store.SQLite
	j    *Journal
	conn uint64 // the Conn its lines carry

	mu      sync.Mutex
	got     map[string][]store.Message // committed lines per room, in commit order
	changed chan struct{}
	stopped bool
}

// testLog is the journals' log: silent, or everything with CLUSTER_LOG=1 in the
// environment, to see the retries of a test.
func testLog() *slog.Logger {
	var out io.Writer = io.Discard
	if os.Getenv("CLUSTER_LOG") != "" {
		out = os.Stderr
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startNode opens (or reopens) the node's store in dir and its journal on ns.
func startNode(t *testing.T, ns *natstest.Server, name, dir string, conn uint64, tune ...func(*Config)) *node {
	t.Helper()
	st, err := store.OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	state, err := st.Load(context.Background(), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, name: name, dir: dir, st: st, conn: conn, got: make(map[string][]store.Message), changed: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{
		NATS:             NATSConfig{URLs: []string{ns.URL()}},
		NodeName:         name,
		Store:            st,
		AppliedStreamSeq: state.AppliedStreamSeq,
		CommitInterval:   time.Millisecond,
		OnCommit:         n.committed,
		Log:              testLog(),
	}
	for _, f := range tune {
		f(&cfg)
	}
	n.j, err = Open(ctx, cfg)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(n.stop)
	return n
}

func (n *node) committed(b *store.Batch, err error) {
	if err != nil {
		n.t.Errorf("%s: commit: %v", n.name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range b.Messages {
		n.got[m.Room] = append(n.got[m.Room], m)
	}
	close(n.changed)
	n.changed = make(chan struct{})
}

func (n *node) stop() {
	n.mu.Lock()
	stopped := n.stopped
	n.stopped = true
	n.mu.Unlock()
	if !stopped {
		n.j.Close()
		n.st.Close()
	}
}

// line is a node's i-th line to room, as its chat would queue it (seq tentative).
func (n *node) line(room string, i int) store.Message {
	return store.Message{Room: room, Seq: 1, TS: time.Now().UnixMilli(), UserID: n.conn, UserName: n.name,
		Color: "#123", Text: fmt.Sprintf("%s %s %d", n.name, room, i), ClientMsgID: fmt.Sprintf("%s-%d", room, i), Conn: n.conn}
}

// waitLines waits until the commit callback got want lines in each of rooms.
func (n *node) waitLines(rooms []string, want int) {
	n.t.Helper()
	deadline := time.After(waitFor)
	for {
		n.mu.Lock()
		done, changed := true, n.changed
		for _, r := range rooms {
			done = done && len(n.got[r]) >= want
		}
		n.mu.Unlock()
		if done {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			n.t.Fatalf("%s: not %d lines in each of %v within %v", n.name, want, rooms, waitFor)
		}
	}
}

// stored reads room's lines from the node's SQLite and checks their seqs are 1..want
// and each text is there once.
func (n *node) stored(room string, want int) []store.Message {
	n.t.Helper()
	ms, err := n.st.Range(context.Background(), room, 0, uint64(want)+10, want+10)
	if err != nil {
		n.t.Fatal(err)
	}
	if len(ms) != want {
		n.t.Fatalf("%s: %d lines of %s stored, want %d", n.name, len(ms), room, want)
	}
	texts := make(map[string]bool, want)
	for i, m := range ms {
		if m.Seq != uint64(i+1) {
			n.t.Fatalf("%s: line %d of %s has seq %d", n.name, i+1, room, m.Seq)
		}
		if texts[m.Text] {
			n.t.Fatalf("%s: %q stored twice in %s", n.name, m.Text, room)
		}
		texts[m.Text] = true
	}
	return ms
}

// add queues n's lines from..to-1 in each of rooms, failing on a refusal.
func (n *node) add(rooms []string, from, to int) error {
	for i := from; i < to; i++ {
		for _, r := range rooms {
			if err := n.j.AddMessages(n.line(r, i)); err != nil {
				return fmt.Errorf("%s: line %d of %s: %w", n.name, i, r, err)
			}
		}
	}
	return nil
}

// TestTwoNodesOneOrder: two nodes append to the same rooms (public and an inbox) at
// once; both stores end with the same lines under the same gap-free seqs, each line
// once, every node's lines in its order; each commit callback got every line once,
// with the sender's Conn on the sender's node only.
func TestTwoNodesOneOrder(t *testing.T) {
	const lines = 200
	rooms := []string{"lobby", "dev", "@7"}
	ns := natstest.Start(t)
	nodes := []*node{startNode(t, ns, "a", t.TempDir(), 1), startNode(t, ns, "b", t.TempDir(), 2)}
	var wg sync.WaitGroup
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- n.add(rooms, 0, lines)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		n.waitLines(rooms, 2*lines)
	}
	for _, room := range rooms {
		a, b := nodes[0].stored(room, 2*lines), nodes[1].stored(room, 2*lines)
		next := map[string]int{}
		for i := range a {
			if a[i].Text != b[i].Text || a[i].ClientMsgID != b[i].ClientMsgID || a[i].UserName != b[i].UserName {
				t.Fatalf("%s seq %d: %q on a, %q on b", room, i+1, a[i].Text, b[i].Text)
			}
			if want := fmt.Sprintf("%s %s %d", a[i].UserName, room, next[a[i].UserName]); a[i].Text != want {
				t.Fatalf("%s seq %d: %q, want %q: a node's lines out of its order", room, i+1, a[i].Text, want)
			}
			next[a[i].UserName]++
		}
		for _, n := range nodes {
			n.mu.Lock()
			got := n.got[room]
			n.mu.Unlock()
			if len(got) != 2*lines {
				t.Fatalf("%s: the commit callback got %d lines of %s, want %d", n.name, len(got), room, 2*lines)
			}
			for _, m := range got {
				if own := m.UserName == n.name; (own && m.Conn != n.conn) || (!own && m.Conn != 0) {
					t.Fatalf("%s: line %q committed with conn %d", n.name, m.Text, m.Conn)
				}
			}
		}
	}
}

// TestRestartedNodeResumes: a node stopped and started again on its store resumes
// its consumer after its applied stream seq: WaitCaughtUp returns with the lines it
// missed in its store, and its commit callback gets only those, none twice.
func TestRestartedNodeResumes(t *testing.T) {
	rooms := []string{"lobby"}
	ns := natstest.Start(t)
	dirA := t.TempDir()
	a, b := startNode(t, ns, "a", dirA, 1), startNode(t, ns, "b", t.TempDir(), 2)
	if err := a.add(rooms, 0, 50); err != nil {
		t.Fatal(err)
	}
	a.waitLines(rooms, 50)
	b.waitLines(rooms, 50)
	a.stop()

	if err := b.add(rooms, 0, 50); err != nil {
		t.Fatal(err)
	}
	b.waitLines(rooms, 100)
	a = startNode(t, ns, "a", dirA, 1)
	if a.j.AppliedStreamSeq() == 0 {
		t.Fatal("the restarted node has no applied stream seq")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := a.j.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	a.stored("lobby", 100) // caught up: in the store at once, no waiting
	a.mu.Lock()
	got := a.got["lobby"]
	a.mu.Unlock()
	if len(got) != 50 || got[0].Seq != 51 || got[0].UserName != "b" {
		t.Fatalf("after the restart the commit callback got %d lines, first %+v; want b's 50 from seq 51", len(got), got[0])
	}
	if err := a.add(rooms, 50, 51); err != nil {
		t.Fatal(err)
	}
	a.waitLines(rooms, 51)
	b.waitLines(rooms, 101)
	a.stored("lobby", 101)
	b.stored("lobby", 101)
}

// TestFreshNodeWaitCaughtUp: a node joining with an empty store has the whole stream
// in its store when WaitCaughtUp returns.
func TestFreshNodeWaitCaughtUp(t *testing.T) {
	rooms := []string{"lobby", "@3"}
	ns := natstest.Start(t)
	a := startNode(t, ns, "a", t.TempDir(), 1)
	if err := a.add(rooms, 0, 100); err != nil {
		t.Fatal(err)
	}
	a.waitLines(rooms, 100)
	c := startNode(t, ns, "c", t.TempDir(), 3)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.j.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		c.stored(r, 100)
	}
}

// TestNATSRestart: while nats-server is down the journal refuses lines (Refusal and
// AddMessages, wrapping ErrUnavailable and store.ErrUnavailable); every line it
// accepted, also those in flight when NATS went, and the lines after NATS is back
// are stored on both nodes, once, gap-free.
func TestNATSRestart(t *testing.T) {
	rooms := []string{"lobby", "dev"}
	ns := natstest.Start(t)
	a, b := startNode(t, ns, "a", t.TempDir(), 1), startNode(t, ns, "b", t.TempDir(), 2)
	defer a.stop() // before the restarted server's cleanup stops it
	defer b.stop()
	accepted := make(map[string]int)
	stopSending, sent := make(chan struct{}), make(chan struct{})
	go func() { // a steady sender: lines are in flight when NATS goes
		defer close(sent)
		for range 300 {
			for _, r := range rooms {
				if a.j.AddMessages(a.line(r, accepted[r])) == nil {
					accepted[r]++
				}
			}
			select {
			case <-stopSending:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	a.waitLines(rooms, 10)
	ns.Stop()
	waitRefusal(t, a.j, true)
	close(stopSending)
	<-sent
	err := a.j.Refusal()
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, store.ErrClusterUnavailable) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Refusal while NATS is down: %v; want ErrUnavailable, store.ErrClusterUnavailable and store.ErrUnavailable", err)
	}
	if err := a.j.AddMessages(a.line("lobby", 999)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("AddMessages while NATS is down: %v", err)
	}
	ns.Resume(t)
	t0 := time.Now()
	waitRefusal(t, a.j, false)
	waitRefusal(t, b.j, false)
	t.Logf("accepting %v after NATS is back; %v accepted before", time.Since(t0), accepted)
	if err := a.add(rooms, 1000, 1020); err != nil {
		t.Fatal(err)
	}
	if err := b.add(rooms, 0, 20); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{a, b} {
		for _, r := range rooms {
			n.waitLines([]string{r}, accepted[r]+40)
			n.stored(r, accepted[r]+40)
		}
		t.Logf("%s has every line %v after NATS is back", n.name, time.Since(t0))
	}
}

// waitRefusal waits until j's Refusal is non-nil (refused) or nil.
func waitRefusal(t *testing.T, j *Journal, refused bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for (j.Refusal() != nil) != refused {
		if time.Now().After(deadline) {
			t.Fatalf("Refusal still %v after %v", j.Refusal(), waitFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestQueueBound: lines past the publisher's MaxQueueBytes are refused, all or none,
// with an error the chat's existing handling knows; a node with room takes them.
func TestQueueBound(t *testing.T) {
	ns := natstest.Start(t)
	a := startNode(t, ns, "a", t.TempDir(), 1, func(c *Config) { c.MaxQueueBytes = 100 })
	err := a.j.AddMessages(a.line("lobby", 0), a.line("lobby", 1))
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("two lines past the bound: %v, want a refusal", err)
	}
	if err := a.j.Refusal(); err != nil {
		t.Fatalf("Refusal with an empty queue: %v", err)
	}
	b := startNode(t, ns, "b", t.TempDir(), 2)
	if err := b.j.AddMessages(b.line("lobby", 0), b.line("lobby", 1)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{a, b} {
		n.waitLines([]string{"lobby"}, 2)
		n.stored("lobby", 2) // a refused both: nothing of a's half-queued
	}
}

// TestCloseWithNATSDown: a node whose lines cannot reach the stream still closes,
// after closeTimeout, and its store keeps what it had.
func TestCloseWithNATSDown(t *testing.T) {
	ns := natstest.Start(t)
	a := startNode(t, ns, "a", t.TempDir(), 1)
	if err := a.add([]string{"lobby"}, 0, 5); err != nil {
		t.Fatal(err)
	}
	a.waitLines([]string{"lobby"}, 5)
	if err := a.add([]string{"lobby"}, 5, 3000); err != nil { // more than get out before the stop
		t.Fatal(err)
	}
	ns.Stop()
	closed := make(chan struct{})
	go func() {
		a.j.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(waitFor):
		t.Fatalf("Close with NATS down did not return within %v", waitFor)
	}
	ms, err := a.st.Range(context.Background(), "lobby", 0, 100, 100)
	if err != nil || len(ms) < 5 {
		t.Fatalf("after Close: %d lines stored, %v; want at least the 5 committed before", len(ms), err)
	}
}
