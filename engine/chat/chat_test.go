package chat

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/store"
)

// fixture is a Chat on a real owner loop and write path, with in-memory peers.
type fixture struct {
	t  testing.TB
	h  *enginetest.Harness
	ch *Chat
}

// newFixture starts a Chat with cfg; setup runs before the owner starts, so it may
// replace the chat's clock or give it a history (withHistory).
func newFixture(t testing.TB, cfg Config, setup ...func(*Chat)) *fixture {
	t.Helper()
	ch, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range setup {
		s(ch)
	}
	return &fixture{t: t, h: enginetest.Start(t, enginetest.Config(), ch), ch: ch}
}

// testConfig is DefaultConfig, changed by mods, with every timer too slow to fire
// during a test: tests run heartbeat, flushPresence and resendUnacked through h.Do.
func testConfig(mods ...func(*Config)) Config {
	cfg := DefaultConfig()
	cfg.PingInterval = time.Hour
	cfg.PresenceInterval = 10 * time.Second // the longest Validate allows
	cfg.AckTimeout = time.Hour
	for _, m := range mods {
		m(&cfg)
	}
	return cfg
}

// fast lifts the rate limit, for tests that send faster than a person types.
func fast(cfg *Config) { cfg.RateLimit, cfg.RateBurst = 1e6, 1<<20 }

// withHistory is a newFixture setup that gives the chat st as its history; the
// worker's stop commits and closes it.
func withHistory(t testing.TB, st store.Store) func(*Chat) {
	return func(ch *Chat) {
		t.Helper()
		if err := ch.OpenHistory(st); err != nil {
			t.Fatal(err)
		}
	}
}

// sqlite is a real SQLite history in a fresh directory.
func sqlite(t testing.TB) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// stepClock is a newFixture setup that stops the chat's clock at *now; tests move it
// inside h.Do only.
func stepClock(now *time.Time) func(*Chat) {
	return func(ch *Chat) { ch.now = func() time.Time { return *now } }
}

// eventually polls cond until it holds, failing the test after 5 s: for what the
// store does off the owner.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	enginetest.Eventually(f.t, 5*time.Second, what, cond)
}

// userName is the name the chat gave p's user.
func (f *fixture) userName(p *enginetest.Peer) string {
	var name string
	f.h.Do(func() { name = userOf(p.Conn).info.Name })
	return name
}

// client is one peer read the way a real client reads its socket: in order, each
// message once. next waits (bounded) for what is not written yet, since with a
// history messages are delivered once the store has committed them, off the owner.
type client struct {
	*enginetest.Peer
	f    *fixture
	name string
	read int // messages consumed
}

const testColor = "#16a085"

// connect attaches a client that opened the WebSocket with query q.
func (f *fixture) connect(q url.Values) *client {
	return &client{Peer: f.h.Connect(q), f: f, name: q.Get("userName")}
}

// login connects as name with every test user's color and gender, plus extra query
// parameters (presence, ack, resume, since), and returns the client and its
// Authorized, which must be its first message.
func (f *fixture) login(name string, extra url.Values) (*client, map[string]any) {
	f.t.Helper()
	q := url.Values{"userName": {name}, "userColor": {testColor}, "gender": {"1"}}
	for k, vs := range extra {
		q[k] = vs
	}
	c := f.connect(q)
	auth := c.next()
	if auth["action"] != "Authorized" {
		f.t.Fatalf("%s's first message is %v, want Authorized", name, auth)
	}
	return c, auth
}

