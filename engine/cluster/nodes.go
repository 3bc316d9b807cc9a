package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Node liveness (docs/CLUSTER.md, "Presence across nodes"): each node puts its key in
// the nodes bucket every ttl/3; the bucket keeps a key for ttl after its last put and
// then leaves a marker, so every watcher learns of a node that stopped beating (killed,
// or cut off) within ttl and turns its users into ConnectionLost. ttl is --ping-interval
// × --ping-max-missed: the time its users would have taken to miss their Pings.

const nodesBucket = "chatd_nodes"

// NodesConfig is the liveness bucket: a key lives ttl after its last put, and its
// expiry leaves a marker (LimitMarkerTTL) that watchers see. Memory storage: liveness
// is soft state, rebuilt by the next beats after a nats-server restart.
func NodesConfig(ttl time.Duration, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket: nodesBucket, History: 1, TTL: ttl, LimitMarkerTTL: ttl,
		Storage: jetstream.MemoryStorage, Replicas: replicas,
	}
}

// Beat says node is alive; info is what the others may want of it (its address, its
// boot), read by nothing yet.
func Beat(ctx context.Context, kv jetstream.KeyValue, node string, info []byte) error {
	if _, err := kv.Put(ctx, node, info); err != nil {
		return fmt.Errorf("beat of node %s: %w", node, err)
	}
	return nil
}

// NodeEvent is a node that came (Alive) or whose key expired or was deleted (!Alive;
// Left: deleted, by the node's Leave at a clean stop).
type NodeEvent struct {
	Node  string
	Alive bool
	Left  bool
}

// WatchNodes reports every node's arrival and departure on events until ctx ends,
// starting with the nodes alive now. The channel is closed when the watch ends.
func WatchNodes(ctx context.Context, kv jetstream.KeyValue) (<-chan NodeEvent, error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch nodes: %w", err)
	}
	out := make(chan NodeEvent, 64)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		for e := range w.Updates() {
			if e == nil {
				continue // the end of the initial values
			}
			op := e.Operation() // an expiry's marker reads as a purge, a Leave as a delete
			ev := NodeEvent{Node: e.Key(), Alive: op == jetstream.KeyValuePut, Left: op == jetstream.KeyValueDelete}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Leave deletes node's key at a clean stop, so the others need not wait out the ttl.
func Leave(ctx context.Context, kv jetstream.KeyValue, node string) error {
	if err := kv.Delete(ctx, node); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("leave of node %s: %w", node, err)
	}
	return nil
}
