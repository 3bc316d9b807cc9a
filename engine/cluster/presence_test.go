package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/cluster/natstest"
)

func member(id uint64) Member {
	return Member{UserID: id, Fields: json.RawMessage(`{"userId":` + string(rune('0'+id)) + `}`)}
}

// TestRemotePresence: ticks in sequence apply their net changes; a joined member
// already known is no change; a gap or a new boot needs a snapshot, whose difference
// to what was known is announced; a dead node's members are lost; counts add up.
func TestRemotePresence(t *testing.T) {
	r := NewRemote()
	if _, err := r.ApplyTick(&Tick{Node: "a", Boot: 1, Seq: 1}); !errors.Is(err, ErrNeedSnapshot) {
		t.Fatalf("a tick of an unknown node: %v, want ErrNeedSnapshot", err)
	}
	steps := []struct {
		name  string
		apply func() ([]Change, error)
		want  []Change
		count map[string]int
	}{
		{"snapshot of a", func() ([]Change, error) {
			return r.ApplySnapshot(&Snapshot{Node: "a", Boot: 1, Seq: 5, Rooms: map[string][]Member{"lobby": {member(1), member(2)}}}), nil
		}, []Change{{Room: "lobby", Joined: []Member{member(1), member(2)}}}, map[string]int{"lobby": 2}},
		{"tick 6: 3 joins dev, 2 leaves", func() ([]Change, error) {
			return r.ApplyTick(&Tick{Node: "a", Boot: 1, Seq: 6, Rooms: []RoomChange{
				{Room: "dev", Count: 1, Joined: []Member{member(3)}},
				{Room: "lobby", Count: 1, Left: []uint64{2}, Joined: []Member{member(1)}},
			}})
		}, []Change{{Room: "dev", Joined: []Member{member(3)}}, {Room: "lobby", Left: []uint64{2}}}, map[string]int{"lobby": 1, "dev": 1}},
		{"snapshot of b", func() ([]Change, error) {
			return r.ApplySnapshot(&Snapshot{Node: "b", Boot: 9, Seq: 1, Rooms: map[string][]Member{"lobby": {member(4)}}}), nil
		}, []Change{{Room: "lobby", Joined: []Member{member(4)}}}, map[string]int{"lobby": 2, "dev": 1}},
		{"a restarted: its snapshot replaces it", func() ([]Change, error) {
			return r.ApplySnapshot(&Snapshot{Node: "a", Boot: 2, Seq: 0, Rooms: map[string][]Member{"lobby": {member(1), member(5)}}}), nil
		}, []Change{{Room: "dev", Left: []uint64{3}}, {Room: "lobby", Joined: []Member{member(5)}}}, map[string]int{"lobby": 3, "dev": 0}},
		{"b dies", func() ([]Change, error) { return r.NodeGone("b"), nil },
			[]Change{{Room: "lobby", Lost: []uint64{4}}}, map[string]int{"lobby": 2}},
	}
	for _, s := range steps {
		got, err := s.apply()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !reflect.DeepEqual(got, s.want) {
			t.Fatalf("%s: changes %+v, want %+v", s.name, got, s.want)
		}
		for room, n := range s.count {
			if c := r.Count(room); c != n {
				t.Fatalf("%s: count of %s %d, want %d", s.name, room, c, n)
			}
		}
	}
	if _, err := r.ApplyTick(&Tick{Node: "a", Boot: 2, Seq: 2}); !errors.Is(err, ErrNeedSnapshot) {
		t.Fatalf("a gap (1 missed): %v, want ErrNeedSnapshot", err)
	}
	if f, ok := r.Fields("lobby", 5); !ok || string(f) != string(member(5).Fields) {
		t.Fatalf("fields of 5: %s %v", f, ok)
	}
}

// TestPresenceOverNATS: node a publishes ticks and serves snapshots on a real
// nats-server; node b applies them, asks for a snapshot when it missed ticks (it
// subscribed late), and ends with a's members.
func TestPresenceOverNATS(t *testing.T) {
	ns := natstest.Start(t)
	ncA, ncB := ns.Connect(t), ns.Connect(t)
	state := &Snapshot{Node: "a.1", Boot: 7, Seq: 1, Rooms: map[string][]Member{"lobby": {member(1)}}}
	var mu sync.Mutex
	if _, err := ServeSnapshots(ncA, "a.1", func() *Snapshot { mu.Lock(); defer mu.Unlock(); return state }); err != nil {
		t.Fatal(err)
	}
	ticks := make(chan *Tick, 16)
	if _, err := SubscribeTicks(ncB, "b", func(tk *Tick) { ticks <- tk }); err != nil {
		t.Fatal(err)
	}
	if err := ncB.Flush(); err != nil {
		t.Fatal(err)
	}
	remote := NewRemote()
	tick := &Tick{Node: "a.1", Boot: 7, Seq: 2, Rooms: []RoomChange{{Room: "lobby", Count: 2, Joined: []Member{member(2)}}}}
	mu.Lock()
	state = &Snapshot{Node: "a.1", Boot: 7, Seq: 2, Rooms: map[string][]Member{"lobby": {member(1), member(2)}}}
	mu.Unlock()
	if err := PublishTick(ncA, tick); err != nil {
		t.Fatal(err)
	}
	got := <-ticks
	if _, err := remote.ApplyTick(got); !errors.Is(err, ErrNeedSnapshot) {
		t.Fatalf("the first tick b hears: %v, want ErrNeedSnapshot", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := RequestSnapshot(ctx, ncB, "a.1")
	if err != nil {
		t.Fatal(err)
	}
	remote.ApplySnapshot(snap)
	if err := PublishTick(ncA, &Tick{Node: "a.1", Boot: 7, Seq: 3, Rooms: []RoomChange{{Room: "lobby", Count: 1, Left: []uint64{1}}}}); err != nil {
		t.Fatal(err)
	}
	changes, err := remote.ApplyTick(<-ticks)
	if err != nil || len(changes) != 1 || !reflect.DeepEqual(changes[0].Left, []uint64{1}) || remote.Count("lobby") != 1 {
		t.Fatalf("tick after the snapshot: %+v %v, count %d", changes, err, remote.Count("lobby"))
	}
}
