package chat

import "testing"

// TestBidiControlsNeverReachALine: a text's bidi controls are removed before anyone
// gets it (so a right-to-left override cannot reverse the line the client shows), and
// a text of nothing else is empty.
func TestBidiControlsNeverReachALine(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"override", "\u202Eevil", "evil"},
		{"override in a mention", "hi {Bo\u202Eb}", "hi <b>Bob</b>"},
		{"isolates, embeddings and marks", "\u2066a\u202Bb\u202Cc\u2069\u200E\u200F\u061C", "abc"},
		{"right-to-left letters", "שלום", "שלום"},
	}
	f := newFixture(t, testConfig(fast))
	a, _ := f.login("Alice", nil)
	b, _ := f.login("Bob", nil)
	a.unread()
	b.unread()
	for _, tt := range tests {
		a.send(map[string]any{"text": tt.text})
		for _, c := range []*client{a, b} {
			if m := c.expectExactly("PublicMessage")[0]; m["text"] != tt.want {
				t.Errorf("%s: %s got %q, want %q", tt.name, c.name, m["text"], tt.want)
			}
		}
	}
	a.send(map[string]any{"text": "\u202E\u2067 \u200F"})
	a.expectError("empty_text")
	b.expectExactly()
}
