package chat

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/chatd/chatd/protocol"
)

// TestDirectoryStaysSortedThroughJoinsAndLeaves: after every step of a random run of
// joins, leaves and drops, the directory holds exactly the rooms not dropped, those
// with members busiest first and the empty ones (waiting for their presence tick, when
// they may also be joined again) after them; each room knows its place, and the block
// bounds count the rooms above them.
func TestDirectoryStaysSortedThroughJoinsAndLeaves(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var d directory
	var rooms []*room // not dropped, in no order
	member := &user{}
	for step := range 5000 {
		switch op := rng.IntN(10); {
		case op == 0 || len(rooms) == 0: // a new room with its first member
			r := &room{id: fmt.Sprintf("r%d", step)}
			d.add(r)
			r.members = append(r.members, member)
			d.grew(r)
			rooms = append(rooms, r)
		case op < 6: // a join, maybe of an empty room
			r := rooms[rng.IntN(len(rooms))]
			r.members = append(r.members, member)
			d.grew(r)
		case op < 9: // a leave
			if r := rooms[rng.IntN(len(rooms))]; len(r.members) > 0 {
				r.members = r.members[:len(r.members)-1]
				d.shrank(r)
			}
		default: // the presence tick drops a room that emptied
			if i := rng.IntN(len(rooms)); len(rooms[i].members) == 0 {
				d.drop(rooms[i])
				rooms = append(rooms[:i], rooms[i+1:]...)
			}
		}
		checkDirectory(t, step, &d, rooms)
	}
}

func checkDirectory(t *testing.T, step int, d *directory, rooms []*room) {
	t.Helper()
	listed := 0
	for _, r := range rooms {
		if len(r.members) > 0 {
			listed++
		}
	}
	if len(d.order) != len(rooms) || d.listed() != listed {
		t.Fatalf("step %d: %d rooms in order, %d listed, want %d and %d", step, len(d.order), d.listed(), len(rooms), listed)
	}
	for i, r := range d.order {
		if r.rank != i {
			t.Fatalf("step %d: room %s at %d has rank %d", step, r.id, i, r.rank)
		}
		if i > 0 && len(d.order[i-1].members) < len(r.members) {
			t.Fatalf("step %d: %s (%d) after %s (%d)", step, r.id, len(r.members), d.order[i-1].id, len(d.order[i-1].members))
		}
	}
	for c := range len(d.above) {
		above := 0
		for _, r := range d.order {
			if len(r.members) > c {
				above++
			}
		}
		if d.above[c] != above {
			t.Fatalf("step %d: above[%d] = %d, want %d", step, c, d.above[c], above)
		}
	}
}

