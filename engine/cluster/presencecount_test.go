package cluster

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/chatd/chatd/engine/chat"
)

// TestRemoteCountsAUserIDOnce: a userId that is a member of a room on two other
// nodes, or on one of them and here, counts once, through every way the table
// changes (ticks, snapshots, a node's loss, local joins and leaves); each node's own
// count stays what that node has, for the Users pages' layout.
func TestRemoteCountsAUserIDOnce(t *testing.T) {
	r := NewRemote()
	local := map[uint64]bool{}
	r.isLocal = func(room string, id uint64) bool { return room == "lobby" && local[id] }
	r.ApplySnapshot(&Snapshot{Node: "b", Boot: 1, Seq: 1, Rooms: map[string][]Member{"lobby": {member(1), member(2)}}})
	r.ApplySnapshot(&Snapshot{Node: "c", Boot: 1, Seq: 1, Rooms: map[string][]Member{"lobby": {member(2), member(3)}}})
	check := func(step string, want int) {
		t.Helper()
		if n := r.Count("lobby"); n != want {
			t.Fatalf("%s: remote count %d, want %d", step, n, want)
		}
	}
	check("2 on b and c", 3)
	if _, err := r.ApplyTick(&Tick{Node: "c", Boot: 1, Seq: 2, Rooms: []RoomChange{{Room: "lobby", Joined: []Member{member(1)}}}}); err != nil {
		t.Fatal(err)
	}
	check("1 on c too", 3)
	local[3] = true
	if !r.LocalMember("lobby", 3, true) {
		t.Fatal("a local join of 3, which c has: LocalMember says no other node has it")
	}
	check("3 here too", 2)
	r.ApplySnapshot(&Snapshot{Node: "c", Boot: 2, Seq: 0, Rooms: map[string][]Member{"lobby": {member(3), member(4)}}})
	check("c restarted with 3 and 4", 3) // 1, 2 on b; 4 on c; 3 is counted here
	want := []chat.NodeCount{{Node: "b", Count: 2}, {Node: "c", Count: 2}}
	if got := r.NodeCounts("lobby"); !reflect.DeepEqual(got, want) {
		t.Fatalf("node counts %+v, want %+v", got, want)
	}
	local[3] = false
	r.LocalMember("lobby", 3, false)
	check("3 left here", 4)
	r.NodeGone("c")
	check("c died", 2)
	if _, err := r.ApplyTick(&Tick{Node: "b", Boot: 1, Seq: 2, Rooms: []RoomChange{{Room: "lobby", Left: []uint64{1, 2}}}}); err != nil {
		t.Fatal(err)
	}
	check("b's left", 0)
	if len(r.extra) != 0 {
		t.Fatalf("extra copies left over: %v", r.extra)
	}
}

// TestLinkListsAUserIDOnce: the remote part of a small room's page leaves out a
// userId that is a member here (the local part lists it) and lists one on two
// other nodes once; a local join or leave of such a userId renews the page.
func TestLinkListsAUserIDOnce(t *testing.T) {
	l, _ := ownerLink()
	local := map[uint64]bool{}
	l.remote.isLocal = func(_ string, id uint64) bool { return local[id] }
	for _, node := range []string{"b", "c"} {
		l.needSnapshot(node)
		<-l.ask
		l.onSnapshot(node, &Snapshot{Node: node, Boot: 1, Seq: 1, Rooms: map[string][]Member{
			"lobby": {{UserID: 2, Fields: wrapFields(fieldsOf(2))}, {UserID: 3, Fields: wrapFields(fieldsOf(3))}}}})
	}
	if ms := l.RemoteMembers("lobby"); !reflect.DeepEqual(ms, []chat.RemoteMember{remoteMember(2), remoteMember(3)}) {
		t.Fatalf("RemoteMembers %+v, want 2 and 3 once each", ms)
	}
	local[2] = true
	l.LocalMember("lobby", 2, true)
	if ms := l.RemoteMembers("lobby"); !reflect.DeepEqual(ms, []chat.RemoteMember{remoteMember(3)}) || l.RemoteCount("lobby") != 1 {
		t.Fatalf("RemoteMembers %+v (count %d) with 2 here, want 3 only", ms, l.RemoteCount("lobby"))
	}
}

// TestSnapshotsCarryStatuses: a status the chat hands the link is in its snapshots
// until its user logs out, and the node that applies a snapshot hands the chat the
// statuses of every user of its default room (none: the default).
func TestSnapshotsCarryStatuses(t *testing.T) {
	l, _ := ownerLink()
	l.statusQueue, l.statuses = make(map[uint64]json.RawMessage), make(map[uint64]json.RawMessage)
	l.wake = make(chan struct{}, 1)
	l.PublishStatus(1, []byte(`,"status":"away","statusText":"lunch"`))
	l.PublishStatus(2, []byte(`,"status":"busy","statusText":""`))
	l.PublishStatus(2, nil) // logged out
	l.takeStatuses()
	s := l.snapshot()
	if want := map[uint64]json.RawMessage{1: json.RawMessage(`{"status":"away","statusText":"lunch"}`)}; !reflect.DeepEqual(s.Statuses, want) {
		t.Fatalf("snapshot statuses %v, want %v", s.Statuses, want)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.Node, back.Rooms = "b", map[string][]Member{"lobby": {member(1), member(3)}}

	other, _ := ownerLink()
	var got []chat.RemoteStatus
	other.hooks = chat.PresenceHooks{DefaultRoom: "lobby", Statuses: func(s []chat.RemoteStatus) { got = append(got, s...) }}
	other.needSnapshot("b")
	<-other.ask
	other.onSnapshot("b", &back)
	want := []chat.RemoteStatus{{UserID: 1, Fields: []byte(`,"status":"away","statusText":"lunch"`)}, {UserID: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses handed to the chat %+v, want %+v", got, want)
	}
}

// TestUsersAsksAreBounded: past maxUsersAsks pages waiting for the askers, a page is
// refused at once (the chat answers busy), never queued.
func TestUsersAsksAreBounded(t *testing.T) {
	l, _ := ownerLink()
	l.pages = &usersPages{asks: make(chan usersAsk, maxUsersAsks)} // no asker runs
	for i := range maxUsersAsks {
		if !l.AskUsersPages("lobby", []chat.PageSpan{{Node: "b", Limit: 1}}, func([]chat.NodePage) {}) {
			t.Fatalf("ask %d refused, want %d queued", i, maxUsersAsks)
		}
	}
	if l.AskUsersPages("lobby", []chat.PageSpan{{Node: "b", Limit: 1}}, func([]chat.NodePage) {}) {
		t.Fatal("an ask past the bound was queued")
	}
}

// TestUsersAnswerOfAStuckOwnerIsBusy: a node whose owner does not read its part in
// time answers busy (the asker's page ends there) rather than holding the request;
// a request without a room's range lists nothing and never reaches the owner.
func TestUsersAnswerOfAStuckOwnerIsBusy(t *testing.T) {
	l, _ := ownerLink()
	l.ctx = context.Background()
	posted := 0
	l.post = func(func()) { posted++ } // the owner never runs it
	if a := l.answerUsers([]byte(`{"r":"lobby","o":0,"n":5}`)); !a.Busy || len(a.Members) != 0 {
		t.Fatalf("answer of a stuck owner: %+v, want busy", a)
	}
	if a := l.answerUsers([]byte(`{"r":"lobby","o":-1,"n":5}`)); a.Busy || len(a.Members) != 0 || posted != 1 {
		t.Fatalf("a bad range: %+v (posted %d), want an empty answer without the owner", a, posted)
	}
}
