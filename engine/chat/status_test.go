package chat

import (
	"strings"
	"testing"
	"time"
)

// TestSetStatusReachesOptedInRoomMatesOnce: a status goes, at the tick, once to every
// opted-in user sharing a room with the sender (the sender included), never to a
// seed client, and only the last of a tick's changes is sent. Authorized and Users
// carry it from then on; the text is escaped and stripped of bidi controls.
func TestSetStatusReachesOptedInRoomMatesOnce(t *testing.T) {
	f := newFixture(t, testConfig())
	a, authA := f.login("Alice", optIn())
	b, _ := f.login("Bob", optIn())
	qt, _ := f.login("Qt", nil)
	join(a, "dev")
	join(b, "dev") // Bob shares two rooms with Alice: one Status all the same
	for _, c := range []*client{a, b, qt} {
		c.unread()
	}
	a.send(map[string]any{"action": "SetStatus", "status": "busy", "text": "first"})
	a.send(map[string]any{"action": "SetStatus", "status": "away", "text": "<img src=x onerror=alert(1)>\u202e lunch"})
	for _, c := range []*client{a, b, qt} {
		c.expectExactly() // nothing before the tick
	}
	f.h.Do(f.ch.flushStatuses)
	wantText := "&lt;img src=x onerror=alert(1)&gt; lunch"
	for _, c := range []*client{a, b} {
		m := c.expectExactly("Status")[0]
		if num(t, m, "userId") != num(t, authA, "userId") || m["status"] != "away" || m["statusText"] != wantText {
			t.Fatalf("%s got %v", c.name, m)
		}
	}
	qt.expectExactly()

	b.send(map[string]any{"action": "Users", "roomId": "dev"})
	users := b.expectExactly("Users")[0]["users"].([]any)
	for _, raw := range users {
		u := raw.(map[string]any)
		want := map[string]string{"Alice": "away", "Bob": "online"}[u["userName"].(string)]
		if u["status"] != want {
			t.Fatalf("Users entry %v, want status %q", u, want)
		}
	}
	_, authC := f.login("Carol", optIn())
	for _, raw := range authC["users"].([]any) {
		if u := raw.(map[string]any); u["userName"] == "Alice" && (u["status"] != "away" || u["statusText"] != wantText) {
			t.Fatalf("Carol's Authorized lists %v", u)
		}
	}
	// The Qt client's Authorized roster stays the seed's: no status keys at all.
	_, authQ := f.login("Qt2", nil)
	for _, raw := range authQ["users"].([]any) {
		if _, has := raw.(map[string]any)["status"]; has {
			t.Fatalf("a seed client's roster has status: %v", raw)
		}
	}
}

// TestSetStatusSkipsRoomsAboveTheFullLimit: in a room above --presence-full-limit
// nobody is sent a Status (a status change would cost O(members) like a join); the
// sender still gets its own, and Users pages still carry it.
func TestSetStatusSkipsRoomsAboveTheFullLimit(t *testing.T) {
	f := newFixture(t, testConfig(func(c *Config) { c.PresenceFullLimit = 2 }))
	a, _ := f.login("Alice", optIn())
	b, _ := f.login("Bob", optIn())
	c, _ := f.login("Carol", optIn())
	for _, x := range []*client{a, b, c} {
		x.unread()
	}
	a.send(map[string]any{"action": "SetStatus", "status": "busy"})
	f.h.Do(f.ch.flushStatuses)
	if m := a.expectExactly("Status")[0]; m["status"] != "busy" || m["statusText"] != "" {
		t.Fatalf("Alice got %v", m)
	}
	b.expectExactly()
	c.expectExactly()
}

// TestSetStatusRefusals: each bad request gets one Error with its code and changes
// nothing.
func TestSetStatusRefusals(t *testing.T) {
	f := newFixture(t, testConfig())
	a, _ := f.login("Alice", optIn())
	a.unread()
	for _, tc := range []struct {
		frame, code string
	}{
		{`{"action":"SetStatus"}`, "bad_status"},
		{`{"action":"SetStatus","status":"asleep"}`, "bad_status"},
		{`{"action":"SetStatus","status":7}`, "bad_field"},
		{`{"action":"SetStatus","status":"away","text":7}`, "bad_field"},
		{`{"action":"SetStatus","status":"away","text":"` + strings.Repeat("я", 81) + `"}`, "text_too_long"},
	} {
		a.send(tc.frame)
		a.expectError(tc.code)
	}
	a.send(`{"action":"SetStatus","status":"away","text":"` + strings.Repeat("я", 80) + `"}`)
	f.h.Do(f.ch.flushStatuses)
	a.expectExactly("Status")
}

