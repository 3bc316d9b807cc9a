package cluster

import (
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"runtime"
	"strconv"
	"testing"

	"github.com/chatd/chatd/engine/chat"
	"github.com/chatd/chatd/protocol"
)

// The presence link's own logic, without NATS (the two-node tests in engine/server
// run it on a real nats-server): ticks held while a snapshot is asked for, departed
// members' fields, node loss and leave, and the resync when the tick queue overflows.

// ownerLink is a link whose owner-side state is ready and whose applied changes are
// collected; its asker is the test, reading ask.
func ownerLink() (*presenceLink, *[][]chat.RoomPresence) {
	var got [][]chat.RoomPresence
	l := &presenceLink{node: "me", remote: NewRemote(), sorted: make(map[string][]chat.RemoteMember),
		asking: make(map[string][]*Tick), ask: make(chan string, maxAsking), local: make(map[string]map[uint64]json.RawMessage),
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	l.apply = func(c []chat.RoomPresence) { got = append(got, c) }
	return l, &got
}

func fieldsOf(id uint64) []byte { return []byte(`"userId":` + string(rune('0'+id))) }

func remoteMember(id uint64) chat.RemoteMember {
	return chat.RemoteMember{UserID: id, Fields: fieldsOf(id)}
}

func joinTick(node string, seq uint64, ids ...uint64) *Tick {
	rc := RoomChange{Room: "lobby"}
	for _, id := range ids {
		rc.Joined = append(rc.Joined, Member{UserID: id, Fields: wrapFields(fieldsOf(id))})
	}
	return &Tick{Node: node, Boot: 1, Seq: seq, Rooms: []RoomChange{rc}}
}

func TestLinkHoldsTicksWhileItsSnapshotComes(t *testing.T) {
	l, got := ownerLink()
	l.onTick(joinTick("b", 5, 1)) // b is new here: its snapshot is asked for
	l.onTick(joinTick("b", 6, 2)) // held meanwhile
	if node := <-l.ask; node != "b" || len(l.ask) != 0 {
		t.Fatalf("asked %q (and %d more), want b once", node, len(l.ask))
	}
	l.onSnapshot("b", &Snapshot{Node: "b", Boot: 1, Seq: 5, Rooms: map[string][]Member{
		"lobby": {{UserID: 1, Fields: wrapFields(fieldsOf(1))}}}})
	l.onTick(&Tick{Node: "b", Boot: 1, Seq: 7, Rooms: []RoomChange{{Room: "lobby", Left: []uint64{1}}}})
	l.onNode(NodeEvent{Node: "b"}) // its key expired
	want := [][]chat.RoomPresence{
		{{Room: "lobby", Joined: []chat.RemoteMember{remoteMember(1)}}}, // the snapshot
		{{Room: "lobby", Joined: []chat.RemoteMember{remoteMember(2)}}}, // tick 6, held; tick 5 was in the snapshot
		{{Room: "lobby", Left: []chat.RemoteMember{remoteMember(1)}}},   // with its fields, for Disconnected
		{{Room: "lobby", Lost: []chat.RemoteMember{remoteMember(2)}}},   // ConnectionLost
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("applied\n%+v\nwant\n%+v", *got, want)
	}
	if n := l.RemoteCount("lobby"); n != 0 {
		t.Fatalf("lobby's remote count %d after b died, want 0", n)
	}
}

func TestLinkNodeThatLeftHasItsUsersLeave(t *testing.T) {
	l, got := ownerLink()
	l.onSnapshot("c", &Snapshot{Node: "c"}) // not asked for: ignored
	l.needSnapshot("c")
	<-l.ask
	l.onSnapshot("c", &Snapshot{Node: "c", Boot: 1, Seq: 1, Rooms: map[string][]Member{
		"lobby": {{UserID: 3, Fields: wrapFields(fieldsOf(3))}, {UserID: 2, Fields: wrapFields(fieldsOf(2))}}}})
	if ms := l.RemoteMembers("lobby"); !reflect.DeepEqual(ms, []chat.RemoteMember{remoteMember(2), remoteMember(3)}) {
		t.Fatalf("RemoteMembers %+v, want 2 and 3 by userId", ms)
	}
	l.onNode(NodeEvent{Node: "c", Left: true})
	last := (*got)[len(*got)-1]
	if want := []chat.RoomPresence{{Room: "lobby", Left: []chat.RemoteMember{remoteMember(2), remoteMember(3)}}}; !reflect.DeepEqual(last, want) {
		t.Fatalf("c left: %+v, want %+v", last, want)
	}
	if ms := l.RemoteMembers("lobby"); len(ms) != 0 {
		t.Fatalf("RemoteMembers after c left: %+v", ms)
	}
}

func TestLinkResyncsWhenItsQueueOverflows(t *testing.T) {
	l, _ := ownerLink()
	l.wake = make(chan struct{}, 1)
	l.seq = 3
	l.members = maxQueuedMembers // the publisher is far behind
	all := []chat.RoomPresence{{Room: "lobby", Count: 2, Joined: []chat.RemoteMember{remoteMember(1), remoteMember(2)}}}
	l.PublishTick([]chat.RoomPresence{{Room: "lobby", Count: 2, Joined: []chat.RemoteMember{remoteMember(2)}}},
		func() []chat.RoomPresence { return all })
	if len(l.queue) != 1 || !l.queue[0].full || !reflect.DeepEqual(l.queue[0].rooms, all) || l.members != 0 {
		t.Fatalf("queue after the overflow: %+v, want the whole membership once", l.queue)
	}
	l.local["gone"] = map[uint64]json.RawMessage{9: wrapFields(fieldsOf(9))}
	l.publish(l.queue[0]) // not sent: the others see the seq skipped and ask
	s := l.snapshot()
	if s.Seq != 5 || len(s.Rooms) != 1 || len(s.Rooms["lobby"]) != 2 {
		t.Fatalf("snapshot after the resync: %+v, want seq 5 (4 skipped) and the lobby's 2", s)
	}
}

// BenchmarkRemoteMemberMemory reports the heap a remote member costs a node: its
// entry in the Remote table, its fields as they came (a realistic name and color),
// and its place in RemoteMembers' sorted page cache (the snapshot it came in is
// dropped before the count).
func BenchmarkRemoteMemberMemory(b *testing.B) {
	const members = 100_000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l, _ := ownerLink()
		s := &Snapshot{Node: "b", Boot: 1, Seq: 1, Rooms: map[string][]Member{}}
		for id := range uint64(members) {
			f := protocol.AppendUserFields(nil, protocol.User{ID: 1_000_000 + id, Name: "Пользователь " + strconv.FormatUint(id, 10), Gender: 1, Color: "#16a085"})
			s.Rooms["lobby"] = append(s.Rooms["lobby"], Member{UserID: 1_000_000 + id, Fields: wrapFields(f)})
		}
		l.needSnapshot("b")
		<-l.ask
		l.onSnapshot("b", s)
		s = nil
		l.RemoteMembers("lobby")
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/members, "B/member")
		runtime.KeepAlive(l)
	}
}
