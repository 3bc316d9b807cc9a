package accounts

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatd/chatd/engine/store"
)

// Accounts shared by a cluster (docs/CLUSTER.md, "Accounts"): on a cluster node the
// service keeps no account in its SQLite. Every write goes to the cluster first
// (Shared, which engine/cluster implements on JetStream KV) and is indexed here only
// once the cluster took it; every node's mirror hands what any node wrote to the
// Apply methods, so each node's index holds the cluster's accounts and tokens, and
// Session and Account still answer the chat's owner from memory. The Shared calls are
// round trips to NATS: they run on HTTP handlers and the JWT verifiers, never on the
// owner.

// Shared is a cluster's accounts, the truth a cluster node's index mirrors.
type Shared interface {
	// Register stores a new password account with its first token for the whole
	// cluster, its name held for good under the chat's name keys: ErrNameTaken if a
	// user or account of any node holds it.
	Register(ctx context.Context, a store.Account, tok store.AccountToken) error
	// SubAccount is the account of a.Sub: a itself if the cluster had none, stored
	// with compare-and-swap, else the one stored first (one sub, one userId).
	SubAccount(ctx context.Context, a store.Account) (store.Account, error)
	// AddToken stores a login token; DeleteToken revokes one.
	AddToken(ctx context.Context, tok store.AccountToken) error
	DeleteToken(ctx context.Context, tok store.AccountToken) error
	// Sync returns once every change the cluster held when it was called has reached
	// the Apply methods (a write and a wait: logout of every token needs it).
	Sync(ctx context.Context) error
	// SyncToken and SyncName return once the Apply methods were given the cluster's
	// record of a token (by its SHA-256) or of the password account named name, if
	// the cluster holds one (reads, and a wait that is mostly over already): a lookup
	// that missed here looks again after it, for what another node made a moment ago.
	SyncToken(ctx context.Context, hash []byte) error
	SyncName(ctx context.Context, name string) error
}

// ErrUnavailable is a Shared call refused or failed because the cluster cannot be
// reached: the request gets 503 cluster_unavailable, and nothing was made.
var ErrUnavailable = errors.New("accounts: the cluster is unavailable")

// CodeClusterUnavailable is the HTTP API's answer while a cluster node cannot reach
// its cluster (503): nothing was registered, issued or revoked; try again.
const CodeClusterUnavailable = "cluster_unavailable"

var errClusterUnavailable = &apiError{http.StatusServiceUnavailable, CodeClusterUnavailable, "the cluster is unavailable; try again in a moment"}

// SetShared makes the service a cluster node's (call it before anything is served,
// with a service made without a store): writes go to sh, and sh's mirror calls the
// Apply methods.
func (s *Service) SetShared(sh Shared) {
	s.shared = sh
	s.syncs = make(chan syncJob, syncQueue)
	for range syncWorkers {
		go s.runSyncs()
	}
}

// Shared reports whether the service is a cluster node's.
func (s *Service) Shared() bool { return s.shared != nil }

// A WebSocket login whose token the index lacks waits, on a cluster node, for
// SyncToken on one of syncWorkers goroutines (never the owner); at most syncQueue
// wait, past that the login is refused with ErrBusy, so a flood of bad tokens costs
// a bounded number of KV reads at a time.
const (
	syncWorkers = 2
	syncQueue   = 256
)

type syncJob struct {
	hash [32]byte
	done func(error)
}

// SyncToken queues the sync of tok's record (Shared.SyncToken); done runs on a sync
// worker once it is over: the caller looks tok up again, and if the index still
// lacks it, err says whether that is the cluster's answer (nil) or the cluster could
// not be asked (a login to refuse as unavailable, not as a bad token). ErrBusy: too
// many wait, done will not run.
func (s *Service) SyncToken(tok string, done func(err error)) error {
	select {
	case s.syncs <- syncJob{hash: sha256Sum(tok), done: done}:
		return nil
	default:
		return ErrBusy
	}
}

func (s *Service) runSyncs() {
	for {
		select {
		case j := <-s.syncs:
			_, err := s.syncMiss(context.Background(), func(ctx context.Context) error { return s.shared.SyncToken(ctx, j.hash[:]) })
			j.done(err)
		case <-s.stopSyncs:
			return
		}
	}
}

// sharedError is the API's answer to a failed Shared write.
func (s *Service) sharedError(what string, err error) *apiError {
	s.log.Warn("accounts: cluster write failed", "what", what, "err", err)
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return errClusterUnavailable // NATS away, or too slow to answer in time
	}
	return errStore
}

// ApplyAccount indexes an account the cluster holds (the mirror's, and a write of
// this node's once the cluster took it); one indexed already is left as it is.
func (s *Service) ApplyAccount(a store.Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID[a.UserID] == nil {
		s.addAccount(a)
	}
}

