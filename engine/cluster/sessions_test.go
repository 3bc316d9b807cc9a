package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRacingResumesTakeASessionOnce: two nodes read one identity and take it over at
// once; one wins, the other gets ErrSessionMoved, and the session names the winner.
func TestRacingResumesTakeASessionOnce(t *testing.T) {
	kvs := kvBuckets(t, SessionsConfig(1), 2)
	ctx := testContext(t)
	s := &Session{UserID: 42, Name: "Dana", Secret: []byte("secret"), Node: "a", Online: false}
	if err := CreateSession(ctx, kvs[0], s); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	reads := make([]*Session, 2)
	for i, kv := range kvs { // both read before either writes
		var ok bool
		var err error
		if reads[i], ok, err = LoadSession(ctx, kv, 42); err != nil || !ok {
			t.Fatalf("load: %v %v", ok, err)
		}
	}
	var wg sync.WaitGroup
	for i, kv := range kvs {
		read := reads[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			read.Node, read.Online = fmt.Sprint("node", i), true
			errs[i] = TakeSession(ctx, kv, read)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won < 0:
			won = i
		case err == nil:
			t.Fatal("both nodes took the session")
		case !errors.Is(err, ErrSessionMoved):
			t.Fatalf("node %d: %v", i, err)
		}
	}
	got, _, err := LoadSession(ctx, kvs[0], 42)
	if err != nil || won < 0 || got.Node != fmt.Sprint("node", won) || !got.Online || got.Name != "Dana" || !bytes.Equal(got.Secret, []byte("secret")) {
		t.Fatalf("session after the race: %+v %v (winner %d)", got, err, won)
	}
	if err := ForgetSession(ctx, kvs[0], 42, s.Revision); err != nil { // read before the takeover
		t.Fatal(err)
	}
	if _, ok, _ := LoadSession(ctx, kvs[0], 42); !ok {
		t.Fatal("a stale forget deleted a session that resumed meanwhile")
	}
	if err := ForgetSession(ctx, kvs[0], 42, got.Revision); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := LoadSession(ctx, kvs[0], 42); ok {
		t.Fatal("the session outlived its forget")
	}
}

// TestEveryNodeGetsOneResumeKey: three nodes offer keys of their own at once; all
// end up with the same one, so a token from any node is valid on every node.
func TestEveryNodeGetsOneResumeKey(t *testing.T) {
	kvs := kvBuckets(t, MetaConfig(1), 3)
	ctx := testContext(t)
	keys := make([][]byte, len(kvs))
	var wg sync.WaitGroup
	for i, kv := range kvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if keys[i], err = SharedResumeKey(ctx, kv, []byte(fmt.Sprint("key of node ", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) || len(keys[0]) == 0 {
			t.Fatalf("node %d got %q, node 0 %q", i, keys[i], keys[0])
		}
	}
}

// TestANodeThatStopsBeatingIsSeenGone: a watcher sees a node arrive, sees it gone once
// it stops beating for the ttl (as after kill -9), and at once when it leaves cleanly.
func TestANodeThatStopsBeatingIsSeenGone(t *testing.T) {
	kvs := kvBuckets(t, NodesConfig(time.Second, 1), 2)
	ctx := testContext(t)
	events, err := WatchNodes(ctx, kvs[1])
	if err != nil {
		t.Fatal(err)
	}
	next := func(want NodeEvent) {
		t.Helper()
		select {
		case e := <-events:
			if e != want {
				t.Fatalf("event %+v, want %+v", e, want)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("no %+v", want)
		}
	}
	for _, node := range []string{"a", "b"} {
		if err := Beat(ctx, kvs[0], node, nil); err != nil {
			t.Fatal(err)
		}
		next(NodeEvent{Node: node, Alive: true})
	}
	if err := Leave(ctx, kvs[0], "b"); err != nil {
		t.Fatal(err)
	}
	next(NodeEvent{Node: "b", Alive: false, Left: true}) // a delete, not an expiry
	next(NodeEvent{Node: "a", Alive: false})             // a never beat again: its ttl ran out
}