// optIn is the query of a client that opts in to compact presence and resume, plus
// extra key/value pairs (ack, 1; resume, TOKEN; since, ...).
func optIn(extra ...string) url.Values {
	q := url.Values{"resume": {""}, "presence": {"compact"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

// send delivers v as a TEXT message (a string as it is, anything else as JSON) and
// waits until the owner handled it and wrote what it sent.
func (c *client) send(v any) {
	c.f.t.Helper()
	s, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			c.f.t.Fatal(err)
		}
		s = string(b)
	}
	c.Send(s)
}

// sendBinary delivers data as a BINARY message.
func (c *client) sendBinary(data string) {
	c.f.h.W.Receive(c.Conn, engine.Message{Data: []byte(data), Binary: true})
	c.f.h.Sync()
}

// next is the next unread message, waited for at most 5 s.
func (c *client) next() map[string]any {
	c.f.t.Helper()
	var msgs []map[string]any
	c.f.eventually(fmt.Sprintf("message %d to %s", c.read+1, c.name), func() bool {
		msgs = c.Messages()
		return len(msgs) > c.read
	})
	c.read++
	return msgs[c.read-1]
}

// expect reads until a message with action and returns it, skipping others.
func (c *client) expect(action string) map[string]any {
	c.f.t.Helper()
	return c.expectWhere(action, func(m map[string]any) bool { return m["action"] == action })
}

// expectWhere reads until a message match accepts and returns it, skipping others.
func (c *client) expectWhere(what string, match func(map[string]any) bool) map[string]any {
	c.f.t.Helper()
	var skipped []any
	for range 10_000 {
		m := c.next()
		if match(m) {
			return m
		}
		skipped = append(skipped, m["action"])
	}
	c.f.t.Fatalf("%s got no %s among %v", c.name, what, skipped[:10])
	return nil
}

// unread returns, and consumes, every message written to c so far. It waits for
// the owner's events posted before it, not for the store: for synchronous steps.
func (c *client) unread() []map[string]any {
	c.f.h.Sync()
	msgs := c.Messages()[c.read:]
	c.read += len(msgs)
	return msgs
}

// expectExactly consumes every unread message and checks that their actions are
// actions, in order; it returns them.
func (c *client) expectExactly(actions ...string) []map[string]any {
	c.f.t.Helper()
	msgs := c.unread()
	got := make([]string, len(msgs))
	for i, m := range msgs {
		got[i], _ = m["action"].(string)
	}
	if !slices.Equal(got, actions) {
		c.f.t.Fatalf("%s got %v, want %v: %v", c.name, got, actions, msgs)
	}
	return msgs
}

// expectError checks that the one unread message is an Error with code and a message.
func (c *client) expectError(code string) map[string]any {
	c.f.t.Helper()
	e := c.expectExactly("Error")[0]
	if e["code"] != code || e["message"] == "" || e["message"] == nil {
		c.f.t.Fatalf("%s got %v, want Error %s with a message", c.name, e, code)
	}
	return e
}

// num is a JSON number field as an integer, failing if it is anything else (the Qt
// client reads a string as 0).
func num(t testing.TB, m map[string]any, key string) uint64 {
	t.Helper()
	f, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%s is %T (%v), want a JSON number", key, m[key], m[key])
	}
	return uint64(f)
}

// isMsg matches a chat message of room.
func isMsg(room string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		return (m["action"] == "PublicMessage" || m["action"] == "PrivateMessage") && m["roomId"] == room
	}
}

// isAction matches a frame with action about room.
func isAction(action, room string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["action"] == action && m["roomId"] == room }
}

// join sends JoinRoom and returns the RoomJoined.
func join(c *client, room string) map[string]any {
	c.f.t.Helper()
	c.send(map[string]any{"action": "JoinRoom", "roomId": room})
	return c.expectWhere("RoomJoined "+room, isAction("RoomJoined", room))
}

// firstRoom is the first room entry of a Presence or Rooms frame.
func firstRoom(m map[string]any) map[string]any { return m["rooms"].([]any)[0].(map[string]any) }

// names is the userName of every user object in list (none if list is absent).
func names(list any) []string {
	var out []string
	users, _ := list.([]any)
	for _, u := range users {
		out = append(out, u.(map[string]any)["userName"].(string))
	}
	return out
}

