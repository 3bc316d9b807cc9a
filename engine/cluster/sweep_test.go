package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/cluster/natstest"
)

// TestADeadNodesIdentitiesAreSwept: a node ("ghost") holds a seed user's name and a
// resumable identity's name and session, and dies (its liveness key goes). A live
// node frees the seed user's name at once and the resumable one's after the grace,
// with its session; the identity's session is offline meanwhile. A JWT account's
// name that the live node shares with the dead one stays, held by the live node.
func TestADeadNodesIdentitiesAreSwept(t *testing.T) {
	ns := natstest.Start(t)
	startNode(t, ns, "live", t.TempDir(), 1, func(c *Config) { c.ResumeGrace, c.NodeTTL = 2*time.Second, time.Second })
	ctx := testContext(t)
	kvs := openBuckets(t, ns, namesBucket, sessionsBucket, nodesBucket)
	names, sessions, nodes := kvs[0], kvs[1], kvs[2]
	if err := Beat(ctx, nodes, "ghost", nil); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]uint64{"seed user": 7, "resumable": 8} {
		if _, err := ReserveName(ctx, names, name, Holder{UserID: id, Node: "ghost"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, node := range []string{"live", "ghost"} {
		if _, err := ShareName(ctx, names, "jwt user", Holder{UserID: 9, Node: node}); err != nil {
			t.Fatal(err)
		}
	}
	s := &Session{UserID: 8, Name: "resumable", Secret: make([]byte, 16), Node: "ghost", Online: true, LastSeen: time.Now().UnixMilli()}
	if err := CreateSession(ctx, sessions, s); err != nil {
		t.Fatal(err)
	}
	if err := Leave(ctx, nodes, "ghost"); err != nil {
		t.Fatal(err)
	}

	held := func(name string) bool {
		_, ok, err := NameHolder(ctx, names, name)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	pollUntil(t, ctx, "the seed user's name freed", func() bool { return !held("seed user") })
	pollUntil(t, ctx, "the shared name left by the dead node", func() bool {
		h, ok, err := NameHolder(ctx, names, "jwt user")
		return err == nil && ok && string(h.value()) == "9 live"
	})
	if !held("resumable") {
		t.Fatal("a resumable identity's name was freed before its grace ended")
	}
	if got, ok, err := LoadSession(ctx, sessions, 8); err != nil || !ok || got.Online {
		t.Fatalf("the dead node's identity: %+v %v %v, want kept, offline", got, ok, err)
	}
	pollUntil(t, ctx, "the resumable name freed after the grace", func() bool { return !held("resumable") })
	if _, ok, err := LoadSession(ctx, sessions, 8); err != nil || ok {
		t.Fatalf("the session after the grace: found %v, %v; want forgotten", ok, err)
	}
}

// pollUntil polls cond every 50 ms until it holds or ctx ends.
func pollUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
