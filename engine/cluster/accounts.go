package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/accounts"
	"github.com/chatd/chatd/engine/chat"
	"github.com/chatd/chatd/engine/store"
)

// Registered accounts shared by the cluster (docs/CLUSTER.md, "Accounts"): one KV
// bucket holds every account and login token, and every node mirrors it into its
// accounts index (accountsmirror.go). One bucket is one stream, so every node sees an
// account before its tokens and every token's revoke after it. Keys:
//
//   - id.<userId>: a password account (JSON of accountRecord);
//   - sub.<hex SHA-256 of the sub>: a JWT account, created once per sub;
//   - tok.<hex SHA-256 of the token>: "<userId> <expires ms>", with a per-key TTL
//     until it expires; a revoke purges it, its marker kept until the token would
//     have expired.
//
// A registered name is held in the names bucket under both its keys, by the
// account's userId and AccountNode, which is no node's name, so no sweep frees it.

// accountsBucket is the KV bucket of accounts and tokens.
const accountsBucket = "chatd_accounts"

// AccountNode is the Holder.Node of a registered account's name: a node's name is
// letters, digits and - _ = ., so no node is called that and sweep.go never frees it.
const AccountNode = "*account"

// expiryMarkerTTL is how long the marker of a token that expired stays: long enough
// for every watcher to see it go.
const expiryMarkerTTL = time.Minute

// AccountsConfig is the accounts bucket: file storage and --nats-replicas like the
// names; per-key TTLs for tokens (LimitMarkerTTL enables them).
func AccountsConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: accountsBucket, History: 1, Storage: jetstream.FileStorage,
		Replicas: replicas, LimitMarkerTTL: expiryMarkerTTL}
}

const (
	accountPrefix = "id."
	subPrefix     = "sub."
	tokenPrefix   = "tok."
)

func accountKey(userID uint64) string { return accountPrefix + strconv.FormatUint(userID, 10) }

func subKey(sub string) string {
	h := sha256.Sum256([]byte(sub)) // a sub may be long and hold any character
	return subPrefix + hex.EncodeToString(h[:])
}

func tokenKey(hash []byte) string { return tokenPrefix + hex.EncodeToString(hash) }

// accountRecord is an account in KV.
type accountRecord struct {
	UserID  uint64 `json:"userId"`
	Name    string `json:"name"`
	Sub     string `json:"sub,omitempty"`
	Pass    string `json:"pass,omitempty"` // the argon2id encoding
	Created int64  `json:"created"`
}

func encodeAccount(a store.Account) []byte {
	b, _ := json.Marshal(accountRecord{UserID: a.UserID, Name: a.Name, Sub: a.Sub, Pass: string(a.Pass), Created: a.Created})
	return b
}

func decodeAccount(v []byte) (store.Account, error) {
	var r accountRecord
	if err := json.Unmarshal(v, &r); err != nil || r.UserID == 0 {
		return store.Account{}, fmt.Errorf("bad account record %.64q", v)
	}
	return store.Account{UserID: r.UserID, Name: r.Name, Sub: r.Sub, Pass: []byte(r.Pass), Created: r.Created}, nil
}

func encodeToken(t store.AccountToken) []byte {
	return []byte(strconv.FormatUint(t.UserID, 10) + " " + strconv.FormatInt(t.Expires, 10))
}

func decodeToken(key string, v []byte) (store.AccountToken, error) {
	hash, err := hex.DecodeString(strings.TrimPrefix(key, tokenPrefix))
	id, exp, _ := strings.Cut(string(v), " ")
	userID, err2 := strconv.ParseUint(id, 10, 64)
	expires, err3 := strconv.ParseInt(exp, 10, 64)
	if err := errors.Join(err, err2, err3); err != nil || len(hash) != sha256.Size {
		return store.AccountToken{}, fmt.Errorf("bad token record %s: %w", key, err)
	}
	return store.AccountToken{Hash: hash, UserID: userID, Expires: expires}, nil
}

// accountsUnavailable wraps a KV failure: the caller answers cluster_unavailable.
func accountsUnavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", accounts.ErrUnavailable, op, err)
}

// connectedFor refuses at once while NATS is away, rather than wait out a timeout.
func (a *Accounts) connectedFor(op string) error {
	if !a.j.connected.Load() {
		return accountsUnavailable(op, ErrUnavailable)
	}
	return nil
}

// Register implements accounts.Shared: both name keys held for good, then the
// account, then its first token. A failure after the names undoes what was made (a
// registration is whole or not at all, as far as NATS lets the undo through).
func (a *Accounts) Register(ctx context.Context, acct store.Account, tok store.AccountToken) error {
	if err := a.connectedFor("register"); err != nil {
		return err
	}
	revs, err := a.holdName(ctx, acct.Name, acct.UserID)
	if err != nil {
		return err
	}
	rev, err := a.kv.Create(ctx, accountKey(acct.UserID), encodeAccount(acct))
	if err == nil {
		if err = a.putToken(ctx, tok); err != nil {
			a.undo(func(ctx context.Context) error {
				err := a.kv.Delete(ctx, accountKey(acct.UserID), jetstream.LastRevision(rev))
				if isWrongLastSequence(err) {
					return nil // deleted already, by an earlier try that seemed to fail
				}
				return err
			})
		}
	}
	if err != nil {
		a.freeName(acct.Name, revs)
		return accountsUnavailable("register "+acct.Name, err)
	}
	return nil
}

