package chat_test

// Tests of what needs sockets or the whole server: the query as a real HTTP
// handshake delivers it, HTTP endpoints, the history file as another connection
// reads it, and restarts on the same data directory. The chat's logic is tested on
// enginetest, in package chat.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chatd/chatd/engine/store"
)

func num(t *testing.T, m map[string]any, key string) uint64 {
	t.Helper()
	f, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%s is %T (%v), want a JSON number", key, m[key], m[key])
	}
	return uint64(f)
}

// optIn is the query of a client that opts in to compact presence and resume, plus
// extra key/value pairs.
func optIn(extra ...string) url.Values {
	q := url.Values{"resume": {""}, "presence": {"compact"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

// fast lifts the rate limit, for tests that send faster than a person types.
func fast(c *server.Config) { c.Chat.RateLimit, c.Chat.RateBurst = 1e6, 1<<20 }

func join(t *testing.T, c *chattest.Client, room string) map[string]any {
	t.Helper()
	c.Send(map[string]any{"action": "JoinRoom", "roomId": room})
	return c.ExpectWhere("RoomJoined "+room, func(m map[string]any) bool { return m["action"] == "RoomJoined" && m["roomId"] == room })
}

// TestQueryParameters: the handshake's raw query (percent-escapes, + for a space, no
// query at all) reaches the chat's rules for names, colors and genders.
func TestQueryParameters(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.MaxNameLength = 8 })
	tests := []struct {
		query       string
		name, color string
		gender      uint64
	}{
		{"", "Инкогнито", "#000000", 0},
		{"userName=%3C%3E&userColor=red&gender=7", "Инкогнито", "#000000", 0},
		{"userName=Verylongname&userColor=%23ABC&gender=2", "Verylong", "#ABC", 2},
		{"userName=x&userColor=%23000%22%3E%3Cscript%3E&gender=abc", "x", "#000000", 0},
		{"userName=a%26b+c&gender=1", "ab c", "#000000", 1},
		{"userName=a;b&gender=2", "ab", "#000000", 2}, // ';' unescaped, as the Qt client sends it
	}
	// The watcher sees each row's user leave, so the next row's default name is free again.
	watcher, _ := s.Login(t, "Watcher")
	watcher.Expect("Connected")
	for _, tt := range tests {
		c := chattest.Dial(t, "ws://"+s.Addr+"/?"+tt.query)
		auth := c.Expect("Authorized")
		watcher.Expect("Connected")
		if auth["userName"] != tt.name || auth["userColor"] != tt.color || num(t, auth, "gender") != tt.gender {
			t.Errorf("?%s: got name %q color %q gender %v; want %q %q %d", tt.query, auth["userName"], auth["userColor"], auth["gender"], tt.name, tt.color, tt.gender)
		}
		c.Conn.Close()
		watcher.Expect("Disconnected")
	}
}

func TestHealthAndStatus(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Engine.Version = "test-1" })
	s.Login(t, "Alice")
	resp, err := http.Get("http://" + s.Addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + s.Addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st engine.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Version != "test-1" || st.Connections != 1 || st.Goroutines == 0 || st.HeapAllocBytes == 0 || st.Chat["users"] != float64(1) {
		t.Fatalf("status = %+v", st)
	}
	resp, err = http.Get("http://" + s.Addr + "/")
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestSentOnlyAfterCommitAndRetriesAreIdempotent: when Sent comes, the message is in
// the database the server was given (read back through a second connection to the
// file), once, though a retry with the same clientMsgId came before the commit. The
// rest of Sent and retries: TestMessageIsDeliveredAndSentAfterCommitAndRetriesOnlyOnce.
// Both --durability levels.
func TestSentOnlyAfterCommitAndRetriesAreIdempotent(t *testing.T) {
	for _, d := range []store.Durability{store.DurabilityPower, store.DurabilityCrash} {
		t.Run(string(d), func(t *testing.T) { sentOnlyAfterCommitAndRetriesAreIdempotent(t, d) })
	}
}

func sentOnlyAfterCommitAndRetriesAreIdempotent(t *testing.T, d store.Durability) {
	dir := t.TempDir()
	s := chattest.Start(t, func(c *server.Config) {
		c.DataDir, c.Chat.Durability, c.Chat.HistoryFlushInterval = dir, d, 20*time.Millisecond
	})
	a, authA := s.LoginQuery(t, "Alice", optIn())
	db, err := store.OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	a.Send(map[string]any{"text": "once", "clientMsgId": "c1"})
	a.Send(map[string]any{"text": "once", "clientMsgId": "c1"}) // a retry before the commit
	sent := a.Expect("Sent")
	if sent["clientMsgId"] != "c1" || sent["roomId"] != "lobby" || num(t, sent, "seq") != 1 {
		t.Fatalf("Sent = %v", sent)
	}
	got, _, err := db.History(context.Background(), "lobby", 0, 10)
	if err != nil || len(got) != 1 || got[0].Seq != 1 || got[0].ClientMsgID != "c1" || got[0].UserID != num(t, authA, "userId") {
		t.Fatalf("database after Sent: %+v, %v", got, err)
	}
}

// view collects what one client saw of each stream, failing on a duplicate or a gap.
type view struct {
	t    *testing.T
	last map[string]uint64
}

func newView(t *testing.T) *view { return &view{t: t, last: map[string]uint64{}} }

// add records a PublicMessage or PrivateMessage; it returns false for other frames.
func (v *view) add(m map[string]any) bool {
	v.t.Helper()
	if m["action"] != "PublicMessage" && m["action"] != "PrivateMessage" {
		return false
	}
	room := m["roomId"].(string)
	seq := num(v.t, m, "seq")
	if seq != v.last[room]+1 {
		v.t.Fatalf("%s: got seq %d after %d (gap or duplicate): %v", room, seq, v.last[room], m)
	}
	v.last[room] = seq
	return true
}

// until reads c into v until stream room reaches seq.
func (v *view) until(c *chattest.Client, room string, seq uint64) {
	v.t.Helper()
	for range 10_000 {
		if v.last[room] >= seq {
			return
		}
		v.add(c.Next())
	}
	v.t.Fatalf("%s never reached seq %d", room, seq)
}

func (v *view) since() string {
	var parts []string
	for room, seq := range v.last {
		parts = append(parts, fmt.Sprintf("%s:%d", room, seq))
	}
	return strings.Join(parts, ",")
}

// TestResumeAfterRestartAndRetryAcrossIt: tokens, identities, seqs and clientMsgIds
// survive a restart of the whole server on the same data directory.
func TestResumeAfterRestartAndRetryAcrossIt(t *testing.T) {
	dir := t.TempDir()
	cfg := func(c *server.Config) { c.DataDir = dir; c.Chat.AckTimeout = time.Minute }
	s := chattest.Start(t, fast, cfg)
	a, authA := s.LoginQuery(t, "Alice", optIn("ack", "1"))
	b, authB := s.LoginQuery(t, "Bob", optIn())
	join(t, a, "dev")
	join(t, b, "dev")
	for i := 1; i <= 5; i++ {
		b.Send(map[string]any{"text": fmt.Sprint("d", i), "roomId": "dev", "clientMsgId": fmt.Sprint("b", i)})
		b.ExpectWhere("Sent", func(m map[string]any) bool { return m["action"] == "Sent" })
	}
	va := newView(t)
	va.until(a, "dev", 3)
	s.Stop()

	s2 := chattest.Start(t, fast, cfg)
	b, authB2 := s2.LoginQuery(t, "Bob", optIn("resume", authB["resumeToken"].(string), "since", "dev:5,lobby:0"))
	if authB2["resumed"] != true || authB2["userId"] != authB["userId"] || authB2["userName"] != "Bob" {
		t.Fatalf("Bob after the restart: %v", authB2)
	}
	// A retry of a message that got Sent before the restart is recognized.
	b.Send(map[string]any{"text": "d5", "roomId": "dev", "clientMsgId": "b5"})
	if m := b.Expect("Sent"); num(t, m, "seq") != 5 || m["roomId"] != "dev" {
		t.Fatalf("Sent for a retry across the restart: %v", m)
	}
	a, auth := s2.LoginQuery(t, "Alice", optIn("ack", "1", "resume", authA["resumeToken"].(string), "since", va.since()))
	if auth["resumed"] != true || auth["userId"] != authA["userId"] {
		t.Fatalf("Alice after the restart: %v", auth)
	}
	va.until(a, "dev", 5)
	b.Send(map[string]any{"text": "d6", "roomId": "dev", "clientMsgId": "b6"})
	va.until(a, "dev", 6)
}
