package cluster

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/store"
)

// TestAccountRoomsQueuedAtStopReachTheCluster: a change that comes while the rooms
// writer waits out its round (roomsRound) is written when the node stops, not left
// in its own SQLite only.
func TestAccountRoomsQueuedAtStopReachTheCluster(t *testing.T) {
	ns := natstest.Start(t)
	n := startNode(t, ns, "stopping", t.TempDir(), 1)
	shareAccounts(t, n, newIndex(t))
	ctx := testContext(t)
	kv := openBuckets(t, ns, accountsBucket)[0]
	rooms := func() []string {
		e, err := kv.Get(ctx, roomsKey(5))
		if err != nil {
			return nil
		}
		var rec roomsRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			t.Fatal(err)
		}
		return rec.Rooms
	}
	n.j.AddAccountRoom(store.AccountRoom{UserID: 5, Room: "first", In: true})
	pollUntil(t, ctx, "the first join in KV", func() bool { return slices.Contains(rooms(), "first") })
	n.j.AddAccountRoom(store.AccountRoom{UserID: 5, Room: "last", In: true}) // within the round's wait
	n.j.Close()
	if got := rooms(); !slices.Contains(got, "last") {
		t.Fatalf("rooms in KV after the stop: %q, want the last join too", got)
	}
}
