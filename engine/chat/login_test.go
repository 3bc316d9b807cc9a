package chat

import (
	"testing"

	"github.com/chatd/chatd/engine"
)

// TestLoginAuthorizedAndConnected: Authorized (own fields and every user, itself
// included, in join order) to the newcomer, then Connected to everyone including it.
func TestLoginAuthorizedAndConnected(t *testing.T) {
	f := newFixture(t, testConfig())
	a, authA := f.login("Alice", nil)
	if authA["userName"] != "Alice" || num(t, authA, "userId") < 1 || num(t, authA, "gender") != 1 || authA["userColor"] != testColor {
		t.Fatalf("Authorized = %v", authA)
	}
	if users := names(authA["users"]); len(users) != 1 || users[0] != "Alice" {
		t.Fatalf("Alice's list = %v, want only herself", users)
	}
	if c := a.expectExactly("Connected")[0]; c["userName"] != "Alice" || num(t, c, "userId") != num(t, authA, "userId") {
		t.Fatalf("Alice's own Connected = %v", c)
	}
	b, authB := f.login("Bob", nil)
	if users := names(authB["users"]); len(users) != 2 || users[0] != "Alice" || users[1] != "Bob" {
		t.Fatalf("Bob's list = %v, want Alice then Bob (join order)", users)
	}
	if c := a.expectExactly("Connected")[0]; c["userName"] != "Bob" || num(t, c, "userId") != num(t, authB, "userId") {
		t.Fatalf("Alice got %v, want Bob's Connected", c)
	}
	if c := b.expectExactly("Connected")[0]; c["userName"] != "Bob" {
		t.Fatalf("Bob's own Connected = %v", c)
	}
	if num(t, authB, "userId") <= num(t, authA, "userId") {
		t.Fatalf("ids not increasing: %v then %v", authA["userId"], authB["userId"])
	}
}

// TestDisconnectedOnClose: however a connection ends, if not by the heartbeat, the
// others get Disconnected with the leaver's fields (never ConnectionLost).
func TestDisconnectedOnClose(t *testing.T) {
	for _, reason := range []engine.CloseReason{{Code: 1000, Text: "bye"}, engine.CloseGoingAway, engine.CloseAbnormal} {
		t.Run(reason.String(), func(t *testing.T) {
			f := newFixture(t, testConfig())
			a, authA := f.login("Alice", nil)
			b, _ := f.login("Bob", nil)
			b.unread()
			a.Leave(reason)
			m := b.expectExactly("Disconnected")[0]
			if num(t, m, "userId") != num(t, authA, "userId") || m["userName"] != "Alice" {
				t.Fatalf("Disconnected = %v", m)
			}
		})
	}
}
