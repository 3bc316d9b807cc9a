package chat

import (
	"slices"
	"strings"
	"testing"

	"github.com/chatd/chatd/engine"
)

// TestRoomsScopeMessagesAndPresence: a room's messages and presence go to its members
// only; Rooms lists the rooms with their counts; a member that left may not post.
func TestRoomsScopeMessagesAndPresence(t *testing.T) {
	f := newFixture(t, testConfig())
	a, _ := f.login("Alice", nil) // seed-style presence, but rooms work for anyone
	b, authB := f.login("Bob", nil)
	qt, _ := f.login("Qt", nil)
	for _, c := range []*client{a, b, qt} {
		c.unread()
	}
	if j := join(a, "dev"); num(t, j, "count") != 1 {
		t.Fatalf("RoomJoined = %v", j)
	}
	// Like Connected, a room's Presence goes to the newcomer too.
	a.expectExactly("Presence")
	j := join(b, "dev")
	if num(t, j, "count") != 2 || !slices.Equal(names(j["users"]), []string{"Alice", "Bob"}) || j["more"] != false {
		t.Fatalf("Bob's RoomJoined = %v", j)
	}
	b.expectExactly("Presence")
	p := a.expectExactly("Presence")[0]
	room := firstRoom(p)
	if room["roomId"] != "dev" || num(t, room, "count") != 2 || !slices.Equal(names(room["joined"]), []string{"Bob"}) {
		t.Fatalf("Presence = %v", p)
	}

	a.send(map[string]any{"text": "in dev", "roomId": "dev"})
	for _, c := range []*client{a, b} {
		m := c.expectExactly("PublicMessage")[0]
		if m["roomId"] != "dev" || m["text"] != "in dev" || num(t, m, "seq") != 1 || num(t, m, "ts") == 0 {
			t.Fatalf("%s: dev message = %v", c.name, m)
		}
	}
	// The Qt client is not in dev: the lobby marker is all it sees.
	a.send(map[string]any{"text": "marker"})
	if m := qt.expectExactly("PublicMessage")[0]; m["text"] != "marker" || m["roomId"] != "lobby" {
		t.Fatalf("Qt client got %v, want only the lobby marker", m)
	}
	a.unread()
	b.unread()

	a.send(map[string]any{"action": "Rooms"})
	rooms := a.expectExactly("Rooms")[0]["rooms"].([]any)
	if len(rooms) != 2 || rooms[0].(map[string]any)["roomId"] != "lobby" || num(t, rooms[0].(map[string]any), "count") != 3 ||
		rooms[1].(map[string]any)["roomId"] != "dev" || num(t, rooms[1].(map[string]any), "count") != 2 {
		t.Fatalf("Rooms = %v", rooms)
	}

	b.send(map[string]any{"action": "LeaveRoom", "roomId": "dev"})
	if m := b.expectExactly("RoomLeft")[0]; m["roomId"] != "dev" {
		t.Fatalf("RoomLeft = %v", m)
	}
	p = a.expectExactly("Presence")[0]
	room = firstRoom(p)
	if left := room["left"].([]any); room["roomId"] != "dev" || num(t, room, "count") != 1 || len(left) != 1 || left[0] != float64(num(t, authB, "userId")) {
		t.Fatalf("Presence after leave = %v", p)
	}
	b.send(map[string]any{"text": "not a member", "roomId": "dev"})
	b.expectError("not_in_room")
	a.expectExactly()
}

// TestRoomErrors: each refused room request gets one Error with its code; a member
// leaving a full room makes space for another.
func TestRoomErrors(t *testing.T) {
	f := newFixture(t, testConfig(func(c *Config) { c.MaxRoomsPerUser, c.MaxRoomMembers = 1, 2 }))
	a, _ := f.login("Alice", nil)
	b, _ := f.login("Bob", nil)
	c, _ := f.login("Carol", nil)
	join(a, "one")
	join(b, "one")
	for _, cl := range []*client{a, b, c} {
		cl.unread()
	}
	tests := []struct {
		who   *client
		frame map[string]any
		code  string
	}{
		{a, map[string]any{"action": "JoinRoom", "roomId": "two"}, "too_many_rooms"},
		{c, map[string]any{"action": "JoinRoom", "roomId": "one"}, "room_full"},
		{c, map[string]any{"action": "JoinRoom", "roomId": "no spaces"}, "bad_room_id"},
		{c, map[string]any{"action": "JoinRoom", "roomId": "@1"}, "bad_room_id"},
		{c, map[string]any{"action": "JoinRoom", "roomId": strings.Repeat("x", 65)}, "bad_room_id"},
		{c, map[string]any{"action": "JoinRoom"}, "bad_room_id"},
		{c, map[string]any{"action": "LeaveRoom", "roomId": "lobby"}, "default_room"},
		{c, map[string]any{"action": "LeaveRoom", "roomId": "one"}, "not_in_room"},
		{c, map[string]any{"action": "History", "roomId": "one"}, "not_in_room"},
		{c, map[string]any{"action": "Users", "roomId": "one"}, "not_in_room"},
		{c, map[string]any{"text": "x", "roomId": "one"}, "not_in_room"},
		{c, map[string]any{"text": "x", "clientMsgId": string(make([]byte, 65))}, "bad_client_msg_id"},
		{c, map[string]any{"action": "Ack", "roomId": "one", "seq": 1}, "not_in_room"},
		{c, map[string]any{"action": "Ack", "seq": -1}, "bad_field"},
	}
	for _, tt := range tests {
		tt.who.send(tt.frame)
		msgs := tt.who.unread()
		if len(msgs) != 1 || msgs[0]["action"] != "Error" || msgs[0]["code"] != tt.code || msgs[0]["message"] == "" {
			t.Errorf("%v: got %v, want one Error %s", tt.frame, msgs, tt.code)
		}
	}
	for _, cl := range []*client{a, b} {
		cl.expectExactly() // the refusals went to the sender only
	}
	// A member leaving makes room for another.
	b.send(map[string]any{"action": "LeaveRoom", "roomId": "one"})
	b.expect("RoomLeft")
	if j := join(c, "one"); num(t, j, "count") != 2 {
		t.Fatalf("Carol's RoomJoined after Bob left = %v", j)
	}
}

