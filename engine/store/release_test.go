package store

import (
	"bufio"
	"context"
	"database/sql"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// anonRSS is the process's resident anonymous memory, after the Go heap gave back
// what it could: SQLite's modernc build allocates outside the Go heap and keeps no
// statistics of its own (sqlite3_memory_used is 0), so the OS's count is the measure.
func anonRSS(t *testing.T) int64 {
	t.Helper()
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssAnon in /proc/self/status")
	return 0
}

// TestReleaseMemoryEmptiesIdleCaches: writing and reading a table bigger than the cache fills
// the connections' page caches outside the Go heap, and they stay full; ReleaseMemory
// gives that memory back to the OS, nearly all of it, and the store still reads and
// writes afterwards.
func TestReleaseMemoryEmptiesIdleCaches(t *testing.T) {
	const cacheKiB = 4096
	s, err := OpenSQLiteWith(t.TempDir(), Options{Durability: DurabilityCrash, CacheKiB: cacheKiB})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE filler(x BLOB)")
	before := anonRSS(t)
	exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) INSERT INTO filler SELECT randomblob(3000) FROM n")
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT sum(length(x)) FROM filler").Scan(&total); err != nil {
		t.Fatal(err)
	}
	filled := anonRSS(t)
	if filled < before+cacheKiB<<10/2 {
		t.Fatalf("anonymous RSS %d after reading %d bytes, %d before: the cache did not fill", filled, total, before)
	}
	if err := s.ReleaseMemory(ctx); err != nil {
		t.Fatal(err)
	}
	// Emptied caches alone left 3.6-4.2 MB of the 7.6-8.1 MB resident: SQLite's
	// allocator kept the regions for reuse until trimLibc (libctrim.go).
	if after := anonRSS(t); after > before+cacheKiB<<10/4 {
		t.Fatalf("anonymous RSS %d KiB after the release, %d KiB filled, %d KiB before filling", after>>10, filled>>10, before>>10)
	}
	exec("INSERT INTO filler VALUES (x'00')")
}

// TestReleaseMemoryClosesStormConnections: a storm of concurrent reads opens the pool to
// its maximum, and those connections stay open when idle; a release closes all but
// spareConns of them, and reads open them again when they run concurrently.
func TestReleaseMemoryClosesStormConnections(t *testing.T) {
	s, err := OpenSQLiteWith(t.TempDir(), Options{Durability: DurabilityCrash})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	hold := func() {
		t.Helper()
		conns := make([]*sql.Conn, maxConns)
		for i := range conns {
			if conns[i], err = s.db.Conn(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := conns[i].ExecContext(ctx, "SELECT 1"); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range conns {
			_ = c.Close()
		}
	}
	hold()
	if open := s.db.Stats().OpenConnections; open != maxConns {
		t.Fatalf("%d connections open after %d concurrent reads", open, maxConns)
	}
	if err := s.ReleaseMemory(ctx); err != nil {
		t.Fatal(err)
	}
	if open := s.db.Stats().OpenConnections; open != spareConns {
		t.Fatalf("%d connections open after the release, want %d", open, spareConns)
	}
	hold()
	if open := s.db.Stats().OpenConnections; open != maxConns {
		t.Fatalf("%d connections open after the next storm, want %d", open, maxConns)
	}
}
