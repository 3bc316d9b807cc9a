package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/cluster/natstest"
)

// kvBucket starts a real nats-server and makes the bucket cfg on it; each of nodes
// gets its own client connection, as separate chatd nodes would.
func kvBuckets(t *testing.T, cfg jetstream.KeyValueConfig, nodes int) []jetstream.KeyValue {
	t.Helper()
	ns := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kvs := make([]jetstream.KeyValue, nodes)
	for i := range kvs {
		js, err := jetstream.New(ns.Connect(t))
		if err != nil {
			t.Fatal(err)
		}
		if kvs[i], err = js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
			t.Fatalf("bucket %s: %v", cfg.Bucket, err)
		}
	}
	return kvs
}

// openBuckets opens the buckets a node made, on a connection of the test's own, as
// another process reading them would.
func openBuckets(t *testing.T, ns *natstest.Server, names ...string) []jetstream.KeyValue {
	t.Helper()
	js, err := jetstream.New(ns.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	kvs := make([]jetstream.KeyValue, len(names))
	for i, name := range names {
		if kvs[i], err = js.KeyValue(testContext(t), name); err != nil {
			t.Fatalf("bucket %s: %v", name, err)
		}
	}
	return kvs
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRacingNodesReserveANameOnce: 8 nodes on their own connections ask for the same
// name at once; exactly one gets it, the others ErrNameTaken, and the holder is the
// winner. A retry by the holder is not a conflict.
func TestRacingNodesReserveANameOnce(t *testing.T) {
	kvs := kvBuckets(t, NamesConfig(1), 8)
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make([]error, len(kvs))
	for i, kv := range kvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = ReserveName(ctx, kv, "alice", Holder{UserID: uint64(100 + i), Node: "n"})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("nodes %d and %d both got the name", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, ErrNameTaken):
			t.Fatalf("node %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no node got the name")
	}
	h, held, err := NameHolder(ctx, kvs[0], "alice")
	if err != nil || !held || h.UserID != uint64(100+winner) {
		t.Fatalf("holder %+v %v %v, want %d", h, held, err, 100+winner)
	}
	if _, err := ReserveName(ctx, kvs[winner], "alice", Holder{UserID: uint64(100 + winner), Node: "n"}); err != nil {
		t.Fatalf("the holder's retry: %v", err)
	}
}

// TestFreedNameIsFreeButALateFreeTakesNothing: a freed name can be reserved again; a
// free at an old revision (a node that freed late) leaves the new holder alone.
func TestFreedNameIsFreeButALateFreeTakesNothing(t *testing.T) {
	kvs := kvBuckets(t, NamesConfig(1), 2)
	ctx := testContext(t)
	rev, err := ReserveName(ctx, kvs[0], "bob (2)", Holder{UserID: 7, Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if err := FreeName(ctx, kvs[0], "bob (2)", rev); err != nil {
		t.Fatalf("free: %v", err)
	}
	if _, err := ReserveName(ctx, kvs[1], "bob (2)", Holder{UserID: 8, Node: "n"}); err != nil {
		t.Fatalf("reserve after the free: %v", err)
	}
	if err := FreeName(ctx, kvs[0], "bob (2)", rev); err != nil {
		t.Fatalf("a late free: %v", err)
	}
	if h, held, err := NameHolder(ctx, kvs[0], "bob (2)"); err != nil || !held || h.UserID != 8 {
		t.Fatalf("after a late free: holder %+v %v %v, want 8", h, held, err)
	}
}

// TestRacingNodesGetDisjointUserIDBlocks: 4 nodes reserve 25 blocks each at once; no
// id is in two blocks, and every block lies above the floor.
func TestRacingNodesGetDisjointUserIDBlocks(t *testing.T) {
	kvs := kvBuckets(t, MetaConfig(1), 4)
	ctx := testContext(t)
	const blocks, size, floor = 25, 1024, 5000
	var mu sync.Mutex
	var got [][2]uint64
	var wg sync.WaitGroup
	for _, kv := range kvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range blocks {
				first, last, err := ReserveUserIDs(ctx, kv, size, floor)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, [2]uint64{first, last})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != len(kvs)*blocks {
		t.Fatalf("%d blocks, want %d", len(got), len(kvs)*blocks)
	}
	seen := make(map[uint64]bool, len(got))
	for _, b := range got {
		if b[1]-b[0]+1 != size || b[0] <= floor {
			t.Fatalf("block %v: want %d ids above %d", b, size, floor)
		}
		if seen[b[0]] {
			t.Fatalf("block %v handed out twice", b)
		}
		seen[b[0]] = true
	}
	top, _, err := readCounter(ctx, kvs[0])
	if err != nil || top != floor+uint64(len(got))*size {
		t.Fatalf("counter %d %v, want %d: blocks are contiguous", top, err, floor+uint64(len(got))*size)
	}
}

// TestNamesSurviveANATSRestart: the buckets are file-stored, so a nats-server restart
// on the same store keeps a reservation.
func TestNamesSurviveANATSRestart(t *testing.T) {
	ns := natstest.Start(t)
	ctx := testContext(t)
	open := func() jetstream.KeyValue {
		js, err := jetstream.New(ns.Connect(t))
		if err != nil {
			t.Fatal(err)
		}
		kv, err := js.CreateOrUpdateKeyValue(ctx, NamesConfig(1))
		if err != nil {
			t.Fatal(err)
		}
		return kv
	}
	if _, err := ReserveName(ctx, open(), "carol", Holder{UserID: 9, Node: "n"}); err != nil {
		t.Fatal(err)
	}
	ns.Restart(t)
	if _, err := ReserveName(ctx, open(), "carol", Holder{UserID: 10, Node: "n"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("after a restart: %v, want ErrNameTaken", err)
	}
}

// TestSharedNameIsFreedByItsLastNode: a JWT account online on two nodes holds its
// display name from both (ShareName); the first node's leave keeps it from other
// users, the second's frees it, and a leave by a node that does not hold it, or for
// another user, takes nothing.
func TestSharedNameIsFreedByItsLastNode(t *testing.T) {
	kvs := kvBuckets(t, NamesConfig(1), 2)
	ctx := testContext(t)
	onA, onB := Holder{UserID: 7, Node: "a"}, Holder{UserID: 7, Node: "b"}
	for i, h := range []Holder{onA, onB, onB} { // the last one is a retry
		if _, err := ShareName(ctx, kvs[i%2], "omar", h); err != nil {
			t.Fatalf("share %d: %v", i, err)
		}
	}
	if _, err := ShareName(ctx, kvs[0], "omar", Holder{UserID: 8, Node: "a"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("another user shares a held name: %v, want ErrNameTaken", err)
	}
	heldBy := func(want string) {
		t.Helper()
		h, held, err := NameHolder(ctx, kvs[0], "omar")
		if err != nil || held != (want != "") || held && (h.UserID != 7 || string(h.value()) != want) {
			t.Fatalf("holder %q %v %v, want %q", h.value(), held, err, want)
		}
	}
	heldBy("7 a b")
	for _, h := range []Holder{{UserID: 8, Node: "a"}, {UserID: 7, Node: "c"}} {
		if err := LeaveName(ctx, kvs[0], "omar", h); err != nil {
			t.Fatal(err)
		}
	}
	heldBy("7 a b")
	if err := LeaveName(ctx, kvs[0], "omar", onA); err != nil {
		t.Fatal(err)
	}
	heldBy("7 b")
	if _, err := ReserveName(ctx, kvs[1], "omar", Holder{UserID: 8, Node: "a"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("a nickname takes the name while the account is on b: %v", err)
	}
	if err := LeaveName(ctx, kvs[1], "omar", onB); err != nil {
		t.Fatal(err)
	}
	heldBy("")
	if _, err := ReserveName(ctx, kvs[1], "omar", Holder{UserID: 8, Node: "a"}); err != nil {
		t.Fatalf("the name once both nodes left: %v", err)
	}
}

func TestHolderValueRoundTrips(t *testing.T) {
	for _, v := range []string{"7 a", "7 a b c"} {
		h, err := parseHolder([]byte(v))
		if err != nil || string(h.value()) != v {
			t.Errorf("parseHolder(%q) = %+v, %v; value %q", v, h, err, h.value())
		}
	}
	if h, err := parseHolder([]byte("7")); err != nil || h.UserID != 7 || h.Node != "" {
		t.Errorf("a bare userId: %+v, %v", h, err)
	}
	if _, err := parseHolder([]byte("")); err == nil {
		t.Error("an empty holder parsed")
	}
}

// TestAShareAfterALeaveKeepsTheName: a JWT account's last device here leaves (its
// leave is queued) and a new one logs in at once (ShareName): the name stays held
// from this node whether the leave was still queued, being made or made already.
func TestAShareAfterALeaveKeepsTheName(t *testing.T) {
	ns := natstest.Start(t)
	n := startNode(t, ns, "a", t.TempDir(), 1)
	ctx := testContext(t)
	const rounds = 40
	for i := range rounds {
		key := fmt.Sprintf("omar %d", i)
		if _, taken, err := n.j.ShareName(ctx, key, 7); err != nil || taken {
			t.Fatalf("share %s: %v %v", key, taken, err)
		}
		n.j.LeaveName(key, 7)
		if _, taken, err := n.j.ShareName(ctx, key, 7); err != nil || taken {
			t.Fatalf("share %s again: %v %v", key, taken, err)
		}
	}
	// The writer makes frees in order: once this one is made, every leave above is.
	rev, _, err := n.j.ReserveName(ctx, "marker", 8)
	if err != nil {
		t.Fatal(err)
	}
	n.j.FreeName("marker", rev)
	pollUntil(t, ctx, "the marker freed", func() bool {
		_, held, err := NameHolder(ctx, n.j.ids.names, "marker")
		return err == nil && !held
	})
	for i := range rounds {
		key := fmt.Sprintf("omar %d", i)
		if h, held, err := NameHolder(ctx, n.j.ids.names, key); err != nil || !held || !h.on("a") {
			t.Errorf("%s after a leave and a share: holder %q %v %v, want held from a", key, h.value(), held, err)
		}
	}
}