// TestCompactPresenceAndUsersPaging: a presence=compact client gets batched Presence
// per tick instead of Connected/Disconnected, counts only above
// --presence-full-limit (plus the users it asked about), and pages members with Users.
func TestCompactPresenceAndUsersPaging(t *testing.T) {
	f := newFixture(t, testConfig(func(c *Config) { c.PresenceFullLimit = 3 }))
	tick := func() { f.h.Do(f.ch.flushPresence) }
	watcher, auth := f.login("Watcher", optIn())
	if num(t, auth, "count") != 1 || auth["roomId"] != "lobby" || auth["resumeToken"] == "" || auth["resumeToken"] == nil || auth["resumed"] != false {
		t.Fatalf("compact Authorized = %v", auth)
	}
	tick()
	watcher.expectExactly("Presence") // its own join
	qt0, authQ := f.login("Qt0", nil)
	qt0ID := num(t, authQ, "userId")
	f.login("Qt1", nil)
	watcher.expectExactly() // no Connected, nothing before the tick
	tick()
	// The two joins come in one Presence.
	p := watcher.expectExactly("Presence")[0]
	r := firstRoom(p)
	if joined := names(r["joined"]); r["roomId"] != "lobby" || num(t, r, "count") != 3 || len(joined) != 2 || !slices.Contains(joined, "Qt0") || !slices.Contains(joined, "Qt1") {
		t.Fatalf("Presence of two joins = %v", p)
	}
	// Above --presence-full-limit (3) only the count comes.
	f.login("Qt2", nil)
	tick()
	p = watcher.expectExactly("Presence")[0]
	if r := firstRoom(p); num(t, r, "count") != 4 || r["joined"] != nil {
		t.Fatalf("Presence above the full limit = %v", p)
	}
	watcher.send(map[string]any{"action": "Users", "offset": 1, "limit": 2})
	u := watcher.expectExactly("Users")[0]
	if num(t, u, "count") != 4 || num(t, u, "offset") != 1 || !slices.Equal(names(u["users"]), []string{"Qt0", "Qt1"}) || u["more"] != true {
		t.Fatalf("Users page = %v", u)
	}
	// Asking about a user by id brings its changes back, in a room this big too.
	watcher.send(map[string]any{"action": "Users", "userIds": []uint64{qt0ID, 999}})
	if u := watcher.expectExactly("Users")[0]; !slices.Equal(names(u["users"]), []string{"Qt0"}) {
		t.Fatalf("Users by id = %v", u)
	}
	// Changes of users it did not ask about stay out.
	f.login("Qt3", nil)
	tick()
	p = watcher.expectExactly("Presence")[0]
	if r := firstRoom(p); num(t, r, "count") != 5 || len(names(r["joined"])) != 0 {
		t.Fatalf("Presence of an unwatched join in a big room = %v", p)
	}
	// The room stays above the limit (5 to 4), so only the watch brings the leave.
	qt0.Leave(engine.CloseAbnormal)
	watcher.expectExactly()
	tick()
	p = watcher.expectExactly("Presence")[0]
	r = firstRoom(p)
	left, _ := r["left"].([]any)
	if num(t, r, "count") != 4 || len(left) != 1 || left[0] != float64(qt0ID) || len(names(r["joined"])) != 0 {
		t.Fatalf("Presence of a watched user in a big room = %v", p)
	}
	watcher.send(`{"action":"Users","userIds":"x"}`)
	watcher.expectError("bad_field")
}
