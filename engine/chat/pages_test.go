package chat

import (
	"fmt"
	"testing"
)

// TestUsersAnswersAreBoundedPages: whatever a client asks for, Users answers at most
// one page of membersPage users, so a request costs the owner its page, not the room.
func TestUsersAnswersAreBoundedPages(t *testing.T) {
	const n = 2*membersPage + 50
	f := newFixture(t, testConfig(fast))
	var ids []uint64
	var asker *client
	for i := range n {
		c, auth := f.login(fmt.Sprintf("user%d", i), optIn())
		ids = append(ids, num(t, auth, "userId"))
		asker = c
	}
	asker.unread()
	tests := []struct {
		name      string
		req       map[string]any
		wantUsers int
		wantMore  bool
	}{
		{"default page", map[string]any{"action": "Users"}, membersPage, true},
		{"limit past the page", map[string]any{"action": "Users", "limit": 100_000}, membersPage, true},
		{"last page", map[string]any{"action": "Users", "offset": 2 * membersPage, "limit": 100_000}, 50, false},
		{"offset past the end", map[string]any{"action": "Users", "offset": 100_000}, 0, false},
		{"more ids than a page", map[string]any{"action": "Users", "userIds": ids}, membersPage, false},
	}
	for _, tt := range tests {
		asker.send(tt.req)
		m := asker.expectExactly("Users")[0]
		if got := len(names(m["users"])); got != tt.wantUsers || m["more"] != tt.wantMore || num(t, m, "count") != n {
			t.Errorf("%s: %d users, more %v, count %v; want %d, %v, %d", tt.name, got, m["more"], m["count"], tt.wantUsers, tt.wantMore, n)
		}
	}
}
