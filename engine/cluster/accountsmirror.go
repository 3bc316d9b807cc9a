package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/chat"
	"github.com/chatd/chatd/engine/store"
)

// The accounts mirror: one watch of the accounts bucket per node hands every record
// to the node's accounts index, in the bucket's order, from the first (the watch
// starts with every current key) until the journal closes. The index is the node's
// memory only: a node restarted reads the bucket again, so a revoke made while it was
// down cannot be missed.

// AccountsMirror is what a node's accounts index offers the mirror; accounts.Service
// implements it. Its methods take the mirror's records in the bucket's order.
type AccountsMirror interface {
	ApplyAccount(store.Account)
	ApplyDropAccount(userID uint64)
	ApplyToken(store.AccountToken)
	ApplyRevoke(hash []byte)
}

// Accounts is a cluster node's side of the shared accounts: it implements
// accounts.Shared and runs the mirror.
type Accounts struct {
	j      *Journal
	kv     jetstream.KeyValue
	names  jetstream.KeyValue
	mirror AccountsMirror
	// onRooms is the chat's: an account's rooms and read positions (accountrooms.go).
	onRooms func(userID uint64, rooms []string, reads map[string]uint64)
	rooms   *roomsWriter

	mu        sync.Mutex
	applied   uint64        // the bucket revision the mirror handed over last
	advanced  chan struct{} // closed and replaced when applied grows
	ready     chan struct{} // closed once every key the bucket held at start is applied
	readyOnce sync.Once

	stop      context.CancelFunc
	done      chan struct{} // closed when the mirror stopped
	roomsDone chan struct{} // closed when the rooms writer stopped
	undos     atomic.Int32  // undos of failed registrations being retried (accounts.go)
}

// ShareAccounts starts the accounts mirror into m, and into onRooms (nil: none) each
// account's rooms and read positions, and the writer of this node's changes of them.
// Serve accounts only once AccountsReady returned.
func (j *Journal) ShareAccounts(ctx context.Context, m AccountsMirror,
	onRooms func(userID uint64, rooms []string, reads map[string]uint64)) (*Accounts, error) {
	kv, err := j.js.KeyValue(ctx, accountsBucket)
	if err != nil {
		return nil, fmt.Errorf("cluster: bucket %s: %w", accountsBucket, err)
	}
	a := &Accounts{j: j, kv: kv, names: j.ids.names, mirror: m, onRooms: onRooms, rooms: newRoomsWriter(),
		advanced: make(chan struct{}), ready: make(chan struct{}), done: make(chan struct{}), roomsDone: make(chan struct{})}
	var watchCtx context.Context
	watchCtx, a.stop = context.WithCancel(context.Background())
	w, err := kv.WatchAll(watchCtx)
	if err != nil {
		a.stop()
		return nil, fmt.Errorf("cluster: watch %s: %w", accountsBucket, err)
	}
	j.accts.Store(a)
	go a.run(watchCtx, w)
	go func() {
		defer close(a.roomsDone)
		a.writeRooms(watchCtx)
	}()
	return a, nil
}

// AccountsReady returns once the mirror holds every account and token the bucket
// held when it started.
func (a *Accounts) AccountsReady(ctx context.Context) error {
	select {
	case <-a.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: read the accounts: %w", ctx.Err())
	}
}

// run is the mirror: it applies every update until ctx ends. When the connection to
// NATS is lost it watches again, once NATS is back, from the revision after the last
// it applied: a watch left to find out by itself that its server restarted would
// take many seconds of missed heartbeats.
func (a *Accounts) run(ctx context.Context, w jetstream.KeyWatcher) {
	defer close(a.done)
	for w != nil {
		lost := a.follow(ctx, w)
		_ = w.Stop()
		if !lost {
			return
		}
		w = a.rewatch(ctx)
	}
}

// follow applies w's updates until ctx ends (false) or the connection is lost or the
// watch ends (true: watch again).
func (a *Accounts) follow(ctx context.Context, w jetstream.KeyWatcher) bool {
	epoch := a.j.connEpoch()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-epoch.Done():
			return true
		case e, ok := <-w.Updates():
			if !ok {
				return true
			}
			if e == nil {
				a.readyOnce.Do(func() { close(a.ready) }) // the end of the keys held at start
				continue
			}
			a.apply(e)
		}
	}
}

