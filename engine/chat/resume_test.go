package chat

import (
	"bytes"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// TestAckResendUntilAcknowledged: an ack=1 client gets every message it has not
// acknowledged within --ack-timeout again, the same frame, at each timeout, until it
// acknowledges; then never again.
func TestAckResendUntilAcknowledged(t *testing.T) {
	now := time.Unix(1000, 0)
	cfg := testConfig(func(c *Config) { c.AckTimeout = time.Minute })
	f := newFixture(t, cfg, stepClock(&now))
	resend := func(after time.Duration) {
		f.h.Do(func() { now = now.Add(after); f.ch.resendUnacked() })
	}
	a, _ := f.login("Alice", optIn("ack", "1"))
	b, _ := f.login("Bob", nil)
	a.unread()
	b.send(`{"text":"x"}`)
	first := a.expectExactly("PublicMessage")[0]
	if first["roomId"] != "lobby" || num(t, first, "seq") != 1 || first["text"] != "x" {
		t.Fatalf("first = %v", first)
	}
	resend(cfg.AckTimeout - time.Millisecond)
	a.expectExactly() // not yet
	// At the timeout, then at the next one.
	for _, step := range []time.Duration{time.Millisecond, cfg.AckTimeout} {
		resend(step)
		a.expectExactly("PublicMessage")
	}
	frames := a.Frames()
	if n := len(frames); !bytes.Equal(frames[n-1].Payload, frames[n-2].Payload) || !bytes.Equal(frames[n-1].Payload, frames[n-3].Payload) {
		t.Fatalf("resends differ from the message: %q, %q, %q", frames[n-3].Payload, frames[n-2].Payload, frames[n-1].Payload)
	}
	a.send(`{"action":"Ack","roomId":"lobby","seq":1}`)
	a.expectExactly()
	resend(4 * cfg.AckTimeout)
	a.expectExactly()
	b.send(`{"text":"y"}`)
	if m := a.expectExactly("PublicMessage")[0]; num(t, m, "seq") != 2 {
		t.Fatalf("after Ack got %v, want seq 2 (no more resends of 1)", m)
	}
}

// streams checks that msgs carry each room's chat messages in seq order right after
// after[room] (0 if absent), with no gap and no duplicate, and returns each room's
// last seq.
func streams(t testing.TB, msgs []map[string]any, after map[string]uint64) map[string]uint64 {
	t.Helper()
	last := map[string]uint64{}
	for room, seq := range after {
		last[room] = seq
	}
	for _, m := range msgs {
		if m["action"] != "PublicMessage" && m["action"] != "PrivateMessage" {
			continue
		}
		room := m["roomId"].(string)
		if seq := num(t, m, "seq"); seq != last[room]+1 {
			t.Fatalf("%s: got seq %d after %d (gap or duplicate): %v", room, seq, last[room], m)
		}
		last[room]++
	}
	return last
}

// TestResumeGetsEveryMissedMessageOnce: a client that comes back with its token and
// since= gets its identity back, rejoins its rooms, and gets every message after the
// seqs it names (a dialog's too), once, in order, then live ones.
func TestResumeGetsEveryMissedMessageOnce(t *testing.T) {
	f := newFixture(t, testConfig(fast, func(c *Config) { c.AckTimeout = time.Minute }), withHistory(t, sqlite(t)))
	a, authA := f.login("Alice", optIn("ack", "1"))
	idA := num(t, authA, "userId")
	b, authB := f.login("Bob", nil)
	inbox := protocol.DialogID(idA, num(t, authB, "userId"))
	join(a, "dev")
	join(b, "dev")
	for i := 1; i <= 5; i++ {
		b.send(map[string]any{"text": fmt.Sprint("d", i), "roomId": "dev"})
	}
	f.eventually("Alice to get dev 5", func() bool { return streams(t, a.Messages(), nil)["dev"] >= 5 })
	a.Leave(engine.CloseAbnormal)
	b.expectWhere("Alice's leave of dev", func(m map[string]any) bool {
		if m["action"] != "Presence" {
			return false
		}
		r := firstRoom(m)
		left, _ := r["left"].([]any)
		return r["roomId"] == "dev" && len(left) == 1 && left[0] == float64(idA)
	})

	for i := 6; i <= 10; i++ {
		b.send(map[string]any{"text": fmt.Sprint("d", i), "roomId": "dev"})
	}
	b.send(map[string]any{"text": "while you were away", "toUserId": idA})
	b.expectWhere("dev 10", func(m map[string]any) bool { return isMsg("dev")(m) && m["seq"] == 10.0 })
	b.expect("PrivateMessage")

	// As if 4 and 5 had been lost on the way.
	after := map[string]uint64{"dev": 3, "lobby": 0, inbox: 0}
	since := fmt.Sprintf("dev:3,lobby:0,%s:0", inbox)
	a, auth := f.login("Someone else", optIn("ack", "1", "resume", authA["resumeToken"].(string), "since", since))
	if auth["resumed"] != true || num(t, auth, "userId") != idA || auth["userName"] != "Alice" {
		t.Fatalf("resumed Authorized = %v", auth)
	}
	a.expectWhere("RoomJoined dev", isAction("RoomJoined", "dev"))
	f.eventually("the replay", func() bool {
		last := streams(t, a.Messages(), after)
		return last["dev"] >= 10 && last[inbox] >= 1
	})
	b.send(map[string]any{"text": "live", "roomId": "dev"})
	f.eventually("the live message", func() bool { return streams(t, a.Messages(), after)["dev"] >= 11 })
	f.h.Sync()
	if last := streams(t, a.Messages(), after); last["dev"] != 11 || last[inbox] != 1 || last["lobby"] != 0 {
		t.Fatalf("Alice's streams after the resume: %v", last)
	}
}

// TestResumeWithBadTokenIsANewUser: a forged token logs the client in as a new user
// with resume_failed, its only Error: the stale inbox in since is dropped, not refused.
func TestResumeWithBadTokenIsANewUser(t *testing.T) {
	f := newFixture(t, testConfig())
	_, first := f.login("Alice", optIn())
	// The client still names the inbox of the identity it hoped to get back.
	staleInbox := fmt.Sprintf("@%d:3", num(t, first, "userId"))
	c, auth := f.login("Alice", url.Values{"resume": {"AAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAA"}, "since": {staleInbox + ",lobby:0"}})
	if auth["resumed"] != false || auth["userId"] == first["userId"] || auth["userName"] != "Alice (2)" {
		t.Fatalf("Authorized with a forged token = %v", auth)
	}
	c.send(map[string]any{"action": "Rooms"})
	var errs []map[string]any
	msgs := c.unread()
	for _, m := range msgs {
		if m["action"] == "Error" {
			errs = append(errs, m)
		}
	}
	if len(errs) != 1 || errs[0]["code"] != "resume_failed" || msgs[len(msgs)-1]["action"] != "Rooms" {
		t.Fatalf("got %v, want resume_failed as the only Error, and Rooms", msgs)
	}
}