// TestSetStatusIsChargedAsCostly: a burst of SetStatus runs out of the costly budget
// (10), not the chat lines' one, and however many were taken, a tick sends one Status.
func TestSetStatusIsChargedAsCostly(t *testing.T) {
	f := newFixture(t, testConfig())
	a, _ := f.login("Alice", optIn())
	a.unread()
	for i := range costlyBurst + 1 {
		a.send(map[string]any{"action": "SetStatus", "status": "away", "text": strings.Repeat("x", i)})
	}
	a.expectError("rate_limited")
	f.h.Do(f.ch.flushStatuses)
	if m := a.expectExactly("Status")[0]; m["statusText"] != strings.Repeat("x", costlyBurst-1) {
		t.Fatalf("Status = %v", m)
	}
}

// TestBuzz: an opted-in recipient gets Buzz with the sender; a seed client gets a
// private line; a second buzz of the same pair within --buzz-interval is refused
// while another pair goes through; after the interval it goes again; an offline
// recipient is refused.
func TestBuzz(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := newFixture(t, testConfig(), stepClock(&now))
	a, authA := f.login("Alice", optIn())
	b, authB := f.login("Bob", optIn())
	qt, authQ := f.login("Qt", nil)
	for _, c := range []*client{a, b, qt} {
		c.unread()
	}
	alice := num(t, authA, "userId")
	a.send(map[string]any{"action": "Buzz", "toUserId": num(t, authB, "userId")})
	if m := b.expectExactly("Buzz")[0]; num(t, m, "userId") != alice || m["userName"] != "Alice" {
		t.Fatalf("Bob got %v", m)
	}
	a.expectExactly()
	a.send(map[string]any{"action": "Buzz", "toUserId": num(t, authB, "userId")})
	a.expectError("rate_limited")
	b.expectExactly()

	a.send(map[string]any{"action": "Buzz", "toUserId": num(t, authQ, "userId")})
	m := qt.expectExactly("PrivateMessage")[0]
	if num(t, m, "userId") != alice || m["text"] != "** BUZZ! **" || num(t, m, "toUserId") != num(t, authQ, "userId") {
		t.Fatalf("the seed client got %v", m)
	}

	f.h.Do(func() { now = now.Add(10 * time.Second) })
	a.send(map[string]any{"action": "Buzz", "toUserId": num(t, authB, "userId")})
	b.expectExactly("Buzz")

	a.send(map[string]any{"action": "Buzz", "toUserId": 999_999})
	a.expectError("recipient_offline")
	a.send(map[string]any{"action": "Buzz"})
	a.expectError("recipient_offline")
}

// TestBuzzStateIsBounded: a sender buzzing many users is refused past maxBuzzPeers
// within the interval (its log is a fixed array), and the sweep drops logs that
// have nothing left within the interval.
func TestBuzzStateIsBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := newFixture(t, testConfig(fast), stepClock(&now))
	a, _ := f.login("Alice", optIn())
	var ids []uint64
	for i := range maxBuzzPeers + 1 {
		_, auth := f.login("Peer"+string(rune('a'+i)), optIn())
		ids = append(ids, num(t, auth, "userId"))
	}
	a.unread()
	for _, id := range ids[:maxBuzzPeers] {
		a.send(map[string]any{"action": "Buzz", "toUserId": id})
	}
	a.expectExactly()
	a.send(map[string]any{"action": "Buzz", "toUserId": ids[maxBuzzPeers]})
	a.expectError("rate_limited")

	var logs int
	f.h.Do(func() { f.ch.sweepBuzzes(); logs = len(f.ch.buzzes) })
	if logs != 1 {
		t.Fatalf("%d buzz logs after a sweep within the interval, want 1", logs)
	}
	f.h.Do(func() { now = now.Add(10 * time.Second); f.ch.sweepBuzzes(); logs = len(f.ch.buzzes) })
	if logs != 0 {
		t.Fatalf("%d buzz logs after the interval, want 0", logs)
	}
	a.send(map[string]any{"action": "Buzz", "toUserId": ids[maxBuzzPeers]})
	a.expectExactly()
}
