package store

import (
	"context"
	"errors"
	"testing"
)

// TestMigrateAccounts: a database from before accounts gets the account tables; a
// second open adds nothing; accounts and unexpired tokens survive, expired ones are
// deleted, a name or sub is stored once.
func TestMigrateAccounts(t *testing.T) {
	dir := t.TempDir()
	execRaw(t, dir, oldSessionsSchema) // a data dir from long ago
	ctx := context.Background()

	s := openTest(t, dir)
	live, old := AccountToken{Hash: []byte("live"), UserID: 7, Expires: 2000}, AccountToken{Hash: []byte("old"), UserID: 7, Expires: 500}
	if err := s.CreateAccount(ctx, Account{UserID: 7, Name: "Ann", Pass: []byte("h"), Created: 1}, &live); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, old, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, Account{UserID: 8, Name: "Ann", Created: 1}, nil); !errors.Is(err, ErrAccountExists) {
		t.Fatalf("a second Ann: %v", err)
	}
	if err := s.CreateAccount(ctx, Account{UserID: 9, Name: "Ann", Sub: "ext", Created: 1}, nil); err != nil {
		t.Fatalf("a JWT account's name is not reserved: %v", err)
	}
	if err := s.CreateAccount(ctx, Account{UserID: 10, Name: "B", Sub: "ext", Created: 1}, nil); !errors.Is(err, ErrAccountExists) {
		t.Fatalf("a second sub ext: %v", err)
	}
	s.Close()

	for range 2 {
		s = openTest(t, dir)
		accts, toks, err := s.LoadAccounts(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(accts) != 2 || accts[0].Name != "Ann" || string(accts[0].Pass) != "h" || accts[1].Sub != "ext" {
			t.Fatalf("accounts %+v", accts)
		}
		if len(toks) != 1 || string(toks[0].Hash) != "live" {
			t.Fatalf("tokens %+v, want the live one only", toks)
		}
		s.Close()
	}
	s = openTest(t, dir)
	if err := errors.Join(s.DeleteToken(ctx, []byte("live")), s.AddToken(ctx, old, nil), s.DeleteTokens(ctx, 7)); err != nil {
		t.Fatal(err)
	}
	if _, toks, _ := s.LoadAccounts(ctx, 0); len(toks) != 0 {
		t.Fatalf("tokens left after revoking: %+v", toks)
	}
	s.Close()
}