// TestRoomsAnswersInBoundedPages: plain Rooms gets the first 100 rooms (lobby first,
// busiest first) with offset, total and more; offset and limit page through every
// room exactly once with its count; a limit past 1000 is cut to 1000 and an offset
// past the end gets an empty page.
func TestRoomsAnswersInBoundedPages(t *testing.T) {
	const n = 1100
	f := newFixture(t, testConfig(fast, func(c *Config) { c.MaxRoomsPerUser = n }))
	a, _ := f.login("Alice", nil)
	b, _ := f.login("Bob", nil)
	c, _ := f.login("Carol", nil)
	want := map[string]int{"lobby": 3}
	for i := range n {
		id := fmt.Sprintf("r%04d", i)
		a.send(map[string]any{"action": "JoinRoom", "roomId": id})
		want[id] = 1
		if i < 100 {
			b.send(map[string]any{"action": "JoinRoom", "roomId": id})
			want[id]++
		}
		if i < 10 {
			c.send(map[string]any{"action": "JoinRoom", "roomId": id})
			want[id]++
		}
	}
	for i := 50; i < 60; i++ { // counts that go down as well as up
		b.send(map[string]any{"action": "LeaveRoom", "roomId": fmt.Sprintf("r%04d", i)})
		want[fmt.Sprintf("r%04d", i)]--
	}
	a.send(map[string]any{"action": "LeaveRoom", "roomId": "r1099"}) // its last member: gone
	delete(want, "r1099")
	a.unread()

	rooms := func(req map[string]any) (list []any, m map[string]any) {
		t.Helper()
		a.send(req)
		m = a.expectExactly("Rooms")[0]
		list, _ = m["rooms"].([]any)
		return list, m
	}
	first, m := rooms(map[string]any{"action": "Rooms"})
	if len(first) != roomsPage || num(t, m, "offset") != 0 || num(t, m, "total") != uint64(len(want)) || m["more"] != true {
		t.Fatalf("plain Rooms: %d rooms, offset %v, total %v, more %v", len(first), m["offset"], m["total"], m["more"])
	}
	var all []any
	for offset := 0; offset < len(want); offset += maxRoomsPage {
		page, m := rooms(map[string]any{"action": "Rooms", "offset": offset, "limit": maxRoomsPage})
		if num(t, m, "offset") != uint64(offset) || m["more"] != (offset+len(page) < len(want)) {
			t.Fatalf("page at %d: offset %v, more %v", offset, m["offset"], m["more"])
		}
		all = append(all, page...)
	}
	checkRoomList(t, all, want)
	if got := all[:roomsPage]; fmt.Sprint(got) != fmt.Sprint(first) {
		t.Fatalf("plain Rooms is not the first page: %v", first)
	}
	if page, _ := rooms(map[string]any{"action": "Rooms", "limit": 5000}); len(page) != maxRoomsPage {
		t.Fatalf("limit 5000 gave %d rooms, want the cap %d", len(page), maxRoomsPage)
	}
	if page, m := rooms(map[string]any{"action": "Rooms", "offset": 5000}); len(page) != 0 || num(t, m, "offset") != uint64(len(want)) || m["more"] != false {
		t.Fatalf("offset past the end: %v", m)
	}
}

// checkRoomList: list has every room of want once, with its count, lobby first and
// the others busiest first.
func checkRoomList(t *testing.T, list []any, want map[string]int) {
	t.Helper()
	if len(list) != len(want) {
		t.Fatalf("%d rooms listed, want %d", len(list), len(want))
	}
	seen := map[string]bool{}
	for i, e := range list {
		r := e.(map[string]any)
		id, count := r["roomId"].(string), int(num(t, r, "count"))
		if seen[id] || want[id] != count {
			t.Fatalf("room %d: %s with %d (seen before: %v), want %d", i, id, count, seen[id], want[id])
		}
		seen[id] = true
		if i == 0 && id != "lobby" {
			t.Fatalf("first room is %s, want lobby", id)
		}
		if prev := list[max(i-1, 1)].(map[string]any); i > 1 && int(num(t, prev, "count")) < count {
			t.Fatalf("room %d: %s (%d) after %v", i, id, count, prev)
		}
	}
}

// BenchmarkRoomsPage is the owner's cost of one Rooms answer with 10,000 rooms: the
// page taken from the directory and encoded, for the largest and the default page.
func BenchmarkRoomsPage(b *testing.B) {
	const n = 10_000
	f := newFixture(b, testConfig(fast, func(c *Config) { c.MaxRoomsPerUser = n }))
	a, _ := f.login("Maker", nil)
	for i := range n {
		a.Send(fmt.Sprintf(`{"action":"JoinRoom","roomId":"room%d"}`, i))
		if i%100 == 99 {
			a.unread() // keep the peer's record small
		}
	}
	for _, limit := range []uint64{maxRoomsPage, 0} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			var buf []byte
			f.h.Do(func() {
				maker := userOf(a.Conn)
				for b.Loop() {
					buf = protocol.AppendRooms(buf[:0], f.ch.roomsPage(maker, 0, limit))
				}
			})
		})
	}
}
