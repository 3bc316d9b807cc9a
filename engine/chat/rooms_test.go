package chat_test

import (
	"context"
	"fmt"
	"github.com/chatd/chatd/engine/server"
	"net/url"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chatd/chatd/engine/store"
)

// optIn is the query of a client that opts in to rooms, resume and (with ack) acks.
func optIn(extra ...string) url.Values {
	q := url.Values{"resume": {""}, "presence": {"compact"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

func isMsg(room string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		return (m["action"] == "PublicMessage" || m["action"] == "PrivateMessage") && m["roomId"] == room
	}
}

func isAction(action, room string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["action"] == action && m["roomId"] == room }
}

// fast lifts the rate limit, for tests that send faster than a person types.
func fast(c *server.Config) { c.Chat.RateLimit, c.Chat.RateBurst = 1e6, 1<<20 }

func join(t *testing.T, c *chattest.Client, room string) map[string]any {
	t.Helper()
	c.Send(map[string]any{"action": "JoinRoom", "roomId": room})
	return c.ExpectWhere("RoomJoined "+room, isAction("RoomJoined", room))
}

func TestRoomsScopeMessagesAndPresence(t *testing.T) {
	s := chattest.Start(t)
	a, _ := s.LoginQuery(t, "Alice", nil) // seed-style presence, but rooms work for anyone
	b, authB := s.LoginQuery(t, "Bob", nil)
	qt, _ := s.Login(t, "Qt")
	if j := join(t, a, "dev"); num(t, j, "count") != 1 {
		t.Fatalf("RoomJoined = %v", j)
	}
	j := join(t, b, "dev")
	if num(t, j, "count") != 2 || len(j["users"].([]any)) != 2 || j["more"] != false {
		t.Fatalf("Bob's RoomJoined = %v", j)
	}
	// Like Connected, a room's Presence goes to the newcomer too: Alice saw her own.
	p := a.ExpectWhere("Presence", func(m map[string]any) bool {
		return m["action"] == "Presence" && m["rooms"].([]any)[0].(map[string]any)["count"] == 2.0
	})
	room := p["rooms"].([]any)[0].(map[string]any)
	if room["roomId"] != "dev" || num(t, room, "count") != 2 || len(room["joined"].([]any)) != 1 {
		t.Fatalf("Presence = %v", p)
	}

	a.Send(map[string]any{"text": "in dev", "roomId": "dev"})
	for _, c := range []*chattest.Client{a, b} {
		m := c.ExpectWhere("dev message", isMsg("dev"))
		if m["text"] != "in dev" || num(t, m, "seq") != 1 || num(t, m, "ts") == 0 {
			t.Fatalf("dev message = %v", m)
		}
	}
	// The Qt client is not in dev: the next thing it sees is the lobby marker.
	a.Send(map[string]any{"text": "marker"})
	m := qt.ExpectWhere("a chat message", func(m map[string]any) bool {
		return m["action"] == "PublicMessage" || m["action"] == "Presence" || m["action"] == "RoomJoined"
	})
	if m["text"] != "marker" || m["roomId"] != "lobby" {
		t.Fatalf("Qt client got %v, want only the lobby marker", m)
	}

	a.Send(map[string]any{"action": "Rooms"})
	rooms := a.ExpectWhere("Rooms", func(m map[string]any) bool { return m["action"] == "Rooms" })["rooms"].([]any)
	if len(rooms) != 2 || rooms[0].(map[string]any)["roomId"] != "lobby" || num(t, rooms[0].(map[string]any), "count") != 3 ||
		rooms[1].(map[string]any)["roomId"] != "dev" || num(t, rooms[1].(map[string]any), "count") != 2 {
		t.Fatalf("Rooms = %v", rooms)
	}

	b.Send(map[string]any{"action": "LeaveRoom", "roomId": "dev"})
	b.ExpectWhere("RoomLeft", isAction("RoomLeft", "dev"))
	p = a.ExpectWhere("Presence", func(m map[string]any) bool { return m["action"] == "Presence" })
	room = p["rooms"].([]any)[0].(map[string]any)
	if num(t, room, "count") != 1 || len(room["left"].([]any)) != 1 || num(t, map[string]any{"x": room["left"].([]any)[0]}, "x") != num(t, authB, "userId") {
		t.Fatalf("Presence after leave = %v", p)
	}
	b.Send(map[string]any{"text": "not a member", "roomId": "dev"})
	if e := b.Expect("Error"); e["code"] != "not_in_room" {
		t.Fatalf("message to a left room: %v", e)
	}
}

func TestRoomErrors(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.MaxRoomsPerUser = 1; c.Chat.MaxRoomMembers = 2 })
	a, _ := s.LoginQuery(t, "Alice", nil)
	b, _ := s.LoginQuery(t, "Bob", nil)
	c, _ := s.LoginQuery(t, "Carol", nil)
	join(t, a, "one")
	join(t, b, "one")
	tests := []struct {
		who   *chattest.Client
		frame map[string]any
		code  string
	}{
		{a, map[string]any{"action": "JoinRoom", "roomId": "two"}, "too_many_rooms"},
		{c, map[string]any{"action": "JoinRoom", "roomId": "one"}, "room_full"},
		{c, map[string]any{"action": "JoinRoom", "roomId": "no spaces"}, "bad_room_id"},
		{c, map[string]any{"action": "JoinRoom", "roomId": "@1"}, "bad_room_id"},
		{c, map[string]any{"action": "JoinRoom"}, "bad_room_id"},
		{c, map[string]any{"action": "LeaveRoom", "roomId": "lobby"}, "default_room"},
		{c, map[string]any{"action": "LeaveRoom", "roomId": "one"}, "not_in_room"},
		{c, map[string]any{"action": "History", "roomId": "one"}, "not_in_room"},
		{c, map[string]any{"action": "Users", "roomId": "one"}, "not_in_room"},
		{c, map[string]any{"text": "x", "clientMsgId": string(make([]byte, 65))}, "bad_client_msg_id"},
		{c, map[string]any{"action": "Ack", "roomId": "one", "seq": 1}, "not_in_room"},
		{c, map[string]any{"action": "Ack", "seq": -1}, "bad_field"},
	}
	for _, tt := range tests {
		tt.who.Send(tt.frame)
		if e := tt.who.Expect("Error"); e["code"] != tt.code {
			t.Errorf("%v: got %v, want %s", tt.frame, e, tt.code)
		}
	}
	// A member leaving makes room for another.
	b.Send(map[string]any{"action": "LeaveRoom", "roomId": "one"})
	b.ExpectWhere("RoomLeft", isAction("RoomLeft", "one"))
	join(t, c, "one")
}

