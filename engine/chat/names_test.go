package chat

import (
	"testing"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// TestNicknameDeduplication: a taken name (trimmed, compared without case) becomes
// "name (N)" with the first free N.
func TestNicknameDeduplication(t *testing.T) {
	f := newFixture(t, testConfig())
	want := []string{"Bob", "Bob (2)", "Bob (3)", "bob (4)"}
	for i, name := range []string{"Bob", "Bob", " Bob ", "bob"} {
		if _, auth := f.login(name, nil); auth["userName"] != want[i] {
			t.Fatalf("login %d as %q got %q, want %q", i+1, name, auth["userName"], want[i])
		}
	}
}

// TestNameFreedOnLeave: a name is free again once its user has gone.
func TestNameFreedOnLeave(t *testing.T) {
	f := newFixture(t, testConfig())
	a, _ := f.login("Bob", nil)
	b, _ := f.login("Bob", nil)
	a.Leave(engine.CloseAbnormal)
	b.expect("Disconnected")
	if _, auth := f.login("Bob", nil); auth["userName"] != "Bob" {
		t.Fatalf("after Bob left, a new Bob is %q", auth["userName"])
	}
}

// TestUniqueNameReusesTheFirstFreeSuffix: the per-name hint must still give the
// seed's "first free number" after names in the middle are freed.
func TestUniqueNameReusesTheFirstFreeSuffix(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	peers := map[string]*enginetest.Peer{}
	login := func(want string) {
		t.Helper()
		p := f.h.Login("Bob")
		if got := f.userName(p); got != want {
			t.Fatalf("login got %q, want %q", got, want)
		}
		peers[want] = p
	}
	logout := func(name string) { peers[name].Leave(engine.CloseNormal) }
	for _, n := range []string{"Bob", "Bob (2)", "Bob (3)", "Bob (4)", "Bob (5)"} {
		login(n)
	}
	logout("Bob (3)")
	logout("Bob (4)")
	login("Bob (3)")
	login("Bob (4)")
	login("Bob (6)")
	logout("Bob (2)")
	logout("Bob")
	login("Bob")
	login("Bob (2)")
	login("Bob (7)")
	// The roster the seed's Authorized carries follows the leaves and joins.
	last := peers["Bob (7)"].Messages()[0]
	if users := last["users"].([]any); len(users) != 7 || users[6].(map[string]any)["userName"] != "Bob (7)" {
		t.Fatalf("Authorized users = %v", users)
	}
}
