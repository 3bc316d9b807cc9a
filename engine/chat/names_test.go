package chat

import (
	"testing"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

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
