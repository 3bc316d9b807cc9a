package cluster

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/store"
)

// TestImportAccountKeepsTheClustersOwn: a single node's account is carried in with
// its tokens, and again without harm; one whose name a cluster user holds, whose
// userId is another account's or whose sub is another userId's is refused with
// ErrImportConflict and changes nothing.
func TestImportAccountKeepsTheClustersOwn(t *testing.T) {
	ns := natstest.Start(t)
	idx := newIndex(t)
	sh := shareAccounts(t, startNode(t, ns, "a", t.TempDir(), 1), idx)
	ctx := testContext(t)
	h := sha256.Sum256([]byte("pia's token"))
	pia := store.Account{UserID: 10, Name: "Pia", Pass: []byte("x"), Created: 1}
	toks := []store.AccountToken{{Hash: h[:], UserID: 10, Expires: time.Now().Add(time.Hour).UnixMilli()}}
	for range 2 {
		if err := sh.ImportAccount(ctx, pia, toks); err != nil {
			t.Fatal(err)
		}
	}
	if err := sh.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if a, ok := idx.Session("pia's token"); !ok || a.UserID != 10 {
		t.Fatalf("the imported token: %v %v", a, ok)
	}
	if _, err := ReserveName(ctx, sh.names, "rex", Holder{UserID: 99, Node: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := sh.ImportAccount(ctx, store.Account{UserID: 12, Sub: "s-1", Name: "Jay", Created: 1}, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		acct store.Account
	}{
		{"a name a nickname holds", store.Account{UserID: 11, Name: "Rex", Pass: []byte("x"), Created: 1}},
		{"a userId another account has", store.Account{UserID: 10, Name: "Other", Pass: []byte("x"), Created: 1}},
		{"a sub another userId has", store.Account{UserID: 13, Sub: "s-1", Name: "Jay", Created: 1}},
	} {
		if err := sh.ImportAccount(ctx, c.acct, nil); !errors.Is(err, ErrImportConflict) {
			t.Errorf("%s: %v, want ErrImportConflict", c.what, err)
		}
	}
	if err := sh.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if a, ok := idx.Account(10); !ok || a.Name != "Pia" {
		t.Fatalf("account 10 after the refused imports: %v %v, want Pia", a, ok)
	}
	if _, ok := idx.Account(11); ok {
		t.Fatal("the account whose name was taken is in the index")
	}
	if h, _, err := NameHolder(ctx, sh.names, "other"); err != nil || h.UserID != 0 {
		t.Fatalf("the refused account's name: holder %+v %v, want none", h, err)
	}
}
