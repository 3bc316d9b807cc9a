package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatd/chatd/engine/chat"
	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/store"
)

// clusterOpenTimeout bounds how long New waits for NATS and the cluster's stream and
// buckets: a node that cannot reach its cluster at start fails rather than serve alone.
const clusterOpenTimeout = 30 * time.Second

// validateCluster: a cluster node keeps its copy of the lines in SQLite, so it needs a
// --data-dir.
func (c Config) validateCluster() error {
	if c.Cluster != nil && c.DataDir == "" {
		return errors.New("a cluster node needs a --data-dir for its copy of the history")
	}
	return nil
}

// clusterJournal is the chat's journal opener for a cluster node (docs/CLUSTER.md):
// lines go through NATS JetStream and come back through this node's store; nil for a
// single node, whose store writer is the journal. Not on a flag yet: what a node
// shares with the others beyond the lines (names, userIds, sessions, presence) is
// still to be wired (docs/CLUSTER.md, build order).
func (c Config) clusterJournal() chat.JournalOpener {
	if c.Cluster == nil {
		return nil
	}
	return func(st store.Store, applied uint64, onCommit func(*store.Batch, error)) (chat.Journal, error) {
		cc := *c.Cluster
		cc.Store, cc.AppliedStreamSeq, cc.OnCommit = st, applied, onCommit
		cc.CommitInterval = c.Chat.HistoryFlushInterval
		cc.ResumeGrace = c.Chat.ResumeGrace
		cc.StoreLimits = store.Limits{MaxQueueBytes: store.DefaultMaxQueueBytes, Timeout: c.Chat.StoreTimeout}
		if cc.Log == nil {
			cc.Log = c.Engine.Logger
		}
		ctx, cancel := context.WithTimeout(context.Background(), clusterOpenTimeout)
		defer cancel()
		j, err := cluster.Open(ctx, cc)
		if err != nil {
			return nil, fmt.Errorf("join the cluster: %w", err)
		}
		return j, nil
	}
}
