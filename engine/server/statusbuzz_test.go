package server_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// TestStatusAndBuzzOverSockets: over real sockets on a real chatd, a status reaches
// an opted-in room mate and never the seed client, whose next frame is the buzz as
// its own PrivateMessage line; a second buzz of the pair within the interval is
// refused.
func TestStatusAndBuzzOverSockets(t *testing.T) {
	srv := chattest.Start(t, func(c *server.Config) { c.Chat.PresenceInterval = 20 * time.Millisecond })
	opt := url.Values{"resume": {""}, "presence": {"compact"}}
	alice, authA := srv.LoginQuery(t, "Alice", opt)
	bob, _ := srv.LoginQuery(t, "Bob", opt)
	qt, authQ := srv.Login(t, "Qt")

	alice.Send(map[string]any{"action": "SetStatus", "status": "busy", "text": "<b>meeting</b>"})
	st := bob.Expect("Status")
	if st["userId"] != authA["userId"] || st["status"] != "busy" || st["statusText"] != "&lt;b&gt;meeting&lt;/b&gt;" {
		t.Fatalf("Bob got %v", st)
	}
	alice.Send(map[string]any{"action": "Buzz", "toUserId": authQ["userId"]})
	alice.Send(map[string]any{"action": "Buzz", "toUserId": authQ["userId"]})
	if e := alice.ExpectWhere("Error", func(m map[string]any) bool { return m["action"] == "Error" }); e["code"] != "rate_limited" {
		t.Fatalf("Alice's second buzz got %v", e)
	}
	// Whatever the seed client gets before the buzz (Pings), no Status is among it.
	m := qt.ExpectWhere("a PrivateMessage", func(m map[string]any) bool {
		if m["action"] == "Status" {
			t.Fatalf("the seed client got %v", m)
		}
		return m["action"] == "PrivateMessage"
	})
	if m["text"] != "** BUZZ! **" || m["userName"] != "Alice" || m["toUserId"] != authQ["userId"] {
		t.Fatalf("the seed client got %v", m)
	}
}
