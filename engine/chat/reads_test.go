package chat

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
)

// slowHistory is the real SQLite whose History reads wait while held, as a slow disk
// makes them wait; replays (Range) and commits go straight through.
type slowHistory struct {
	store.Store
	mu      sync.Mutex
	open    chan struct{}
	started atomic.Int64 // History reads begun
}

func newSlowHistory(t testing.TB) *slowHistory {
	s := &slowHistory{Store: sqlite(t), open: make(chan struct{})}
	t.Cleanup(s.release) // before the worker's stop waits for the readers
	return s
}

func (s *slowHistory) History(ctx context.Context, room string, before uint64, limit int) ([]store.Message, bool, error) {
	s.started.Add(1)
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	select {
	case <-open:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	return s.Store.History(ctx, room, before, limit)
}

func (s *slowHistory) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.open:
	default:
		close(s.open)
	}
}

// historyReq asks for the newest page of the default room.
var historyReq = map[string]any{"action": "History", "roomId": "lobby"}

// TestHistoryIsOneAtATimePerUserAndQueuedBoundedly: while a user's History read is in
// flight its next History is answered busy; past historyReaders running and
// maxQueuedHistory waiting, everyone's is; every request gets exactly one answer.
func TestHistoryIsOneAtATimePerUserAndQueuedBoundedly(t *testing.T) {
	st := newSlowHistory(t)
	f := newFixture(t, testConfig(), withHistory(t, st))
	a, _ := f.login("Alice", optIn())
	a.unread()
	a.send(historyReq)
	a.send(historyReq)
	a.expectError("busy")

	const users = historyReaders + maxQueuedHistory + 40
	askers := make([]*client, users)
	for i := range askers {
		askers[i], _ = f.login(fmt.Sprint("asker", i), optIn())
	}
	f.eventually("Alice's read started", func() bool { return st.started.Load() >= 1 })
	busy := 0
	for _, c := range askers {
		c.unread()
		c.send(historyReq)
		for _, m := range c.unread() {
			if m["action"] == "Error" && m["code"] == "busy" {
				busy++
			}
		}
	}
	// Alice's read holds one reader; the others may not have taken theirs yet.
	if min, max := users-maxQueuedHistory-(historyReaders-1), users-maxQueuedHistory; busy < min || busy > max {
		t.Fatalf("%d of %d askers got busy, want %d..%d", busy, users, min, max)
	}
	if n := st.started.Load(); n > historyReaders {
		t.Fatalf("%d History reads run at once, want at most %d", n, historyReaders)
	}
	st.release()
	f.eventually("every queued History answered", func() bool {
		answered := 0
		for _, c := range askers {
			for _, m := range c.Messages() {
				if m["action"] == "History" {
					answered++
				}
			}
		}
		return answered == users-busy
	})
	a.expect("History")
	a.send(historyReq) // its read is over: a new one is taken
	a.expect("History")
}

// TestReplayIsNotHeldBehindHistory: with every History reader stuck on a slow disk
// and the History queue full, a new login's replay still runs, so the newcomer gets
// the room's recent messages and then its own live line.
func TestReplayIsNotHeldBehindHistory(t *testing.T) {
	st := newSlowHistory(t)
	f := newFixture(t, testConfig(func(c *Config) { c.HistoryOnJoin = 5 }), withHistory(t, st))
	old, _ := f.login("Old", nil)
	for i := range 3 {
		old.send(map[string]any{"text": fmt.Sprint("before ", i)})
		old.expect("PublicMessage")
	}
	for i := range historyReaders + maxQueuedHistory {
		c, _ := f.login(fmt.Sprint("asker", i), optIn())
		c.send(historyReq)
	}
	f.eventually("the History readers are stuck", func() bool { return st.started.Load() == historyReaders })

	n, _ := f.login("Newcomer", optIn())
	for i := range 3 {
		if m := n.expect("PublicMessage"); m["text"] != fmt.Sprint("before ", i) {
			t.Fatalf("replay message %d = %v", i, m)
		}
	}
	n.send(map[string]any{"text": "mine", "clientMsgId": "n1"})
	if m := n.expect("PublicMessage"); m["text"] != "mine" {
		t.Fatalf("Newcomer's own line = %v", m)
	}
	n.expect("Sent")
}

// TestReadsOfAUserWhoLeftAreDropped: History requests still queued when their users
// leave are never read.
func TestReadsOfAUserWhoLeftAreDropped(t *testing.T) {
	st := newSlowHistory(t)
	f := newFixture(t, testConfig(), withHistory(t, st))
	for i := range historyReaders {
		c, _ := f.login(fmt.Sprint("holder", i), optIn())
		c.send(historyReq)
	}
	f.eventually("the History readers are busy", func() bool { return st.started.Load() == historyReaders })
	for i := range 20 {
		c, _ := f.login(fmt.Sprint("leaver", i), optIn())
		c.send(historyReq)
		c.Leave(engine.CloseAbnormal)
	}
	f.h.Sync()
	st.release()
	late, _ := f.login("Late", optIn())
	late.send(historyReq)
	late.expect("History")
	if n := st.started.Load(); n != historyReaders+1 {
		t.Fatalf("%d History reads ran, want %d: the leavers' reads were not dropped", n, historyReaders+1)
	}
}
