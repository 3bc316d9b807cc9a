package chat

import (
	"io"
	"log/slog"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// fixture is a Chat on a real owner loop and write path, with in-memory peers.
type fixture struct {
	h  *enginetest.Harness
	ch *Chat
}

// newFixture starts a Chat with cfg; setup runs before the owner starts, so it may
// replace the chat's clock.
func newFixture(t testing.TB, cfg Config, setup ...func(*Chat)) *fixture {
	t.Helper()
	ch, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range setup {
		s(ch)
	}
	return &fixture{h: enginetest.Start(t, enginetest.Config(), ch), ch: ch}
}

// userName is the name the chat gave p's user.
func (f *fixture) userName(p *enginetest.Peer) string {
	var name string
	f.h.Do(func() { name = f.ch.byConn[p.Conn.ID()].info.Name })
	return name
}

func TestHeartbeatDropsAfterMaxMissed(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PingMaxMissed = 2
	f := newFixture(t, cfg)
	a, b := f.h.Login("a"), f.h.Login("b")
	for range 2 {
		f.h.Do(f.ch.heartbeat)
		a.Send(`{"action":"Pong"}`) // a answers, b does not
	}
	f.h.Do(f.ch.heartbeat) // b has 2 unanswered: dropped now
	if reason, closed := b.Closed(); !closed || reason != ClosePingTimeout {
		t.Fatalf("b closed %v with %v after 2 unanswered Pings, want %v", closed, reason, ClosePingTimeout)
	}
	want := []string{"Authorized", "Connected", "Connected", "Ping", "Ping", "Ping", "ConnectionLost"}
	if got := a.Actions(); !slices.Equal(got, want) {
		t.Fatalf("a got %v, want %v", got, want)
	}
	// The close that followed (b's peer answered the close frame) must not announce b
	// a second time.
	f.h.Sync()
	if got := a.Actions(); len(got) != len(want) {
		t.Fatalf("a got %d frames after b's close, want %d: %v", len(got), len(want), got)
	}
}

func TestRateLimitClosesPersistentFlooder(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RateLimit, cfg.RateBurst = 1, 2
	now := time.Unix(1000, 0)
	f := newFixture(t, cfg, func(ch *Chat) { ch.now = func() time.Time { return now } })
	a := f.h.Login("a")
	for range 2 + 2 { // 2 allowed, then up to RateBurst rejections get an Error
		a.Send(`{"text":"x"}`)
	}
	if _, closed := a.Closed(); closed {
		t.Fatal("closed too early")
	}
	a.Send(`{"text":"x"}`)
	if reason, closed := a.Closed(); !closed || reason != engine.ClosePolicy {
		t.Fatalf("a flooder past the burst of rejections: closed %v with %v, want %v", closed, reason, engine.ClosePolicy)
	}
	// A client that waits gets tokens back.
	b := f.h.Login("b")
	for range 2 {
		b.Send(`{"text":"x"}`)
	}
	f.h.Do(func() { now = now.Add(time.Second) })
	b.Send(`{"text":"x"}`)
	for _, m := range b.Messages() {
		if m["action"] == "Error" {
			t.Fatalf("b was limited at the allowed rate: %v", m)
		}
	}
}

// BenchmarkPublicFanOut1000: one public message from a user to 1,000 users, through
// the chat's real path (decode, format, encode once, frame once, send to each) and
// the engine's (one write per recipient per owner batch, to in-memory transports).
func BenchmarkPublicFanOut1000(b *testing.B) {
	cfg := DefaultConfig()
	cfg.RateLimit, cfg.RateBurst = 1e12, 1<<30
	f := newFixture(b, cfg)
	q := url.Values{"userName": {"user"}}
	sender := f.h.Attach(q, true)
	for range 999 {
		f.h.Attach(q, true)
	}
	f.h.Sync()
	msg := engine.Message{Data: []byte(`{"text":"Привет, {Вася}! How are you <3","toUserId":0}`)}
	b.ReportAllocs()
	for b.Loop() {
		f.h.W.Receive(sender.Conn, msg)
		f.h.Sync()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/delivery")
}
