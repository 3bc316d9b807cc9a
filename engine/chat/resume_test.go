package chat_test

import (
	"fmt"
	"github.com/chatd/chatd/engine/server"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
)

func TestAckResendUntilAcknowledged(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.AckTimeout = 50 * time.Millisecond })
	a, _ := s.LoginQuery(t, "Alice", optIn("ack", "1"))
	b, _ := s.Login(t, "Bob")
	b.Send(`{"text":"x"}`)
	first := a.ExpectWhere("lobby message", isMsg("lobby"))
	again := a.ExpectWhere("the resend", isMsg("lobby"))
	if num(t, first, "seq") != 1 || num(t, again, "seq") != 1 || again["text"] != "x" {
		t.Fatalf("first %v, resend %v", first, again)
	}
	a.Send(`{"action":"Ack","roomId":"lobby","seq":1}`)
	a.Send(`{"action":"Rooms"}`) // answered after the Ack was taken: a barrier
	a.Expect("Rooms")
	time.Sleep(4 * 50 * time.Millisecond) // several ack timeouts pass
	b.Send(`{"text":"y"}`)
	if m := a.ExpectWhere("lobby message", isMsg("lobby")); num(t, m, "seq") != 2 {
		t.Fatalf("after Ack got %v, want seq 2 (no more resends of 1)", m)
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

func TestResumeGetsEveryMissedMessageOnce(t *testing.T) {
	s := chattest.Start(t, fast, func(c *server.Config) { c.Chat.AckTimeout = time.Minute })
	a, authA := s.LoginQuery(t, "Alice", optIn("ack", "1"))
	idA := num(t, authA, "userId")
	b, _ := s.LoginQuery(t, "Bob", nil)
	join(t, a, "dev")
	join(t, b, "dev")
	va := newView(t)
	va.last["lobby"], va.last[fmt.Sprint("@", idA)] = 0, 0
	for i := 1; i <= 5; i++ {
		b.Send(map[string]any{"text": fmt.Sprint("d", i), "roomId": "dev"})
	}
	va.until(a, "dev", 5)
	a.Conn.Close()
	b.ExpectWhere("Alice's Presence", func(m map[string]any) bool { return m["action"] == "Presence" })

	for i := 6; i <= 10; i++ {
		b.Send(map[string]any{"text": fmt.Sprint("d", i), "roomId": "dev"})
	}
	b.Send(map[string]any{"text": "while you were away", "toUserId": idA})
	vb := newView(t)
	vb.last["dev"], vb.last["lobby"] = 0, 0
	vb.until(b, "dev", 10)
	b.ExpectWhere("private echo", func(m map[string]any) bool { return m["action"] == "PrivateMessage" })

	va.last["dev"] = 3 // as if 4 and 5 had been lost on the way
	a, auth := s.LoginQuery(t, "Someone else", optIn("ack", "1", "resume", authA["resumeToken"].(string), "since", va.since()))
	if auth["resumed"] != true || num(t, auth, "userId") != idA || auth["userName"] != "Alice" {
		t.Fatalf("resumed Authorized = %v", auth)
	}
	a.ExpectWhere("RoomJoined dev", isAction("RoomJoined", "dev"))
	va.until(a, "dev", 10)
	va.until(a, fmt.Sprint("@", idA), 1)
	b.Send(map[string]any{"text": "live", "roomId": "dev"})
	va.until(a, "dev", 11)
}

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

func TestResumeWithBadTokenIsANewUser(t *testing.T) {
	s := chattest.Start(t)
	_, first := s.LoginQuery(t, "Alice", optIn())
	// The client still names the inbox of the identity it hoped to get back.
	staleInbox := fmt.Sprintf("@%v:3", first["userId"])
	c, auth := s.LoginQuery(t, "Alice", url.Values{"resume": {"AAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAA"}, "since": {staleInbox + ",lobby:0"}})
	if auth["resumed"] != false || auth["userId"] == first["userId"] || auth["userName"] != "Alice (2)" {
		t.Fatalf("Authorized with a forged token = %v", auth)
	}
	if e := c.Expect("Error"); e["code"] != "resume_failed" {
		t.Fatalf("got %v, want resume_failed", e)
	}
	// resume_failed is the only error: the stale inbox is dropped, not refused.
	c.Send(map[string]any{"action": "Rooms"})
	for {
		m := c.Next()
		if m["action"] == "Error" {
			t.Fatalf("after resume_failed: %v", m)
		}
		if m["action"] == "Rooms" {
			break
		}
	}
}