// TestHeartbeatDropsAfterMaxMissed: a client that leaves --ping-max-missed Pings
// unanswered is closed with 4000 at the next tick and the others get ConnectionLost
// (never Disconnected too); a client that answers stays.
func TestHeartbeatDropsAfterMaxMissed(t *testing.T) {
	for _, maxMissed := range []int{1, 2, DefaultConfig().PingMaxMissed} {
		t.Run(fmt.Sprint("maxMissed=", maxMissed), func(t *testing.T) {
			f := newFixture(t, testConfig(func(c *Config) { c.PingMaxMissed = maxMissed }))
			watcher, _ := f.login("Watcher", nil)
			silent, authS := f.login("Silent", nil)
			pings := make([]string, maxMissed)
			for i := range maxMissed {
				pings[i] = "Ping"
				f.h.Do(f.ch.heartbeat)
				watcher.send(`{"action":"Pong"}`)
			}
			if _, closed := silent.Closed(); closed {
				t.Fatalf("closed after %d unanswered Pings, before the next tick", maxMissed)
			}
			f.h.Do(f.ch.heartbeat)
			if reason, closed := silent.Closed(); !closed || reason.Code != 4000 || reason != ClosePingTimeout {
				t.Fatalf("silent client closed %v with %v, want 4000 %v", closed, reason, ClosePingTimeout)
			}
			silent.expectExactly(append([]string{"Connected"}, pings...)...)
			got := watcher.expectExactly(append(append([]string{"Connected", "Connected", "Ping"}, pings...), "ConnectionLost")...)
			if lost := got[len(got)-1]; num(t, lost, "userId") != num(t, authS, "userId") || lost["userName"] != "Silent" {
				t.Fatalf("ConnectionLost = %v, want Silent's", lost)
			}
			// The close that followed (the peer answered the close frame) must not
			// announce Silent a second time.
			watcher.send(`{"text":"still here"}`)
			watcher.expectExactly("PublicMessage")
		})
	}
}

// TestOnlyPongOrHeartbeatAnswersAPing: the seed's Pong (however it is spelled) and
// seed 001's heartBeat ping reset the missed Pings; anything else does not.
func TestOnlyPongOrHeartbeatAnswersAPing(t *testing.T) {
	tests := []struct {
		name    string
		frame   string
		binary  bool
		answers bool
	}{
		{"Pong", `{"action":"Pong"}`, false, true},
		{"Pong spelled otherwise", `{ "action" : "Pong" }`, false, true},
		{"seed 001 heartBeat", `{"event":"heartBeat","content":"ping"}`, false, true},
		{"a chat line", `{"text":"hi"}`, false, false},
		{"bad JSON", `{"action":"Pong"`, false, false},
		{"Pong in a BINARY frame", `{"action":"Pong"}`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig(func(c *Config) { c.PingMaxMissed = 1 }))
			a, _ := f.login("a", nil)
			f.h.Do(f.ch.heartbeat)
			if tt.binary {
				a.sendBinary(tt.frame)
			} else {
				a.send(tt.frame)
			}
			f.h.Do(f.ch.heartbeat)
			if _, closed := a.Closed(); closed == tt.answers {
				t.Fatalf("after %s: closed %v, want %v", tt.frame, closed, !tt.answers)
			}
		})
	}
}

// TestTimersRunOnTheirIntervals: OnWorkerStart starts the heartbeat, the compact
// presence tick and the ack resend on their configured intervals (the other tests
// call them through h.Do).
func TestTimersRunOnTheirIntervals(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*Config)
		// start sets up what the timer acts on; the returned condition says it did.
		start func(f *fixture) func() bool
	}{
		{"heartbeat drops a silent client", func(c *Config) { c.PingInterval, c.PingMaxMissed = 10*time.Millisecond, 1 },
			func(f *fixture) func() bool {
				a, _ := f.login("a", nil)
				return func() bool {
					r, closed := a.Closed()
					return closed && r == ClosePingTimeout && slices.Contains(a.Actions(), "Ping")
				}
			}},
		{"presence tick", func(c *Config) { c.PresenceInterval = 10 * time.Millisecond },
			func(f *fixture) func() bool {
				w, _ := f.login("w", optIn())
				f.login("qt", nil)
				return func() bool { return slices.Contains(w.Actions(), "Presence") }
			}},
		{"ack resend", func(c *Config) { c.AckTimeout = 10 * time.Millisecond },
			func(f *fixture) func() bool {
				a, _ := f.login("a", optIn("ack", "1"))
				b, _ := f.login("b", nil)
				b.send(`{"text":"x"}`)
				return func() bool {
					n := 0
					for _, m := range a.Messages() {
						if isMsg("lobby")(m) && m["seq"] == 1.0 {
							n++
						}
					}
					return n >= 2
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig(tt.cfg))
			f.eventually(tt.name, tt.start(f))
		})
	}
}

