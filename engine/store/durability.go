package store

import "fmt"

// Durability is what a committed line survives: the moment Write returns nil is the
// moment the chat sends Sent, so this is what Sent promises.
type Durability string

const (
	// DurabilityPower fsyncs the WAL on every commit (synchronous=FULL): a line that
	// got Sent survives kill -9 of chatd and a power cut of the machine.
	DurabilityPower Durability = "power"
	// DurabilityCrash writes every commit to the WAL but fsyncs it only at checkpoints
	// (synchronous=NORMAL): a line that got Sent survives kill -9 of chatd (the OS
	// holds its pages), not a power cut or a kernel crash, which may lose the last
	// commits (never corrupt the database, never leave a gap inside a commit).
	DurabilityCrash Durability = "crash"
)

// Valid reports whether d is one of the levels.
func (d Durability) Valid() bool { return d == DurabilityPower || d == DurabilityCrash }

// synchronous is SQLite's synchronous setting for d.
func (d Durability) synchronous() (string, error) {
	switch d {
	case DurabilityPower:
		return "FULL", nil
	case DurabilityCrash:
		return "NORMAL", nil
	}
	return "", fmt.Errorf("durability %q: want %q or %q", d, DurabilityPower, DurabilityCrash)
}

// Options are how OpenSQLiteWith opens the history. Start from DefaultOptions.
type Options struct {
	Durability Durability
	// CacheKiB is SQLite's page cache per connection (--store-cache), of which the
	// store opens up to 6. SQLite allocates it outside the Go heap, and a cache once
	// filled stays full.
	CacheKiB int
}

// DefaultCacheKiB is --store-cache's default, SQLite's own: 2,000 KiB a connection,
// 12 MB for the store's 6 when full. A smaller cache saves memory (in an idle run with
// 15,000 opt-in connections their sessions filled the writer's 2 MB, 140 bytes a
// connection) and costs the writer: at 256 KiB, BenchmarkDurableAckAfterCommit
// (window 4096, 200 rooms) took 24-25 µs a line against 13-15 µs, and group commits
// 18-53 µs against 11 µs, the B-trees the writer touches (lines, search index,
// sessions) no longer fitting. The pages stay in the OS's page cache either way.
const DefaultCacheKiB = 2000

// DefaultOptions: power durability, what every chatd before --durability promised.
func DefaultOptions() Options { return Options{Durability: DurabilityPower, CacheKiB: DefaultCacheKiB} }

// Validate checks o's cache (the chat's config checks --durability), naming the flag;
// 0 is DefaultCacheKiB.
func (o Options) Validate() error {
	if o.CacheKiB != 0 && (o.CacheKiB < 16 || o.CacheKiB > 1<<20) {
		return fmt.Errorf("--store-cache: want 16..1048576 KiB, got %d", o.CacheKiB)
	}
	return nil
}
