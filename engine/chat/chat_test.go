package chat

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
)

// recorder is a fake transport: it keeps every TEXT frame written to it, decoded.
type recorder struct {
	frames []map[string]any
	closed bool
}

func (r *recorder) Write(b []byte) (int, error) {
	for len(b) > 0 { // server frames: unmasked, one or more per write
		op, n, hdr := b[0]&0x0f, int(b[1]&0x7f), 2
		switch n {
		case 126:
			n, hdr = int(b[2])<<8|int(b[3]), 4
		case 127:
			n, hdr = 0, 10
			for _, x := range b[2:10] {
				n = n<<8 | int(x)
			}
		}
		if op == engine.OpText {
			var m map[string]any
			if err := json.Unmarshal(b[hdr:hdr+n], &m); err != nil {
				panic(err)
			}
			r.frames = append(r.frames, m)
		}
		b = b[hdr+n:]
	}
	return len(b), nil
}
func (r *recorder) Close() error                    { r.closed = true; return nil }
func (r *recorder) SetReadDeadline(time.Time) error { return nil }

func (r *recorder) actions() []string {
	var out []string
	for _, f := range r.frames {
		out = append(out, f["action"].(string))
	}
	return out
}

type fixture struct {
	ch    *Chat
	conns map[uint64]*engine.Conn
	recs  map[uint64]*recorder
	next  uint64
}

func newFixture(cfg engine.Config) *fixture {
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return &fixture{ch: New(cfg), conns: map[uint64]*engine.Conn{}, recs: map[uint64]*recorder{}}
}

func (f *fixture) login(name string) uint64 {
	f.next++
	rec := &recorder{}
	c := engine.NewConn(f.next, rec)
	f.conns[f.next], f.recs[f.next] = c, rec
	f.ch.OnConnect(c)
	f.ch.OnWebSocketConnect(c, &engine.Request{Query: url.Values{"userName": {name}}})
	return f.next
}

func (f *fixture) send(id uint64, frame string) {
	f.ch.OnMessage(f.conns[id], engine.Message{Data: []byte(frame)})
}

func TestHeartbeatDropsAfterMaxMissed(t *testing.T) {
	f := newFixture(engine.Config{PingMaxMissed: 2})
	a, b := f.login("a"), f.login("b")
	for range 2 {
		f.ch.heartbeat()
		f.send(a, `{"action":"Pong"}`) // a answers, b does not
	}
	f.ch.heartbeat() // b has 2 unanswered: dropped now
	if !f.recs[b].closed {
		t.Fatal("b not closed after 2 unanswered Pings")
	}
	got := f.recs[a].actions()
	want := []string{"Authorized", "Connected", "Connected", "Ping", "Ping", "Ping", "ConnectionLost"}
	if len(got) != len(want) {
		t.Fatalf("a got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("a got %v, want %v", got, want)
		}
	}
	// The close that follows must not announce b a second time.
	f.ch.OnClose(f.conns[b], engine.ClosePingTimeout)
	if n := len(f.recs[a].frames); n != len(want) {
		t.Fatalf("a got %d frames after b's close, want %d: %v", n, len(want), f.recs[a].actions())
	}
}

func TestRateLimitClosesPersistentFlooder(t *testing.T) {
	f := newFixture(engine.Config{RateLimit: 1, RateBurst: 2})
	now := time.Unix(1000, 0)
	f.ch.now = func() time.Time { return now }
	a := f.login("a")
	for range 2 + 2 { // 2 allowed, then up to RateBurst rejections get an Error
		f.send(a, `{"text":"x"}`)
	}
	if f.recs[a].closed {
		t.Fatal("closed too early")
	}
	f.send(a, `{"text":"x"}`)
	if !f.recs[a].closed {
		t.Fatal("a flooder past the burst of rejections was not closed")
	}
	// A client that waits gets tokens back.
	b := f.login("b")
	for range 2 {
		f.send(b, `{"text":"x"}`)
	}
	now = now.Add(time.Second)
	f.send(b, `{"text":"x"}`)
	for _, m := range f.recs[b].frames {
		if m["action"] == "Error" {
			t.Fatalf("b was limited at the allowed rate: %v", m)
		}
	}
}

// BenchmarkPublicFanOut1000: one public message from a user to 1,000 users, through
// the chat's real path (decode, format, encode once, frame once, send to each).
func BenchmarkPublicFanOut1000(b *testing.B) {
	cfg := engine.Config{RateLimit: 1e12, RateBurst: 1 << 30, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ch := New(cfg)
	var sender *engine.Conn
	for i := 1; i <= 1000; i++ {
		c := engine.NewConn(uint64(i), discard{})
		ch.OnWebSocketConnect(c, &engine.Request{Query: url.Values{"userName": {"user"}}})
		if sender == nil {
			sender = c
		}
	}
	msg := engine.Message{Data: []byte(`{"text":"Привет, {Вася}! How are you <3","toUserId":0}`)}
	b.ReportAllocs()
	for b.Loop() {
		ch.OnMessage(sender, msg)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/delivery")
}

type discard struct{}

func (discard) Write(b []byte) (int, error)     { return len(b), nil }
func (discard) Close() error                    { return nil }
func (discard) SetReadDeadline(time.Time) error { return nil }