// rewatch waits for NATS and watches from the revision after the last applied; nil:
// ctx ended.
func (a *Accounts) rewatch(ctx context.Context) jetstream.KeyWatcher {
	backoff := 50 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		if !a.j.connected.Load() {
			backoff = 100 * time.Millisecond // NATS away: look again soon
			continue
		}
		backoff = min(2*backoff, 2*time.Second) // NATS there, the watch refused: back off
		a.mu.Lock()
		from := a.applied + 1
		a.mu.Unlock()
		w, err := a.kv.WatchAll(ctx, jetstream.ResumeFromRevision(from))
		if err == nil {
			return w
		}
		a.j.log.Warn("cluster: watch the accounts again", "err", err)
	}
}

// apply hands one record to the mirror, then notes its revision: a Sync waiting for
// it finds the index holding it.
func (a *Accounts) apply(e jetstream.KeyValueEntry) {
	if err := a.applyEntry(e); err != nil {
		a.j.log.Warn("cluster: accounts mirror", "key", e.Key(), "err", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if e.Revision() > a.applied {
		a.applied = e.Revision()
		close(a.advanced)
		a.advanced = make(chan struct{})
	}
}

func (a *Accounts) applyEntry(e jetstream.KeyValueEntry) error {
	key, put := e.Key(), e.Operation() == jetstream.KeyValuePut
	switch {
	case strings.HasPrefix(key, tokenPrefix):
		if !put {
			t, err := decodeToken(key, []byte("0 0"))
			if err == nil {
				a.mirror.ApplyRevoke(t.Hash)
			}
			return err
		}
		t, err := decodeToken(key, e.Value())
		if err == nil {
			a.mirror.ApplyToken(t)
		}
		return err
	case strings.HasPrefix(key, roomsPrefix):
		return a.applyRooms(e)
	case strings.HasPrefix(key, accountPrefix), strings.HasPrefix(key, subPrefix):
		if !put {
			if id, err := strconv.ParseUint(strings.TrimPrefix(key, accountPrefix), 10, 64); err == nil {
				a.mirror.ApplyDropAccount(id) // a registration undone
			}
			return nil
		}
		acct, err := decodeAccount(e.Value())
		if err == nil {
			a.mirror.ApplyAccount(acct)
		}
		return err
	}
	return nil // a key of a later version: not ours to read
}

// waitApplied returns once the mirror handed over revision rev.
func (a *Accounts) waitApplied(ctx context.Context, rev uint64) error {
	for {
		a.mu.Lock()
		applied, advanced := a.applied, a.advanced
		a.mu.Unlock()
		if applied >= rev {
			return nil
		}
		select {
		case <-advanced:
		case <-a.done:
			return errors.New("cluster: the accounts mirror stopped")
		case <-ctx.Done():
			return fmt.Errorf("cluster: wait for the accounts mirror: %w", ctx.Err())
		}
	}
}

// syncKeyPrefix is the key a node writes to Sync: its revision is a point in the
// bucket after every write that was acknowledged before.
const syncKeyPrefix = "sync."

// Sync implements accounts.Shared: a write of this node's sync key, then a wait for
// the mirror to reach it (one KV write: only logout of every token asks for it).
func (a *Accounts) Sync(ctx context.Context) error {
	if err := a.connectedFor("sync"); err != nil {
		return err
	}
	rev, err := a.kv.Put(ctx, syncKeyPrefix+NodeToken(a.j.node), nil)
	if err != nil {
		return accountsUnavailable("sync", err)
	}
	return a.waitApplied(ctx, rev)
}

// SyncToken implements accounts.Shared: if the bucket holds the token, the mirror
// is waited for up to its revision (a read; the token may be a moment old).
func (a *Accounts) SyncToken(ctx context.Context, hash []byte) error {
	if err := a.connectedFor("look up token"); err != nil {
		return err
	}
	return a.syncKey(ctx, tokenKey(hash))
}

// SyncName implements accounts.Shared: if an account holds name, the mirror is
// waited for up to its record's revision (two reads).
func (a *Accounts) SyncName(ctx context.Context, name string) error {
	if err := a.connectedFor("look up name"); err != nil {
		return err
	}
	folded, _ := chat.NameKeys(name)
	h, held, err := NameHolder(ctx, a.names, folded)
	if err != nil {
		return accountsUnavailable("look up name", err)
	}
	if !held || h.Node != AccountNode {
		return nil // no account has it: the index is right
	}
	return a.syncKey(ctx, accountKey(h.UserID))
}

func (a *Accounts) syncKey(ctx context.Context, key string) error {
	e, err := a.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil
	}
	if err != nil {
		return accountsUnavailable("read "+key, err)
	}
	return a.waitApplied(ctx, e.Revision())
}

// close stops the mirror (Journal.Close, before the connection closes).
func (a *Accounts) close() {
	a.stop()
	<-a.done
	<-a.roomsDone
}