func TestCompactPresenceAndUsersPaging(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.PresenceInterval = 20 * time.Millisecond; c.Chat.PresenceFullLimit = 3 })
	watcher, auth := s.LoginQuery(t, "Watcher", optIn())
	if num(t, auth, "count") != 1 || auth["roomId"] != "lobby" || auth["resumeToken"] == "" || auth["resumed"] != false {
		t.Fatalf("compact Authorized = %v", auth)
	}
	var qt0 *chattest.Client
	var qt0ID uint64
	for i := range 2 {
		c, auth := s.Login(t, fmt.Sprint("Qt", i))
		if i == 0 {
			qt0, qt0ID = c, num(t, auth, "userId")
		}
	}
	// The two joins come batched (one or two ticks), never as Connected.
	joined := map[any]bool{}
	for !joined["Qt0"] || !joined["Qt1"] {
		m := watcher.Next()
		if m["action"] == "Connected" {
			t.Fatalf("compact client got Connected: %v", m)
		}
		if m["action"] == "Presence" {
			r := m["rooms"].([]any)[0].(map[string]any)
			for _, u := range r["joined"].([]any) {
				joined[u.(map[string]any)["userName"]] = true
			}
		}
	}
	// Above --presence-full-limit (3) only the count comes.
	s.Login(t, "Qt2")
	p := watcher.ExpectWhere("Presence", func(m map[string]any) bool { return m["action"] == "Presence" })
	r := p["rooms"].([]any)[0].(map[string]any)
	if num(t, r, "count") != 4 || r["joined"] != nil {
		t.Fatalf("Presence above the full limit = %v", p)
	}
	watcher.Send(map[string]any{"action": "Users", "offset": 1, "limit": 2})
	u := watcher.Expect("Users")
	if num(t, u, "count") != 4 || num(t, u, "offset") != 1 || len(u["users"].([]any)) != 2 || u["more"] != true ||
		u["users"].([]any)[0].(map[string]any)["userName"] != "Qt0" {
		t.Fatalf("Users page = %v", u)
	}
	// Asking about a user by id brings its changes back, in a room this big too.
	watcher.Send(map[string]any{"action": "Users", "userIds": []uint64{qt0ID, 999}})
	u = watcher.Expect("Users")
	if users := u["users"].([]any); len(users) != 1 || users[0].(map[string]any)["userName"] != "Qt0" {
		t.Fatalf("Users by id = %v", u)
	}
	qt0.Conn.Close()
	p = watcher.ExpectWhere("Presence", func(m map[string]any) bool { return m["action"] == "Presence" })
	r = p["rooms"].([]any)[0].(map[string]any)
	if num(t, r, "count") != 3 || len(r["left"].([]any)) != 1 || r["left"].([]any)[0] != float64(qt0ID) {
		t.Fatalf("Presence of a watched user in a big room = %v", p)
	}
	watcher.Send(`{"action":"Users","userIds":"x"}`)
	if e := watcher.Expect("Error"); e["code"] != "bad_field" {
		t.Fatalf("bad userIds: %v", e)
	}
}

