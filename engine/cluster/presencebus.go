package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
)

// The presence messages travel on core NATS, not JetStream: presence is soft state,
// rebuilt from snapshots, and not worth a disk write. chatd.presence.<node> carries a
// node's ticks; chatd.presence.<node>.snapshot answers a request with its Snapshot.

const presencePrefix = "chatd.presence."

// NodeToken is node as one NATS subject token: '.', '*', '>' and whitespace, which a
// token may not hold, become '_'.
func NodeToken(node string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, node)
}

// PublishTick sends t to every other node.
func PublishTick(nc *nats.Conn, t *Tick) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode presence tick: %w", err)
	}
	if err := nc.Publish(presencePrefix+NodeToken(t.Node), b); err != nil {
		return fmt.Errorf("publish presence tick: %w", err)
	}
	return nil
}

// SubscribeTicks calls fn with every other node's ticks (self's own are skipped), on
// nats.go's goroutine: fn hands them to the owner (Worker.Post) and returns.
func SubscribeTicks(nc *nats.Conn, self string, fn func(*Tick)) (*nats.Subscription, error) {
	sub, err := nc.Subscribe(presencePrefix+"*", func(m *nats.Msg) {
		var t Tick
		if json.Unmarshal(m.Data, &t) != nil || t.Node == self {
			return // a malformed tick is dropped: the next gap asks for a snapshot
		}
		fn(&t)
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to presence ticks: %w", err)
	}
	return sub, nil
}

// ServeSnapshots answers snapshot requests for node with snap(), which must be safe on
// nats.go's goroutine (it asks the owner and waits).
func ServeSnapshots(nc *nats.Conn, node string, snap func() *Snapshot) (*nats.Subscription, error) {
	sub, err := nc.Subscribe(presencePrefix+NodeToken(node)+".snapshot", func(m *nats.Msg) {
		b, err := json.Marshal(snap())
		if err == nil {
			_ = m.Respond(b) // a lost answer is asked again at the next gap
		}
	})
	if err != nil {
		return nil, fmt.Errorf("serve presence snapshots: %w", err)
	}
	return sub, nil
}

// RequestSnapshot asks node for its whole local membership. It blocks for a round
// trip: never call it on the owner.
func RequestSnapshot(ctx context.Context, nc *nats.Conn, node string) (*Snapshot, error) {
	m, err := nc.RequestWithContext(ctx, presencePrefix+NodeToken(node)+".snapshot", nil)
	if err != nil {
		return nil, fmt.Errorf("presence snapshot of %s: %w", node, err)
	}
	var s Snapshot
	if err := json.Unmarshal(m.Data, &s); err != nil {
		return nil, fmt.Errorf("presence snapshot of %s: %w", node, err)
	}
	return &s, nil
}
