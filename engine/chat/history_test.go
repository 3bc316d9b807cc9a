package chat

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// TestHistoryOnJoinAndPaging: a newcomer to a room gets its last --history-on-join
// messages right after RoomJoined, in seq order; History pages back from there.
func TestHistoryOnJoinAndPaging(t *testing.T) {
	f := newFixture(t, testConfig(fast, func(c *Config) { c.HistoryOnJoin = 10 }), withHistory(t, sqlite(t)))
	a, _ := f.login("Alice", nil)
	join(a, "dev")
	for i := 1; i <= 120; i++ {
		a.send(map[string]any{"text": fmt.Sprint("m", i), "roomId": "dev"})
	}
	for i := 1; i <= 120; i++ {
		if m := a.expectWhere("dev message", isMsg("dev")); num(t, m, "seq") != uint64(i) || m["text"] != fmt.Sprint("m", i) {
			t.Fatalf("message %d = %v", i, m)
		}
	}
	b, _ := f.login("Bob", nil)
	join(b, "dev")
	for i := 111; i <= 120; i++ {
		m := b.next()
		for m["action"] == "Presence" {
			m = b.next()
		}
		if !isMsg("dev")(m) || num(t, m, "seq") != uint64(i) || m["text"] != fmt.Sprint("m", i) {
			t.Fatalf("history on join: got %v, want seq %d", m, i)
		}
	}
	page := func(before, limit int) ([]any, bool) {
		t.Helper()
		b.send(map[string]any{"action": "History", "roomId": "dev", "before": before, "limit": limit})
		h := b.expectWhere("History", isAction("History", "dev"))
		return h["messages"].([]any), h["more"].(bool)
	}
	seq := func(msgs []any, i int) uint64 { return num(t, msgs[i].(map[string]any), "seq") }
	msgs, more := page(111, 500) // limit is capped at 100
	if len(msgs) != 100 || !more || seq(msgs, 0) != 11 || seq(msgs, 99) != 110 {
		t.Fatalf("History before 111: %d messages, more %v", len(msgs), more)
	}
	msgs, more = page(11, 50)
	if len(msgs) != 10 || more || seq(msgs, 0) != 1 || msgs[0].(map[string]any)["text"] != "m1" {
		t.Fatalf("History before 11: %v more %v", msgs, more)
	}
	msgs, _ = page(0, 0)
	if len(msgs) != 50 || seq(msgs, 49) != 120 {
		t.Fatalf("History newest: %d messages", len(msgs))
	}
	b.send(map[string]any{"action": "History", "roomId": "lobby", "before": 0})
	if h := b.expectWhere("History", isAction("History", "lobby")); len(h["messages"].([]any)) != 0 || h["more"] != false {
		t.Fatalf("History of an empty room = %v", h)
	}
}

// TestQtClientGetsRecentHistoryOnLogin: the seed's client sees what it missed as
// ordinary PublicMessage frames right after its login.
func TestQtClientGetsRecentHistoryOnLogin(t *testing.T) {
	f := newFixture(t, testConfig(fast, func(c *Config) { c.HistoryOnJoin = 3 }), withHistory(t, sqlite(t)))
	a, _ := f.login("Alice", nil)
	for i := 1; i <= 5; i++ {
		a.send(map[string]any{"text": fmt.Sprint("old ", i), "toUserId": 0})
		a.expect("PublicMessage")
	}
	a.Leave(engine.CloseAbnormal)
	b, auth := f.login("Bob", nil)
	if len(auth["users"].([]any)) != 1 {
		t.Fatalf("Authorized = %v", auth)
	}
	if m := b.next(); m["action"] != "Connected" {
		t.Fatalf("after Authorized: %v", m)
	}
	for i := 3; i <= 5; i++ {
		m := b.next()
		if m["action"] != "PublicMessage" || m["text"] != fmt.Sprint("old ", i) || m["userName"] != "Alice" || num(t, m, "toUserId") != 0 {
			t.Fatalf("history message %d = %v", i, m)
		}
	}
	b.expectExactly()
}