// holdName reserves both keys of name for userID as an account's: ErrNameTaken if
// any user holds either.
func (a *Accounts) holdName(ctx context.Context, name string, userID uint64) (revs [2]uint64, err error) {
	folded, shaped := chat.NameKeys(name)
	h := Holder{UserID: userID, Node: AccountNode}
	for i, key := range []string{folded, shaped} {
		if i == 1 && shaped == folded {
			break
		}
		revs[i], err = ReserveName(ctx, a.names, key, h)
		if err != nil {
			if i == 1 {
				a.undo(func(ctx context.Context) error { return FreeName(ctx, a.names, folded, revs[0]) })
			}
			if errors.Is(err, ErrNameTaken) {
				return revs, accounts.ErrNameTaken
			}
			return revs, accountsUnavailable("hold name "+name, err)
		}
	}
	return revs, nil
}

// freeName frees what holdName reserved, for a registration undone.
func (a *Accounts) freeName(name string, revs [2]uint64) {
	folded, shaped := chat.NameKeys(name)
	a.undo(func(ctx context.Context) error {
		err := FreeName(ctx, a.names, folded, revs[0])
		if shaped != folded {
			err = errors.Join(err, FreeName(ctx, a.names, shaped, revs[1]))
		}
		return err
	})
}

// Undoing a registration that failed half-way must not fail for good because NATS
// went away at that moment: an undo that fails is retried every undoRetryEvery for
// undoRetryFor, at most maxUndos at once (past that it is logged: the name stays held
// until an operator frees its key). Each undo is at the revision written, so a late
// one never touches a newer holder's key.
const (
	maxUndos       = 64
	undoRetryEvery = time.Second
	undoRetryFor   = 10 * time.Minute
)

// undo runs an undo with a context of its own (the request's may be what ran out),
// and retries it in the background if it fails.
func (a *Accounts) undo(fn func(ctx context.Context) error) {
	if a.tryUndo(fn) == nil {
		return
	}
	if a.undos.Add(1) > maxUndos {
		a.undos.Add(-1)
		a.j.log.Error("cluster: a registration's undo dropped, too many pending")
		return
	}
	go func() {
		defer a.undos.Add(-1)
		for deadline := time.Now().Add(undoRetryFor); time.Now().Before(deadline); {
			select {
			case <-a.done:
				return
			case <-time.After(undoRetryEvery):
			}
			if err := a.tryUndo(fn); err == nil {
				return
			}
		}
		a.j.log.Error("cluster: a registration's undo failed for good")
	}()
}

func (a *Accounts) tryUndo(fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	err := fn(ctx)
	if err != nil {
		a.j.log.Warn("cluster: undoing a registration", "err", err)
	}
	return err
}

// SubAccount implements accounts.Shared: create-if-absent of the sub's key.
func (a *Accounts) SubAccount(ctx context.Context, acct store.Account) (store.Account, error) {
	if err := a.connectedFor("sub account"); err != nil {
		return store.Account{}, err
	}
	key := subKey(acct.Sub)
	_, err := a.kv.Create(ctx, key, encodeAccount(acct))
	if err == nil {
		return acct, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return store.Account{}, accountsUnavailable("sub account", err)
	}
	e, err := a.kv.Get(ctx, key)
	if err != nil {
		return store.Account{}, accountsUnavailable("read sub account", err)
	}
	return decodeAccount(e.Value())
}

// AddToken implements accounts.Shared.
func (a *Accounts) AddToken(ctx context.Context, tok store.AccountToken) error {
	if err := a.connectedFor("add token"); err != nil {
		return err
	}
	if err := a.putToken(ctx, tok); err != nil {
		return accountsUnavailable("add token", err)
	}
	return nil
}

// putToken creates tok's key, living until tok expires.
func (a *Accounts) putToken(ctx context.Context, tok store.AccountToken) error {
	ttl := max(time.Until(time.UnixMilli(tok.Expires)), time.Second)
	_, err := a.kv.Create(ctx, tokenKey(tok.Hash), encodeToken(tok), jetstream.KeyTTL(ttl))
	return err
}

// DeleteToken implements accounts.Shared: the token's key is purged, and the marker
// stays as long as the token would have lived, for every mirror to see.
func (a *Accounts) DeleteToken(ctx context.Context, tok store.AccountToken) error {
	if err := a.connectedFor("revoke token"); err != nil {
		return err
	}
	ttl := max(time.Until(time.UnixMilli(tok.Expires)), time.Second)
	if err := a.kv.Purge(ctx, tokenKey(tok.Hash), jetstream.PurgeTTL(ttl)); err != nil {
		return accountsUnavailable("revoke token", err)
	}
	return nil
}

var (
	_ accounts.Shared = (*Accounts)(nil)
	_ AccountsMirror  = (*accounts.Service)(nil)
)