// TestRateLimitRejectsMessagesBeyondTheBurst: with the clock standing still,
// --rate-burst messages go through at once and each one more gets rate_limited; the
// connection stays open.
func TestRateLimitRejectsMessagesBeyondTheBurst(t *testing.T) {
	now := time.Unix(1000, 0)
	f := newFixture(t, testConfig(func(c *Config) { c.RateLimit, c.RateBurst = 1, 3 }), stepClock(&now))
	a, _ := f.login("Alice", nil)
	a.expectExactly("Connected")
	for range 5 {
		a.send(`{"text":"spam"}`)
	}
	got := a.expectExactly("PublicMessage", "PublicMessage", "PublicMessage", "Error", "Error")
	for _, e := range got[3:] {
		if e["code"] != "rate_limited" {
			t.Fatalf("rejection = %v, want rate_limited", e)
		}
	}
	if _, closed := a.Closed(); closed {
		t.Fatal("closed after 2 rejections with a burst of 3")
	}
}

func TestRateLimitClosesPersistentFlooder(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimit, cfg.RateBurst = 1, 2
	now := time.Unix(1000, 0)
	f := newFixture(t, cfg, stepClock(&now))
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

// TestRequestsAreChargedByCost: acks and pongs have a budget of their own, so a client
// that acks a busy room keeps its chat lines; every frame costs something, so a flood
// of pongs or empty frames is cut; reads of many rows have their own, smaller budget.
func TestRequestsAreChargedByCost(t *testing.T) {
	now := time.Unix(1000, 0)
	cfg := testConfig(func(c *Config) { c.RateLimit, c.RateBurst = 1, 3 })
	tests := []struct {
		name     string
		frames   []string
		limited  int  // rate_limited answers wanted
		closed   bool // cut with 1008
		delivers int  // PublicMessages wanted
	}{
		{"acks do not spend the lines' budget", append(repeat(`{"action":"Ack","roomId":"lobby","seq":1}`, 25), repeat(`{"text":"mine"}`, 3)...), 0, false, 3},
		{"a pong flood is cut", repeat(`{"action":"Pong"}`, 70), 30, true, 0},
		{"an empty-frame flood is cut", repeat(``, 70), 30, true, 0},
		{"History has its own budget", append(repeat(`{"action":"History","roomId":"lobby"}`, 12), `{"text":"still mine"}`), 2, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cfg, stepClock(&now))
			a := f.h.Login("a")
			for _, fr := range tt.frames {
				a.Send(fr)
			}
			limited, delivered := 0, 0
			for _, m := range a.Messages() {
				switch {
				case m["action"] == "Error" && m["code"] == "rate_limited":
					limited++
				case m["action"] == "PublicMessage":
					delivered++
				}
			}
			reason, closed := a.Closed()
			if limited != tt.limited || closed != tt.closed || delivered != tt.delivers || closed && reason != engine.ClosePolicy {
				t.Fatalf("%d rate_limited, closed %v (%v), %d delivered; want %d, %v, %d", limited, closed, reason, delivered, tt.limited, tt.closed, tt.delivers)
			}
		})
	}
}

func repeat(frame string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = frame
	}
	return out
}
