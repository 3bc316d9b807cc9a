package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// What a dead node held (docs/CLUSTER.md, "Node loss"): its users' names and its
// resumable identities stay in KV after it died, and only the live nodes can free
// them. Every live node sweeps a node whose liveness key expired or was deleted
// (nodes.go): identities online there go offline with their grace from now, names of
// users who cannot resume are freed at once, and the rest once their grace ended,
// unless another node resumed them meanwhile (a resumed identity's session and names
// name the new node). Every write is at the revision read, so sweeps of several nodes
// at once do not conflict; a random pause spreads them. A sweep reads the whole names
// and sessions buckets: a cost per node death, not per login.

// maxSweepPause spreads the live nodes' sweeps of one dead node.
const maxSweepPause = 2 * time.Second

// startSweeps sweeps what this node's earlier life under its name left (a restart
// with a fixed --node-name), then watches for dead nodes until Close.
func (j *Journal) startSweeps(ctx context.Context) error {
	nodes, err := j.js.KeyValue(ctx, nodesBucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", nodesBucket, err)
	}
	pending, err := j.SweepNode(ctx, j.node)
	if err != nil {
		return fmt.Errorf("sweep of this node's earlier life: %w", err)
	}
	var sweeps context.Context
	sweeps, j.stopSweeps = context.WithCancel(context.Background())
	if pending {
		go j.sweepLater(sweeps, j.node, j.grace+time.Second)
	}
	go j.watchDeadNodes(sweeps, nodes)
	return nil
}

// watchDeadNodes sweeps every node that dies, until ctx ends. A node restarted under
// its old name sweeps its own earlier life first (Open).
func (j *Journal) watchDeadNodes(ctx context.Context, nodes jetstream.KeyValue) {
	events, err := WatchNodes(ctx, nodes)
	if err != nil {
		j.log.Warn("cluster: watch nodes for sweeps", "err", err)
		return
	}
	for ev := range events {
		if ev.Alive || ev.Node == j.node {
			continue
		}
		go j.sweepLater(ctx, ev.Node, rand.N(maxSweepPause))
	}
}

// sweepLater sweeps dead after pause, and again after the grace while some of its
// identities may still resume.
func (j *Journal) sweepLater(ctx context.Context, dead string, pause time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pending, err := j.SweepNode(ctx, dead)
		if err != nil {
			j.log.Warn("cluster: sweep of a dead node", "node", dead, "err", err)
		}
		if !pending && err == nil {
			return
		}
		pause = j.grace + time.Second
	}
}

// SweepNode frees what the dead node held and is no longer resumable; pending: some
// of its identities are still within their grace (sweep again after it).
func (j *Journal) SweepNode(ctx context.Context, dead string) (pending bool, err error) {
	resumable, err := j.sweepSessions(ctx, dead)
	if err != nil {
		return false, err
	}
	err = eachEntry(ctx, j.ids.names, func(e jetstream.KeyValueEntry) error {
		return j.sweepName(ctx, e, dead, resumable)
	})
	if err != nil {
		return false, fmt.Errorf("sweep names of %s: %w", dead, err)
	}
	return len(resumable) > 0, nil
}

// sweepName takes the dead node from a name's holders: a name only it held is
// freed, one a JWT account holds from other nodes too stays theirs (ShareName). A
// registered account's name is held for good (accounts.go), a resumable identity's
// until its grace ends.
func (j *Journal) sweepName(ctx context.Context, e jetstream.KeyValueEntry, dead string, resumable map[uint64]bool) error {
	for range maxCASRetries {
		h, err := parseHolder(e.Value())
		if err != nil || !h.on(dead) || h.Node == AccountNode || resumable[h.UserID] {
			return nil
		}
		if rest, ok := h.without(dead); ok {
			_, err = j.ids.names.Update(ctx, e.Key(), rest.value(), e.Revision())
		} else {
			err = j.ids.names.Delete(ctx, e.Key(), jetstream.LastRevision(e.Revision()))
		}
		if !isCASConflict(err) {
			return err
		}
		e, err = j.ids.names.Get(ctx, e.Key()) // changed meanwhile: look again
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("sweep name %s: %d conflicts in a row", e.Key(), maxCASRetries)
}

// sweepSessions turns the dead node's online identities offline (their grace starts
// now), forgets those whose grace has ended, and returns the userIds still resumable.
func (j *Journal) sweepSessions(ctx context.Context, dead string) (map[uint64]bool, error) {
	now := time.Now()
	resumable := make(map[uint64]bool)
	err := eachEntry(ctx, j.ids.sessions, func(e jetstream.KeyValueEntry) error {
		var s Session
		if json.Unmarshal(e.Value(), &s) != nil || s.Node != dead {
			return nil
		}
		s.Revision = e.Revision()
		if s.Online {
			s.Online, s.LastSeen = false, now.UnixMilli()
			if err := TakeSession(ctx, j.ids.sessions, &s); err != nil {
				if errors.Is(err, ErrSessionMoved) {
					return nil // resumed meanwhile
				}
				return err
			}
		}
		if now.Sub(time.UnixMilli(s.LastSeen)) <= j.grace {
			resumable[s.UserID] = true
			return nil
		}
		return ForgetSession(ctx, j.ids.sessions, s.UserID, s.Revision)
	})
	if err != nil {
		return nil, fmt.Errorf("sweep sessions of %s: %w", dead, err)
	}
	return resumable, nil
}

// eachEntry calls fn with every key's current entry of kv, stopping at fn's first
// error.
func eachEntry(ctx context.Context, kv jetstream.KeyValue, fn func(jetstream.KeyValueEntry) error) error {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("read bucket %s: %w", kv.Bucket(), err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				return nil // every current entry seen
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
}
