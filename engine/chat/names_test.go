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

// TestLookAlikeNamesAreDeduplicated: a name that looks like a taken one (by a UTS #39
// skeleton of its NFKC form, with or without case) gets the first free "(N)" as an
// exact copy would, keeping the letters it was given; bidi controls never reach a
// name; names that only look different stay as they are.
func TestLookAlikeNamesAreDeduplicated(t *testing.T) {
	tests := []struct {
		name          string
		first, second string
		want          []string // the names the two logins get
	}{
		{"Cyrillic A", "Alice", "\u0410lice", []string{"Alice", "\u0410lice (2)"}},
		{"Greek Alpha", "Alice", "\u0391lice", []string{"Alice", "\u0391lice (2)"}},
		{"fullwidth", "Alice", "Ａｌｉｃｅ", []string{"Alice", "Ａｌｉｃｅ (2)"}},
		{"math bold", "Alice", "𝐀𝐥𝐢𝐜𝐞", []string{"Alice", "𝐀𝐥𝐢𝐜𝐞 (2)"}},
		{"Cyrillic o, lower case", "bob", "B\u043Eb", []string{"bob", "B\u043Eb (2)"}},
		{"Greek capitals for lower case", "alice", "\u0391LICE", []string{"alice", "\u0391LICE (2)"}},
		{"case", "BILL", "bill", []string{"BILL", "bill (2)"}},
		{"capital i for l", "lll", "Ill", []string{"lll", "Ill (2)"}},
		{"rn for m", "mary", "rnary", []string{"mary", "rnary (2)"}},
		{"digit zero for O", "OTTO", "0TT0", []string{"OTTO", "0TT0 (2)"}},
		{"right-to-left override", "Alice", "Al\u202Eice", []string{"Alice", "Alice (2)"}},
		{"isolates and marks", "\u2067Bob\u2069", "\u200FBob\u200E\u061C", []string{"Bob", "Bob (2)"}},
		{"different names", "Alice", "Alicia", []string{"Alice", "Alicia"}},
		{"Cyrillic names", "Вася", "Ваня", []string{"Вася", "Ваня"}},
		{"Hebrew with a mark", "דוד", "\u200Fדוד", []string{"דוד", "דוד (2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig())
			for i, name := range []string{tt.first, tt.second} {
				if _, auth := f.login(name, nil); auth["userName"] != tt.want[i] {
					t.Fatalf("login %d as %q got %q, want %q", i+1, name, auth["userName"], tt.want[i])
				}
			}
		})
	}
}

// TestLookAlikeSuffixesAndFreeing: look-alikes share one run of suffixes, and a name
// freed by its user is free for its look-alikes again, while the others keep theirs.
func TestLookAlikeSuffixesAndFreeing(t *testing.T) {
	f := newFixture(t, testConfig())
	latin, _ := f.login("Alice", nil)
	cyrillic, auth := f.login("\u0410lice", nil)
	if auth["userName"] != "\u0410lice (2)" {
		t.Fatalf("Cyrillic Alice got %q", auth["userName"])
	}
	if _, auth := f.login("ALICE", nil); auth["userName"] != "ALICE (3)" {
		t.Fatalf("ALICE got %q, want ALICE (3)", auth["userName"])
	}
	cyrillic.Leave(engine.CloseNormal)
	if _, auth := f.login("Ａｌｉｃｅ", nil); auth["userName"] != "Ａｌｉｃｅ (2)" {
		t.Fatalf("fullwidth Alice after (2) left got %q, want the freed (2)", auth["userName"])
	}
	latin.Leave(engine.CloseNormal)
	if _, auth := f.login("\u0391lice", nil); auth["userName"] != "\u0391lice" {
		t.Fatalf("Greek Alice after Alice left got %q, want it as given", auth["userName"])
	}
}
