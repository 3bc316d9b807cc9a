package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatd/chatd/engine/accounts"
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
	if c.Cluster == nil {
		return nil
	}
	if c.DataDir == "" {
		return errors.New("a cluster node needs a --data-dir for its copy of the history")
	}
	return nil
}

// shareAccounts makes a cluster node's accounts the cluster's (docs/CLUSTER.md,
// "Accounts"): writes go to KV first, and the node's index mirrors the bucket; a
// single node keeps them in its SQLite.
func (s *Server) shareAccounts(acc *accounts.Service) error {
	if s.journal == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterOpenTimeout)
	defer cancel()
	sh, err := s.journal.ShareAccounts(ctx, acc, s.Chat.AccountRoomsFromCluster)
	if err != nil {
		return fmt.Errorf("share accounts with the cluster: %w", err)
	}
	acc.SetShared(sh)
	s.sharedAccounts = sh
	return nil
}

// clusterJournal is the chat's journal opener for a cluster node (docs/CLUSTER.md):
// lines go through NATS JetStream and come back through this node's store; nil for a
// single node, whose store writer is the journal. The journal opened is kept in
// *opened, for Start to catch up with it.
func (c Config) clusterJournal(opened **cluster.Journal) chat.JournalOpener {
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
		*opened = j
		return j, nil
	}
}

// importAccounts carries the accounts this node's SQLite kept as a single node into
// the cluster, those the mirror lacks, with their tokens (docs/CLUSTER.md,
// "Accounts"); a restart finds them mirrored and writes nothing. One that conflicts
// with the cluster's (its name, userId or sub another's) is left out and logged;
// the next start tries it again.
func (s *Server) importAccounts(ctx context.Context) error {
	if s.localAccounts == nil || s.sharedAccounts == nil {
		return nil
	}
	accts, toks, err := s.localAccounts.LoadAccounts(ctx, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("read the single node's accounts: %w", err)
	}
	byUser := make(map[uint64][]store.AccountToken)
	for _, t := range toks {
		byUser[t.UserID] = append(byUser[t.UserID], t)
	}
	imported := 0
	for _, a := range accts {
		if _, ok := s.Accounts.Account(a.UserID); ok {
			continue
		}
		err := s.sharedAccounts.ImportAccount(ctx, a, byUser[a.UserID])
		if errors.Is(err, cluster.ErrImportConflict) {
			s.log.Warn("a single node's account not carried into the cluster", "userId", a.UserID, "name", a.Name, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("carry the single node's accounts into the cluster: %w", err)
		}
		imported++
	}
	if imported > 0 {
		s.log.Info("carried a single node's accounts into the cluster", "accounts", imported)
		return s.sharedAccounts.Sync(ctx) // in the index before the first login
	}
	return nil
}

// catchUpTimeout bounds how long a starting node may take to read the lines the
// cluster wrote while it was away; past it the start fails (systemd starts it again,
// and it goes on from what it committed).
const catchUpTimeout = 10 * time.Minute

// catchUpProgressEvery is how often a catching-up node logs how far it got.
const catchUpProgressEvery = 2 * time.Second

// catchUp returns once a cluster node's SQLite holds every line the stream held when
// it was called ("catch up before serving", docs/CLUSTER.md); at once for a single
// node. Start runs it with the owner up (commits arrive there) and before the port is
// bound, so no client sees a node that lacks history the others have.
func (s *Server) catchUp() error {
	j := s.journal
	if j == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		err := j.WaitCaughtUp(ctx)
		if err == nil && s.sharedAccounts != nil {
			err = s.sharedAccounts.AccountsReady(ctx) // every account, before a login needs one
		}
		if err == nil {
			err = s.importAccounts(ctx)
		}
		done <- err
	}()
	start := time.Now()
	tick := time.NewTicker(catchUpProgressEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("catch up with the cluster before serving: %w", err)
			}
			s.log.Info("caught up with the cluster", "applied_stream_seq", j.AppliedStreamSeq(), "took", time.Since(start).Round(time.Millisecond))
			return nil
		case <-tick.C:
			s.log.Info("catching up with the cluster before serving", "applied_stream_seq", j.AppliedStreamSeq(), "for", time.Since(start).Round(time.Second))
		}
	}
}
