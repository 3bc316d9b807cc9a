package server_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chatd/chatd/engine/server/chattest"
)

// searchResults sends a Search and returns the "room/seq:text" of its results.
func searchResults(t *testing.T, c *chattest.Client, req map[string]any) []string {
	t.Helper()
	req["action"] = "Search"
	c.Send(req)
	m := c.ExpectWhere("SearchResults", func(m map[string]any) bool { return m["action"] == "SearchResults" || m["action"] == "Error" })
	if m["action"] == "Error" {
		t.Fatalf("Search %v: %v", req, m)
	}
	if m["query"] != req["query"] || m["roomId"] != req["roomId"] {
		t.Fatalf("Search %v answered for %v in %v", req, m["query"], m["roomId"])
	}
	out := []string{}
	for _, x := range m["messages"].([]any) {
		msg := x.(map[string]any)
		out = append(out, fmt.Sprintf("%s/%v:%s", msg["roomId"], msg["seq"], msg["text"]))
	}
	return out
}

// TestSearchOverSockets: Search finds words in the rooms the user is in (one, or all
// without roomId) and never in others, newest first; FTS5 operator characters are
// words or separators, never syntax; limit holds; an empty query is bad_query.
func TestSearchOverSockets(t *testing.T) {
	srv := chattest.Start(t)
	alice, _ := srv.LoginQuery(t, "Alice", optIn)
	bob, _ := srv.LoginQuery(t, "Bob", optIn)
	alice.Send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	alice.Expect("RoomJoined")
	bob.Send(map[string]any{"action": "JoinRoom", "roomId": "ops"})
	bob.Expect("RoomJoined")

	sendLine(t, alice, "dev", "the quick brown fox")
	sendLine(t, bob, "ops", "quick secret plans")
	sendLine(t, alice, "lobby", "a quick hello")
	sendLine(t, alice, "dev", `quotes "AND" NEAR(x) stars*`)

	cases := []struct {
		req  map[string]any
		want []string
	}{
		{map[string]any{"query": "quick"}, []string{"lobby/1:a quick hello", "dev/1:the quick brown fox"}},
		{map[string]any{"query": "QUICK", "roomId": "dev"}, []string{"dev/1:the quick brown fox"}},
		{map[string]any{"query": "secret"}, []string{}},
		{map[string]any{"query": "qui bro"}, []string{"dev/1:the quick brown fox"}},
		{map[string]any{"query": `"AND" OR NOT (near*`}, []string{}},
		{map[string]any{"query": `"and" near`}, []string{`dev/2:quotes &quot;AND&quot; NEAR(x) stars*`}},
		{map[string]any{"query": `stars* ^x: {quotes}`}, []string{`dev/2:quotes &quot;AND&quot; NEAR(x) stars*`}},
	}
	for _, c := range cases {
		if got := searchResults(t, alice, c.req); !slices.Equal(got, c.want) {
			t.Errorf("Search %v = %q, want %q", c.req, got, c.want)
		}
	}
	if got := searchResults(t, bob, map[string]any{"query": "quick"}); !slices.Equal(got, []string{"lobby/1:a quick hello", "ops/1:quick secret plans"}) {
		t.Errorf("Bob's search: %q", got)
	}
	for i := range 5 {
		sendLine(t, bob, "ops", fmt.Sprintf("bulk line %d", i))
	}
	if got := searchResults(t, bob, map[string]any{"query": "bulk", "limit": 2}); !slices.Equal(got, []string{"ops/6:bulk line 4", "ops/5:bulk line 3"}) {
		t.Errorf("limit 2: %q", got)
	}
	carol, _ := srv.LoginQuery(t, "Carol", optIn) // Search is costly: 10 at once
	for _, q := range []any{"", "  ", `"*()"`} {
		carol.Send(map[string]any{"action": "Search", "query": q})
		expectError(t, carol, "bad_query")
	}
	carol.Send(map[string]any{"action": "Search", "query": "quick", "roomId": "ops"})
	expectError(t, carol, "not_in_room")
}