func TestHistoryOnJoinAndPaging(t *testing.T) {
	s := chattest.Start(t, fast, func(c *server.Config) { c.Chat.HistoryOnJoin = 10 })
	a, _ := s.LoginQuery(t, "Alice", nil)
	join(t, a, "dev")
	for i := 1; i <= 120; i++ {
		a.Send(map[string]any{"text": fmt.Sprint("m", i), "roomId": "dev"})
	}
	for i := 1; i <= 120; i++ {
		if m := a.ExpectWhere("dev message", isMsg("dev")); num(t, m, "seq") != uint64(i) || m["text"] != fmt.Sprint("m", i) {
			t.Fatalf("message %d = %v", i, m)
		}
	}
	b, _ := s.LoginQuery(t, "Bob", nil)
	join(t, b, "dev")
	for i := 111; i <= 120; i++ {
		m := b.Next()
		for m["action"] == "Presence" {
			m = b.Next()
		}
		if !isMsg("dev")(m) || num(t, m, "seq") != uint64(i) {
			t.Fatalf("history on join: got %v, want seq %d", m, i)
		}
	}
	page := func(before, limit int) ([]any, bool) {
		b.Send(map[string]any{"action": "History", "roomId": "dev", "before": before, "limit": limit})
		h := b.ExpectWhere("History", isAction("History", "dev"))
		return h["messages"].([]any), h["more"].(bool)
	}
	msgs, more := page(111, 500) // limit is capped at 100
	if len(msgs) != 100 || !more || num(t, msgs[0].(map[string]any), "seq") != 11 || num(t, msgs[99].(map[string]any), "seq") != 110 {
		t.Fatalf("History before 111: %d messages, more %v", len(msgs), more)
	}
	msgs, more = page(11, 50)
	if len(msgs) != 10 || more || num(t, msgs[0].(map[string]any), "seq") != 1 || msgs[0].(map[string]any)["text"] != "m1" {
		t.Fatalf("History before 11: %v more %v", msgs, more)
	}
	msgs, _ = page(0, 0)
	if len(msgs) != 50 || num(t, msgs[49].(map[string]any), "seq") != 120 {
		t.Fatalf("History newest: %d messages", len(msgs))
	}
}