// gatedStore holds every commit while closed, so a test can act between a message's
// acceptance and its commit.
type gatedStore struct {
	store.Store
	mu   sync.Mutex
	open chan struct{} // closed: writes go through
}

func newGatedStore(st store.Store) *gatedStore {
	g := &gatedStore{Store: st, open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gatedStore) Write(ctx context.Context, b *store.Batch) error {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	<-open
	return g.Store.Write(ctx, b)
}

// hold makes later writes wait for release; release is registered as a cleanup too,
// so a failing test does not leave the worker's stop waiting on the disk.
func (g *gatedStore) hold(t testing.TB) {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
	t.Cleanup(g.release)
}

func (g *gatedStore) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// TestMessageIsDeliveredAndSentAfterCommitAndRetriesOnlyOnce: nobody sees a message,
// nor its sender a Sent, before the store committed it; a retry with the same
// clientMsgId, before the commit or after, is neither stored nor delivered again,
// and after the commit gets Sent with the original seq. A private message's Sent
// names its dialog.
func TestMessageIsDeliveredAndSentAfterCommitAndRetriesOnlyOnce(t *testing.T) {
	st := newGatedStore(sqlite(t))
	f := newFixture(t, testConfig(), withHistory(t, st))
	a, authA := f.login("Alice", optIn())
	b, authB := f.login("Bob", nil)
	idA := num(t, authA, "userId")
	a.unread()
	b.unread()

	st.hold(t)
	a.send(map[string]any{"text": "once", "clientMsgId": "c1"})
	a.send(map[string]any{"text": "once", "clientMsgId": "c1"}) // a retry before the commit
	a.expectExactly()
	b.expectExactly()
	st.release()
	if m := a.next(); m["action"] != "PublicMessage" || m["text"] != "once" {
		t.Fatalf("Alice's first message after the commit = %v, want her PublicMessage", m)
	}
	sent := a.next()
	if sent["action"] != "Sent" || sent["clientMsgId"] != "c1" || sent["roomId"] != "lobby" || num(t, sent, "seq") != 1 || num(t, sent, "ts") == 0 {
		t.Fatalf("Sent = %v", sent)
	}
	a.expectExactly() // one Sent for the message and its retry
	if m := b.expectExactly("PublicMessage")[0]; m["text"] != "once" || num(t, m, "seq") != 1 {
		t.Fatalf("Bob got %v", m)
	}

	a.send(map[string]any{"text": "once", "clientMsgId": "c1"}) // a retry after the commit
	if again := a.expectExactly("Sent")[0]; num(t, again, "seq") != 1 || again["roomId"] != "lobby" || again["ts"] != sent["ts"] {
		t.Fatalf("Sent for the retry = %v, want %v", again, sent)
	}
	b.expectExactly()
	a.send(map[string]any{"text": "twice", "clientMsgId": "c2"})
	if s2 := a.expect("Sent"); num(t, s2, "seq") != 2 || s2["clientMsgId"] != "c2" {
		t.Fatalf("Sent c2 = %v", s2)
	}
	if m := b.expectExactly("PublicMessage")[0]; m["text"] != "twice" || num(t, m, "seq") != 2 {
		t.Fatalf("Bob got %v, want \"twice\" once", m)
	}

	a.send(map[string]any{"text": "psst", "toUserId": num(t, authB, "userId"), "clientMsgId": "p1"})
	if ps := a.expect("Sent"); ps["roomId"] != protocol.DialogID(idA, num(t, authB, "userId")) || num(t, ps, "seq") != 1 || ps["clientMsgId"] != "p1" {
		t.Fatalf("Sent for a private message = %v", ps)
	}
	if m := b.expect("PrivateMessage"); m["text"] != "psst" || num(t, m, "userId") != idA {
		t.Fatalf("Bob's private message = %v", m)
	}
}
