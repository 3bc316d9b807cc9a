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
}

// DefaultOptions: power durability, what every chatd before --durability promised.
func DefaultOptions() Options { return Options{Durability: DurabilityPower} }
