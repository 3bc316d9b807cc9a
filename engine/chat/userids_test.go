package chat

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/store"
)

// stallingStore is the real SQLite whose commits can be held, as a disk that stopped
// answering: Write waits while stalled (or until the store closes).
type stallingStore struct {
	*store.SQLite
	mu      sync.Mutex
	stalled chan struct{} // nil: commits go through; closed by release
}

func (s *stallingStore) stall() {
	s.mu.Lock()
	s.stalled = make(chan struct{})
	s.mu.Unlock()
}

func (s *stallingStore) release() {
	s.mu.Lock()
	if s.stalled != nil {
		close(s.stalled)
		s.stalled = nil
	}
	s.mu.Unlock()
}

func (s *stallingStore) Write(ctx context.Context, b *store.Batch) error {
	s.mu.Lock()
	gate := s.stalled
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return s.SQLite.Write(ctx, b)
}

func (s *stallingStore) Close() error { s.release(); return s.SQLite.Close() }

func openAt(t testing.TB, dir string) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// idBlock is a newFixture setup that makes the chat reserve userIds n at a time.
func idBlock(n uint64) func(*Chat) { return func(ch *Chat) { ch.userIDs.block = n } }

// TestTokenOfAnUncommittedIdentityResumesNobody: the disk stops committing after
// Alice's login, the chat "crashes" (a second chat opens the same data dir while the
// first never committed Alice's session): Alice's token is refused, the next user
// gets an id above every id the first chat handed out, and a token made for that
// user's id without its secret is refused too.
func TestTokenOfAnUncommittedIdentityResumesNobody(t *testing.T) {
	dir := t.TempDir()
	stalling := &stallingStore{SQLite: openAt(t, dir)}
	f1 := newFixture(t, testConfig(), withHistory(t, stalling))
	t.Cleanup(stalling.release) // before f1 stops: its writer waits for the held commit
	stalling.stall()
	_, alice := f1.login("Alice", optIn())
	_, bob := f1.login("Bob", nil)
	before := max(num(t, alice, "userId"), num(t, bob, "userId"))

	f2 := newFixture(t, testConfig(), withHistory(t, openAt(t, dir)))
	c, auth := f2.login("Carol", optIn("resume", alice["resumeToken"].(string)))
	if auth["resumed"] != false || num(t, auth, "userId") <= before || auth["userName"] != "Carol" {
		t.Fatalf("after the crash, Alice's token gave %v; want a new identity above userId %d", auth, before)
	}
	c.expectError("resume_failed")
	carol := num(t, auth, "userId")
	var forged string
	f2.h.Do(func() { forged = f2.ch.token(carol, newSecret()) })
	_, auth = f2.login("Mallory", optIn("resume", forged))
	if auth["resumed"] != false || num(t, auth, "userId") == carol {
		t.Fatalf("a token for Carol's id with another secret gave %v", auth)
	}
	if _, again := f2.login("Carol", optIn("resume", f2.tokenOf(carol))); again["resumed"] != true || num(t, again, "userId") != carol {
		t.Fatalf("Carol's own token gave %v", again)
	}
}

// TestSessionsWithoutASecretAreNotRestored: a session stored before resume secrets
// (as a migrated data dir has them) is not resumable after the upgrade, and its name
// is free.
func TestSessionsWithoutASecretAreNotRestored(t *testing.T) {
	st := sqlite(t)
	old := store.Session{UserID: 5, Name: "Old", Color: "#000", Online: true, LastSeen: time.Now().UnixMilli()}
	if err := st.Write(context.Background(), &store.Batch{Sessions: []store.Session{old}}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, testConfig(), withHistory(t, st))
	_, auth := f.login("Old", nil)
	if auth["userName"] != "Old" || num(t, auth, "userId") <= 5 {
		t.Fatalf("login as Old after the upgrade: %v; want the name free and a new id above 5", auth)
	}
	f.h.Do(func() {
		if f.ch.ids[5] != nil {
			t.Error("the session without a secret was restored as a resumable identity")
		}
	})
}

