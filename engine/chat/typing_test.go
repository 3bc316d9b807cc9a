package chat

import (
	"testing"
	"time"
)

// TestTyping: a Typing goes to the room's other opted-in members only (not the
// typist, not a seed client, not another room); a second within 2 s is dropped
// silently, one after it goes; a room above --presence-full-limit hears nothing; the
// sweep forgets old throttle entries.
func TestTyping(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := newFixture(t, testConfig(func(c *Config) { c.PresenceFullLimit = 3 }), stepClock(&now))
	a, authA := f.login("Alice", optIn())
	b, _ := f.login("Bob", optIn())
	qt, _ := f.login("Qt", nil)
	join(a, "dev")
	join(b, "dev")
	for _, c := range []*client{a, b, qt} {
		c.unread()
	}
	a.send(map[string]any{"action": "Typing", "roomId": "dev"})
	m := b.expectExactly("Typing")[0]
	if m["roomId"] != "dev" || num(t, m, "userId") != num(t, authA, "userId") || m["userName"] != "Alice" {
		t.Fatalf("Bob got %v", m)
	}
	a.expectExactly()
	a.send(map[string]any{"action": "Typing", "roomId": "dev"})
	b.expectExactly()
	a.send(map[string]any{"action": "Typing"}) // the lobby: another room, its own throttle
	if m := b.expectExactly("Typing")[0]; m["roomId"] != "lobby" {
		t.Fatalf("Bob got %v", m)
	}
	qt.expectExactly()
	f.h.Do(func() { now = now.Add(2 * time.Second) })
	a.send(map[string]any{"action": "Typing", "roomId": "dev"})
	b.expectExactly("Typing")

	a.send(map[string]any{"action": "Typing", "roomId": "nope"})
	a.expectError("not_in_room")

	// A fourth member puts the lobby above the limit.
	f.login("Dan", optIn())
	f.h.Do(func() { now = now.Add(2 * time.Second) })
	a.send(map[string]any{"action": "Typing"})
	b.expectExactly()

	var left int
	f.h.Do(func() { now = now.Add(2 * time.Second); f.ch.sweepTyping(); left = len(f.ch.typing) })
	if left != 0 {
		t.Fatalf("%d typing entries after the sweep, want 0", left)
	}
}