// ApplyDropAccount forgets an account whose registration was undone in the cluster.
func (s *Service) ApplyDropAccount(userID uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.byID[userID]
	if acc == nil || len(acc.tokens) > 0 {
		return // never happens: an undone registration got no token
	}
	delete(s.byID, userID)
	if acc.Sub != "" {
		delete(s.bySub, acc.Sub)
	} else if s.byName[acc.Name] == acc {
		delete(s.byName, acc.Name)
	}
}

// ApplyToken indexes a token the cluster holds; an expired one, or one of an account
// not indexed, is not. Every node applies the tokens in the cluster's one order, so
// the cap (maxTokensPerAccount) drops the same ones everywhere.
func (s *Service) ApplyToken(t store.AccountToken) {
	if len(t.Hash) != sha256.Size {
		return
	}
	expires := time.UnixMilli(t.Expires)
	if !s.cfg.Now().Before(expires) {
		return
	}
	h := [32]byte(t.Hash)
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.byID[t.UserID]
	if _, known := s.tokens[h]; known || acc == nil {
		return
	}
	s.addToken(acc, h, expires)
}

// ApplyRevoke forgets a token the cluster no longer holds; one revoked before it
// expired ends the connections it logged in here (the chat's Revoked), as a logout
// on this node does.
func (s *Service) ApplyRevoke(hash []byte) {
	if len(hash) != sha256.Size {
		return
	}
	h := [32]byte(hash)
	s.mu.RLock()
	t, ok := s.tokens[h]
	s.mu.RUnlock()
	if !ok {
		return
	}
	s.forget(h, t.userID, false)
	if s.reg != nil && s.cfg.Now().Before(t.expires) {
		s.reg.Revoked(t.userID, h, false)
	}
}

// registerShared is register's write on a cluster node: the cluster first, then the
// index.
func (s *Service) registerShared(ctx context.Context, a store.Account, tok store.AccountToken) *apiError {
	err := s.shared.Register(ctx, a, tok)
	switch {
	case errors.Is(err, ErrNameTaken):
		return &apiError{http.StatusConflict, CodeNameTaken, "that name is taken"}
	case err != nil:
		return s.sharedError("register", err)
	}
	s.ApplyAccount(a)
	s.ApplyToken(tok)
	return nil
}

// issueShared is issue's write on a cluster node: the new token, then the deletes of
// those it pushes past the cap (a failed delete leaves that token valid until it
// expires: logged, not refused, as the new one is stored already).
func (s *Service) issueShared(ctx context.Context, tok store.AccountToken, drop [][]byte) error {
	if err := s.shared.AddToken(ctx, tok); err != nil {
		return err
	}
	for _, h := range drop {
		if err := s.shared.DeleteToken(ctx, store.AccountToken{Hash: h, UserID: tok.UserID, Expires: tok.Expires}); err != nil {
			s.log.Warn("accounts: dropping a token past the cap", "userId", tok.UserID, "err", err)
		}
	}
	s.ApplyToken(tok)
	return nil
}

// revokeShared is revoke's write on a cluster node: every token to revoke (all: each
// one of the account the cluster holds) is deleted in the cluster, whose mirror then
// ends their connections on every node.
func (s *Service) revokeShared(ctx context.Context, h [32]byte, userID uint64, all bool) error {
	toks := []store.AccountToken{s.tokenRecord(h)}
	if all {
		if err := s.shared.Sync(ctx); err != nil {
			return fmt.Errorf("accounts: sync before revoking all: %w", err)
		}
		toks = s.tokensOf(userID)
	}
	for _, t := range toks {
		if err := s.shared.DeleteToken(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// tokenRecord is the stored form of an indexed token.
func (s *Service) tokenRecord(h [32]byte) store.AccountToken {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tokens[h]
	return store.AccountToken{Hash: h[:], UserID: t.userID, Expires: t.expires.UnixMilli()}
}

// tokensOf is every indexed token of userID.
func (s *Service) tokensOf(userID uint64) []store.AccountToken {
	s.mu.RLock()
	defer s.mu.RUnlock()
	acc := s.byID[userID]
	if acc == nil {
		return nil
	}
	out := make([]store.AccountToken, 0, len(acc.tokens))
	for _, h := range acc.tokens {
		out = append(out, store.AccountToken{Hash: h[:], UserID: userID, Expires: s.tokens[h].expires.UnixMilli()})
	}
	return out
}

// syncMiss makes sure, on a cluster node, that the index holds the cluster's record
// of what a lookup missed (an account or token another node made a moment ago), so
// that a second lookup is the cluster's answer. It reports whether it synced (false
// on a single node) and the cluster's failure if it could not.
func (s *Service) syncMiss(ctx context.Context, sync func(ctx context.Context) error) (bool, error) {
	if s.shared == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if err := sync(ctx); err != nil {
		s.log.Debug("accounts: sync with the cluster", "err", err)
		return false, err
	}
	return true, nil
}

// syncTimeout bounds a lookup's wait for the mirror.
const syncTimeout = 3 * time.Second