// tokenOf is the token of the identity userID has now.
func (f *fixture) tokenOf(userID uint64) string {
	var tok string
	f.h.Do(func() {
		if u := f.ch.users[userID]; u != nil && u.resumable {
			tok = f.ch.token(userID, u.secret)
		} else if id := f.ch.ids[userID]; id != nil {
			tok = f.ch.token(userID, id.secret)
		}
	})
	return tok
}

// TestLoginWaitsForTheReservation: with blocks of 4 ids and the disk stalled, the
// fifth login waits without an Authorized; what it sends meanwhile is kept; a login
// that leaves while waiting takes no id. Once the reservation commits the waiting
// login is Authorized and its line goes out.
func TestLoginWaitsForTheReservation(t *testing.T) {
	st := &stallingStore{SQLite: sqlite(t)}
	f := newFixture(t, testConfig(fast), idBlock(4), withHistory(t, st))
	t.Cleanup(st.release)
	st.stall()
	var ids []uint64
	var first *client
	for i := range 4 {
		c, auth := f.login(fmt.Sprint("u", i), nil)
		ids = append(ids, num(t, auth, "userId"))
		first = c
	}
	first.unread()
	waiting := f.connect(url.Values{"userName": {"Wanda"}, "ack": {"1"}})
	waiting.send(map[string]any{"text": "held", "clientMsgId": "w-1"})
	gone := f.connect(url.Values{"userName": {"Gone"}})
	gone.Leave(engine.CloseAbnormal)
	if msgs := waiting.unread(); len(msgs) != 0 {
		t.Fatalf("a login without a reserved id got %v", msgs)
	}
	st.release()
	auth := waiting.next()
	if auth["action"] != "Authorized" || num(t, auth, "userId") != 5 {
		t.Fatalf("after the reservation the waiting login got %v, want Authorized as userId 5", auth)
	}
	waiting.expect("Sent")
	first.expectWhere("Wanda's held line", func(m map[string]any) bool { return m["text"] == "held" })
	_, next := f.login("Next", nil)
	ids = append(ids, 5, num(t, next, "userId"))
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("ids %v: want 1..6 (the login that left took none)", ids)
		}
	}
	var stats map[string]any
	f.h.Do(func() { stats = f.ch.Stats() })
	if stats["loginsWaitedForUserId"] != uint64(2) {
		t.Fatalf("loginsWaitedForUserId = %v, want 2", stats["loginsWaitedForUserId"])
	}
}

// TestWaitingLoginsAreBounded: logins that wait for a reservation are refused with
// 4005 past the queue's cap and after loginWaitTimeout; one that sends more frames
// than maxHeldFrames before its Authorized is closed.
func TestWaitingLoginsAreBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	st := &stallingStore{SQLite: sqlite(t)}
	f := newFixture(t, testConfig(), stepClock(&now), idBlock(2), withHistory(t, st))
	t.Cleanup(st.release)
	st.stall()
	f.login("a", nil)
	f.login("b", nil)
	chatty := f.connect(url.Values{"userName": {"chatty"}})
	for range maxHeldFrames + 1 {
		chatty.Send(`{"action":"Rooms"}`)
	}
	if r, ok := chatty.Closed(); !ok || r != engine.ClosePolicy {
		t.Fatalf("a waiting login that sent %d frames: closed %v %v, want %v", maxHeldFrames+1, r, ok, engine.ClosePolicy)
	}
	peers := make([]*enginetest.Peer, 0, maxWaitingLogins)
	for i := range maxWaitingLogins {
		peers = append(peers, f.h.Attach(url.Values{"userName": {fmt.Sprint("w", i)}}, false))
	}
	over := f.connect(url.Values{"userName": {"over"}})
	if r, ok := over.Closed(); !ok || r != CloseNoUserID {
		t.Fatalf("login past the queue's cap: closed %v %v, want %v", r, ok, CloseNoUserID)
	}
	f.h.Do(func() { now = now.Add(loginWaitTimeout); f.ch.sweep() })
	for i, p := range peers {
		if r, ok := p.Closed(); !ok || r != CloseNoUserID {
			t.Fatalf("waiting login %d after the timeout: closed %v %v, want %v", i, r, ok, CloseNoUserID)
		}
	}
}
