package cluster

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/accounts"
	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/store"
)

// gatedMirror is a real accounts index whose mirror is held before each token until
// the test opens the gate: a node whose mirror lags behind the cluster.
type gatedMirror struct {
	*accounts.Service
	open chan struct{}
}

func (g gatedMirror) ApplyToken(t store.AccountToken) {
	<-g.open
	g.Service.ApplyToken(t)
}

func newIndex(t *testing.T) *accounts.Service {
	t.Helper()
	svc, err := accounts.New(accounts.DefaultConfig(), nil, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

func shareAccounts(t *testing.T, n *node, m AccountsMirror) *Accounts {
	t.Helper()
	ctx := testContext(t)
	a, err := n.j.ShareAccounts(ctx, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AccountsReady(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

// laggingPair is two nodes a and b sharing accounts on one nats-server, b's mirror
// held until openGate (which the test's cleanup calls too, before the journals close:
// the mirror must not stay held); idxB is b's index.
func laggingPair(t *testing.T) (sa, sb *Accounts, idxB *accounts.Service, openGate func()) {
	t.Helper()
	ns := natstest.Start(t)
	na, nb := startNode(t, ns, "a", t.TempDir(), 1), startNode(t, ns, "b", t.TempDir(), 2)
	idxB = newIndex(t)
	gate := gatedMirror{Service: idxB, open: make(chan struct{})}
	var once sync.Once
	openGate = func() { once.Do(func() { close(gate.open) }) }
	t.Cleanup(openGate)
	return shareAccounts(t, na, newIndex(t)), shareAccounts(t, nb, gate), idxB, openGate
}

// TestTokenSyncWaitsForTheMirror: a token registered on node a is unknown to node b
// while b's mirror lags; SyncToken on b does not return before b's index holds it
// (its context runs out instead), and once the mirror goes on it returns with the
// token in b's index.
func TestTokenSyncWaitsForTheMirror(t *testing.T) {
	sa, sb, idxB, openGate := laggingPair(t)

	const tok = "a token of node a"
	h := sha256.Sum256([]byte(tok))
	ctx := testContext(t)
	err := sa.Register(ctx, store.Account{UserID: 100, Name: "Zed", Pass: []byte("x"), Created: 1},
		store.AccountToken{Hash: h[:], UserID: 100, Expires: time.Now().Add(time.Hour).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = sb.SyncToken(short, h[:])
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SyncToken while b's mirror lags: %v, want it to wait (deadline exceeded)", err)
	}
	if _, ok := idxB.Session(tok); ok {
		t.Fatal("b's index holds the token before its mirror applied it")
	}
	openGate()
	if err := sb.SyncToken(ctx, h[:]); err != nil {
		t.Fatal(err)
	}
	if a, ok := idxB.Session(tok); !ok || a.UserID != 100 || a.Name != "Zed" {
		t.Fatalf("b's index after SyncToken: %v %v, want Zed (100)", a, ok)
	}
}

// TestAccountNamesOutliveSweeps: a registered name is held by AccountNode; the sweep
// of a dead node frees that node's names but never an account's, not even a sweep
// of a node by AccountNode's name.
func TestAccountNamesOutliveSweeps(t *testing.T) {
	ns := natstest.Start(t)
	n := startNode(t, ns, "live", t.TempDir(), 1, func(c *Config) { c.NodeTTL = time.Second })
	sh := shareAccounts(t, n, newIndex(t))
	ctx := testContext(t)
	h := sha256.Sum256([]byte("t"))
	if err := sh.Register(ctx, store.Account{UserID: 50, Name: "Keeper", Created: 1},
		store.AccountToken{Hash: h[:], UserID: 50, Expires: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	kvs := openBuckets(t, ns, namesBucket, nodesBucket)
	names, nodes := kvs[0], kvs[1]
	if _, err := ReserveName(ctx, names, "ghost user", Holder{UserID: 7, Node: "ghost"}); err != nil {
		t.Fatal(err)
	}
	if err := Beat(ctx, nodes, "ghost", nil); err != nil {
		t.Fatal(err)
	}
	if err := Leave(ctx, nodes, "ghost"); err != nil {
		t.Fatal(err)
	}
	held := func(name string) (Holder, bool) {
		h, ok, err := NameHolder(ctx, names, name)
		if err != nil {
			t.Fatal(err)
		}
		return h, ok
	}
	pollUntil(t, ctx, "the dead node's name freed", func() bool { _, ok := held("ghost user"); return !ok })
	if _, err := n.j.SweepNode(ctx, AccountNode); err != nil {
		t.Fatal(err)
	}
	if h, ok := held("keeper"); !ok || h.UserID != 50 || h.Node != AccountNode || len(h.Shared) > 0 {
		t.Fatalf("the account's name after the sweeps: %v %v, want held by 50 %s", h, ok, AccountNode)
	}
	if err := sh.Register(ctx, store.Account{UserID: 51, Name: "KEEPER", Created: 1},
		store.AccountToken{Hash: h[:], UserID: 51, Expires: time.Now().Add(time.Hour).UnixMilli()}); !errors.Is(err, accounts.ErrNameTaken) {
		t.Fatalf("registering the name by case again: %v, want ErrNameTaken", err)
	}
}

// TestTokenSyncsAreBounded: while a node's mirror lags, token lookups that wait for
// it are at most the sync workers' plus the queue's; one more is refused at once
// (ErrBusy, the login gets 1013), and every queued one is answered once the mirror
// goes on.
func TestTokenSyncsAreBounded(t *testing.T) {
	sa, sb, idxB, openGate := laggingPair(t)
	idxB.SetShared(sb)

	const tok = "a token of node a"
	h := sha256.Sum256([]byte(tok))
	ctx := testContext(t)
	if err := sa.Register(ctx, store.Account{UserID: 100, Name: "Zed", Created: 1},
		store.AccountToken{Hash: h[:], UserID: 100, Expires: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 1024)
	queued := 0
	for range 1024 {
		if err := idxB.SyncToken(tok, func(error) { done <- struct{}{} }); err != nil {
			if !errors.Is(err, accounts.ErrBusy) {
				t.Fatal(err)
			}
			break
		}
		queued++
	}
	// The workers may have taken a few from the queue already: at most 2 more than it holds.
	if queued < 256 || queued > 256+2 {
		t.Fatalf("%d token syncs queued before one was refused, want 256 to 258", queued)
	}
	openGate()
	for range queued {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("a queued token sync was never answered")
		}
	}
	if _, ok := idxB.Session(tok); !ok {
		t.Fatal("the token is not in b's index after the syncs")
	}
}
