package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// accountsSchema holds accounts (engine/accounts) and their login tokens. An
// account's user_id comes from the chat's durably reserved userIds, so it never
// collides with an anonymous one. A password account has sub ”; an account made by
// a JWT has its sub and an empty hash. Tokens are stored as SHA-256 hashes only.
const accountsSchema = `
CREATE TABLE IF NOT EXISTS accounts (
	user_id INTEGER PRIMARY KEY,
	name    TEXT    NOT NULL,
	sub     TEXT    NOT NULL DEFAULT '',
	pass    BLOB    NOT NULL DEFAULT x'',
	created INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS accounts_by_name ON accounts(name) WHERE sub = '';
CREATE UNIQUE INDEX IF NOT EXISTS accounts_by_sub ON accounts(sub) WHERE sub <> '';
CREATE TABLE IF NOT EXISTS account_tokens (
	hash    BLOB    PRIMARY KEY,
	user_id INTEGER NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS account_tokens_by_user ON account_tokens(user_id);
`

// migrateAccounts adds the account tables to a database made before accounts; it
// only creates what is missing, so it runs on every open.
func migrateAccounts(db *sql.DB) error {
	if _, err := db.Exec(accountsSchema); err != nil {
		return fmt.Errorf("create account tables: %w", err)
	}
	return nil
}

// ErrAccountExists: an account with that name (or sub) is stored already.
var ErrAccountExists = errors.New("store: account exists")

// Account is one stored account.
type Account struct {
	UserID  uint64
	Name    string
	Sub     string // a JWT's subject; "" for a password account
	Pass    []byte // the encoded password hash; empty for a JWT account
	Created int64  // unix milliseconds
}

// AccountToken is one stored login token: the SHA-256 of the token, never the token.
type AccountToken struct {
	Hash    []byte
	UserID  uint64
	Expires int64 // unix milliseconds
}

// LoadAccounts returns every account and every token that has not expired at now
// (unix milliseconds); expired tokens are deleted.
func (s *SQLite) LoadAccounts(ctx context.Context, now int64) ([]Account, []AccountToken, error) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM account_tokens WHERE expires <= ?`, now); err != nil {
		return nil, nil, fmt.Errorf("store: expire tokens: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, name, sub, pass, created FROM accounts ORDER BY user_id`)
	if err != nil {
		return nil, nil, fmt.Errorf("store: accounts: %w", err)
	}
	var accts []Account
	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.UserID, &a.Name, &a.Sub, &a.Pass, &a.Created); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("store: accounts: %w", err)
		}
		accts = append(accts, a)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, nil, fmt.Errorf("store: accounts: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT hash, user_id, expires FROM account_tokens`)
	if err != nil {
		return nil, nil, fmt.Errorf("store: account tokens: %w", err)
	}
	defer rows.Close()
	var toks []AccountToken
	for rows.Next() {
		var t AccountToken
		if err := rows.Scan(&t.Hash, &t.UserID, &t.Expires); err != nil {
			return nil, nil, fmt.Errorf("store: account tokens: %w", err)
		}
		toks = append(toks, t)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: account tokens: %w", err)
	}
	return accts, toks, nil
}

// CreateAccount stores a and, if tok is not nil, its first token, in one
// transaction. A name or sub stored already is ErrAccountExists.
func (s *SQLite) CreateAccount(ctx context.Context, a Account, tok *AccountToken) error {
	return s.inTx(ctx, "account", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (user_id, name, sub, pass, created) VALUES (?, ?, ?, ?, ?)`,
			int64(a.UserID), a.Name, a.Sub, secretArg(a.Pass), a.Created)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return ErrAccountExists
			}
			return fmt.Errorf("store: insert account: %w", err)
		}
		if tok == nil {
			return nil
		}
		return insertToken(ctx, tx, *tok)
	})
}

// AddToken stores a login token, and deletes the tokens in drop (the account's
// oldest, past its cap) in the same transaction.
func (s *SQLite) AddToken(ctx context.Context, tok AccountToken, drop [][]byte) error {
	return s.inTx(ctx, "token", func(tx *sql.Tx) error {
		if err := insertToken(ctx, tx, tok); err != nil {
			return err
		}
		for _, h := range drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE hash = ?`, h); err != nil {
				return fmt.Errorf("store: delete token: %w", err)
			}
		}
		return nil
	})
}

// inTx runs fn in a transaction and commits it, or rolls it back if fn fails; what
// names the commit in its error.
func (s *SQLite) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit %s: %w", what, err)
	}
	return nil
}

func insertToken(ctx context.Context, tx *sql.Tx, tok AccountToken) error {
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO account_tokens (hash, user_id, expires) VALUES (?, ?, ?)`,
		tok.Hash, int64(tok.UserID), tok.Expires)
	if err != nil {
		return fmt.Errorf("store: insert token: %w", err)
	}
	return nil
}

// DeleteToken revokes one token (by its hash).
func (s *SQLite) DeleteToken(ctx context.Context, hash []byte) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM account_tokens WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("store: delete token: %w", err)
	}
	return nil
}

// DeleteTokens revokes every token of an account.
func (s *SQLite) DeleteTokens(ctx context.Context, userID uint64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ?`, int64(userID)); err != nil {
		return fmt.Errorf("store: delete tokens: %w", err)
	}
	return nil
}
