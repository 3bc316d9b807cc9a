package store

import (
	"context"
	"testing"
)

// TestStoreCacheReachesEveryConnection: --store-cache is SQLite's cache_size on the
// connections the store opens, and out-of-range values are refused by name.
func TestStoreCacheReachesEveryConnection(t *testing.T) {
	for _, kib := range []int{0, 300} {
		s, err := OpenSQLiteWith(t.TempDir(), Options{Durability: DurabilityPower, CacheKiB: kib})
		if err != nil {
			t.Fatal(err)
		}
		want := kib
		if want == 0 {
			want = DefaultCacheKiB
		}
		var got int
		if err := s.db.QueryRowContext(context.Background(), "PRAGMA cache_size").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != -want {
			t.Errorf("CacheKiB %d: cache_size = %d, want %d (KiB)", kib, got, -want)
		}
		s.Close()
	}
	for _, bad := range []int{-1, 8, 1<<20 + 1} {
		if err := (Options{Durability: DurabilityPower, CacheKiB: bad}).Validate(); err == nil {
			t.Errorf("CacheKiB %d accepted", bad)
		}
	}
}
