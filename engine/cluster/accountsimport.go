package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/accounts"
	"github.com/chatd/chatd/engine/store"
)

// A server that ran as a single node kept its accounts in its SQLite; a cluster
// node's accounts are the bucket's (docs/CLUSTER.md, "Accounts"). When such a server
// restarts as a node, the accounts its SQLite holds and the bucket lacks are carried
// in, with their tokens, so their users log in on every node as before.

// ErrImportConflict is an account ImportAccount could not carry in: its userId, name
// or sub belongs to another account or user in the cluster.
var ErrImportConflict = errors.New("taken by another account or user in the cluster")

// ImportAccount carries acct and its tokens into the bucket. What the bucket holds of
// it already (an earlier start's try) is kept; a token that expired is not carried.
func (a *Accounts) ImportAccount(ctx context.Context, acct store.Account, toks []store.AccountToken) error {
	if err := a.connectedFor("import account"); err != nil {
		return err
	}
	var err error
	if acct.Sub != "" {
		err = a.importSub(ctx, acct)
	} else {
		err = a.importPassword(ctx, acct)
	}
	if err != nil {
		return err
	}
	for _, tok := range toks {
		if err := a.putToken(ctx, tok); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return accountsUnavailable("import a token of "+acct.Name, err)
		}
	}
	return nil
}

// importSub creates a JWT account's sub key unless another userId has the sub.
func (a *Accounts) importSub(ctx context.Context, acct store.Account) error {
	got, err := a.SubAccount(ctx, acct)
	if err != nil {
		return err
	}
	if got.UserID != acct.UserID {
		return fmt.Errorf("import JWT account %d: its sub is user %d's: %w", acct.UserID, got.UserID, ErrImportConflict)
	}
	return nil
}

// importPassword holds the account's name for good and creates its record, unless
// its userId is another account's or its name another user's.
func (a *Accounts) importPassword(ctx context.Context, acct store.Account) error {
	e, err := a.kv.Get(ctx, accountKey(acct.UserID))
	if err == nil {
		if got, err := decodeAccount(e.Value()); err != nil || got.Name != acct.Name {
			return fmt.Errorf("import account %q: userId %d is another account's: %w", acct.Name, acct.UserID, ErrImportConflict)
		}
		return nil // carried in before
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return accountsUnavailable("import account "+acct.Name, err)
	}
	revs, err := a.holdName(ctx, acct.Name, acct.UserID)
	if errors.Is(err, accounts.ErrNameTaken) {
		return fmt.Errorf("import account %q: %w", acct.Name, ErrImportConflict)
	}
	if err != nil {
		return err
	}
	if _, err := a.kv.Create(ctx, accountKey(acct.UserID), encodeAccount(acct)); err != nil {
		a.freeName(acct.Name, revs)
		return accountsUnavailable("import account "+acct.Name, err)
	}
	return nil
}