// TestQtClientGetsRecentHistoryOnLogin: the seed's client sees what it missed as
// ordinary PublicMessage frames right after its login.
func TestQtClientGetsRecentHistoryOnLogin(t *testing.T) {
	s := chattest.Start(t, fast, func(c *server.Config) { c.Chat.HistoryOnJoin = 3 })
	a, _ := s.Login(t, "Alice")
	for i := 1; i <= 5; i++ {
		a.Send(map[string]any{"text": fmt.Sprint("old ", i), "toUserId": 0})
		a.Expect("PublicMessage")
	}
	a.Conn.Close()
	b, auth := s.Login(t, "Bob")
	if len(auth["users"].([]any)) != 1 {
		t.Fatalf("Authorized = %v", auth)
	}
	if m := b.Next(); m["action"] != "Connected" {
		t.Fatalf("after Authorized: %v", m)
	}
	for i := 3; i <= 5; i++ {
		m := b.Next()
		if m["action"] != "PublicMessage" || m["text"] != fmt.Sprint("old ", i) || m["userName"] != "Alice" || num(t, m, "toUserId") != 0 {
			t.Fatalf("history message %d = %v", i, m)
		}
	}
}

// TestSentOnlyAfterCommitAndRetriesAreIdempotent: Sent comes when the message is in
// the database (read back through a second connection to the file), and a resend with
// the same clientMsgId is neither stored nor delivered again.
func TestSentOnlyAfterCommitAndRetriesAreIdempotent(t *testing.T) {
	dir := t.TempDir()
	s := chattest.Start(t, func(c *server.Config) { c.DataDir = dir; c.Chat.HistoryFlushInterval = 20 * time.Millisecond })
	a, authA := s.LoginQuery(t, "Alice", optIn())
	b, authB := s.Login(t, "Bob")
	db, err := store.OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	a.Send(map[string]any{"text": "once", "clientMsgId": "c1"})
	a.Send(map[string]any{"text": "once", "clientMsgId": "c1"}) // a retry before the commit
	sent := a.Expect("Sent")
	if sent["clientMsgId"] != "c1" || sent["roomId"] != "lobby" || num(t, sent, "seq") != 1 {
		t.Fatalf("Sent = %v", sent)
	}
	got, _, err := db.History(context.Background(), "lobby", 0, 10)
	if err != nil || len(got) != 1 || got[0].Seq != 1 || got[0].ClientMsgID != "c1" || got[0].UserID != num(t, authA, "userId") {
		t.Fatalf("database after Sent: %+v, %v", got, err)
	}
	a.Send(map[string]any{"text": "once", "clientMsgId": "c1"}) // a retry after the commit
	if again := a.Expect("Sent"); num(t, again, "seq") != 1 {
		t.Fatalf("Sent for the retry = %v", again)
	}
	a.Send(map[string]any{"text": "twice", "clientMsgId": "c2"})
	if s2 := a.Expect("Sent"); num(t, s2, "seq") != 2 {
		t.Fatalf("Sent c2 = %v", s2)
	}
	for _, want := range []string{"once", "twice"} {
		if m := b.Expect("PublicMessage"); m["text"] != want {
			t.Fatalf("Bob got %v, want %q (each message once)", m, want)
		}
	}
	// A private message: Sent names the sender's inbox copy.
	a.Send(map[string]any{"text": "psst", "toUserId": num(t, authB, "userId"), "clientMsgId": "p1"})
	idA := num(t, authA, "userId")
	if ps := a.Expect("Sent"); ps["roomId"] != fmt.Sprint("@", idA) || num(t, ps, "seq") != 1 || ps["clientMsgId"] != "p1" {
		t.Fatalf("Sent for a private message = %v", ps)
	}
	if m := b.Expect("PrivateMessage"); m["text"] != "psst" || num(t, m, "userId") != idA {
		t.Fatalf("Bob's private message = %v", m)
	}
}
