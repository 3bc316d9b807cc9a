package chat

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/store"
)

// stallingLink is a cluster's shared identities in memory (engine/cluster keeps them
// in KV), whose name reservations can be stalled, as a slow NATS would: the fault the
// bound on waiting cluster logins is for. taken names are held by other nodes' users.
type stallingLink struct {
	mu       sync.Mutex
	names    map[string]uint64
	taken    func(key string) bool
	stalled  chan struct{} // closed: reservations go ahead
	reserves atomic.Int64
}

func newStallingLink() *stallingLink {
	l := &stallingLink{names: make(map[string]uint64), stalled: make(chan struct{}), taken: func(string) bool { return false }}
	close(l.stalled)
	return l
}

func (l *stallingLink) stall() { l.mu.Lock(); l.stalled = make(chan struct{}); l.mu.Unlock() }

// release lets reservations go ahead; releasing twice is harmless.
func (l *stallingLink) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.stalled:
	default:
		close(l.stalled)
	}
}

func (l *stallingLink) NodeName() string { return "test-node" }
func (l *stallingLink) SharedResumeKey(_ context.Context, c []byte) ([]byte, error) {
	return c, nil
}
func (l *stallingLink) ReserveUserIDBlock(_ context.Context, n, floor uint64) (uint64, uint64, error) {
	return floor + 1, floor + n, nil
}
func (l *stallingLink) ReserveName(ctx context.Context, key string, userID uint64) (uint64, bool, error) {
	l.reserves.Add(1)
	l.mu.Lock()
	stalled := l.stalled
	l.mu.Unlock()
	select {
	case <-stalled:
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if holder, ok := l.names[key]; (ok && holder != userID) || l.taken(key) {
		return 0, true, nil
	}
	l.names[key] = userID
	return 1, false, nil
}
func (l *stallingLink) ClaimName(ctx context.Context, key string, userID uint64) (uint64, bool, error) {
	return l.ReserveName(ctx, key, userID)
}
func (l *stallingLink) ShareName(ctx context.Context, key string, userID uint64) (uint64, bool, error) {
	return l.ReserveName(ctx, key, userID)
}
func (l *stallingLink) FreeName(key string, _ uint64) {
	l.mu.Lock()
	delete(l.names, key)
	l.mu.Unlock()
}
func (l *stallingLink) LeaveName(key string, _ uint64) { l.FreeName(key, 0) }
func (l *stallingLink) ResumeSession(context.Context, uint64, func(store.Session) bool) (store.Session, bool, error) {
	return store.Session{}, false, nil
}
func (l *stallingLink) ForgetSession(uint64)               {}
func (l *stallingLink) OnTakeover(func(uint64))            {}
func (l *stallingLink) WaitCaughtUp(context.Context) error { return nil }
func (l *stallingLink) reservedBy(key string) (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id, ok := l.names[key]
	return id, ok
}
func withCluster(t testing.TB, l *stallingLink) func(*Chat) {
	return func(ch *Chat) {
		if err := ch.joinCluster(context.Background(), l, ch.userIDs.reserved); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClusterLoginsWaitingForNamesAreBounded: while the cluster does not answer name
// reservations, logins wait off the owner (the owner goes on serving the users it
// has), at most maxWaitingLogins of them; the next gets cluster_unavailable and 1013.
// Once the cluster answers, every waiting login gets its Authorized.
func TestClusterLoginsWaitingForNamesAreBounded(t *testing.T) {
	link := newStallingLink()
	// A block big enough that no login waits for a userId: the names are what wait.
	f := newFixture(t, testConfig(), withHistory(t, sqlite(t)), idBlock(4096), withCluster(t, link))
	alice, _ := f.login("Alice", nil)
	link.stall()
	t.Cleanup(link.release)
	peers := make([]*enginetest.Peer, 0, maxWaitingLogins)
	for i := range maxWaitingLogins {
		peers = append(peers, f.h.Attach(url.Values{"userName": {fmt.Sprint("w", i)}}, false))
	}
	over := f.connect(url.Values{"userName": {"over"}})
	if e := over.next(); e["action"] != "Error" || e["code"] != "cluster_unavailable" {
		t.Fatalf("the login past the cap got %v, want Error cluster_unavailable", e)
	}
	if r, ok := over.Closed(); !ok || r != engine.CloseTryAgainLater {
		t.Fatalf("the login past the cap: closed %v %v, want 1013", r, ok)
	}
	alice.send(map[string]any{"action": "Rooms"})
	alice.expect("Rooms") // the owner is not waiting with the logins

	link.release()
	for i, p := range peers {
		f.eventually(fmt.Sprint("waiting login ", i, " authorized"), func() bool { return len(p.Messages()) > 0 })
		if _, closed := p.Closed(); closed {
			t.Fatalf("waiting login %d was closed", i)
		}
	}
}

// TestClusterNameSearchIsBounded: a login whose name and every "name (N)" tried are
// held on other nodes costs at most maxNameCandidates+1 candidates (two keys each),
// the last "name (userId)", never a search without end.
func TestClusterNameSearchIsBounded(t *testing.T) {
	link := newStallingLink()
	last, _ := nameKeys("Bob (1025)") // 1025: the userId the login gets
	link.taken = func(key string) bool { return key != last }
	f := newFixture(t, testConfig(), withHistory(t, sqlite(t)), withCluster(t, link))
	_, auth := f.login("Bob", nil)
	if auth["userName"] != "Bob (1025)" {
		t.Fatalf("with every candidate taken the login is %v, want Bob (1025)", auth["userName"])
	}
	if n := link.reserves.Load(); n > 2*(maxNameCandidates+1) {
		t.Fatalf("%d reservations for one login, want at most %d", n, 2*(maxNameCandidates+1))
	}
	if id, ok := link.reservedBy(last); !ok || id != uint64(num(t, auth, "userId")) {
		t.Fatalf("the name's key is held by %v %v, want the login's userId", id, ok)
	}
}
