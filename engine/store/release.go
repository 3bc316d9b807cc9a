package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ReleaseMemory gives back to the OS the memory a storm filled outside the Go heap:
// it empties the page caches of the store's idle connections, closes the idle
// connections the storm opened, and hands what SQLite's allocator kept of the freed
// memory back to the OS (libctrim.go).
func (s *SQLite) ReleaseMemory(ctx context.Context) error {
	err := s.shrinkIdle(ctx)
	s.closeSpareConns()
	return errors.Join(err, trimLibc())
}

// closeSpareConns closes the idle connections beyond spareConns. A login storm opens
// the pool up to its maximum (4 readers beside the writer), and each connection keeps
// its own lookaside, schema and statements outside the Go heap even when its page
// cache is empty: 500 logins left 4 more connections and RSS 5 s after their cut
// 9-12% over the warm baseline. The next storm opens them again (about 1 ms each).
func (s *SQLite) closeSpareConns() {
	s.db.SetMaxIdleConns(spareConns) // lowering it closes the idle ones past it
	s.db.SetMaxIdleConns(maxConns)
}

// shrinkIdle empties the page caches of the idle connections (SQLite's shrink_memory):
// a cache, once full, stays full (up to --store-cache a connection). The pages are read
// again from the OS's page cache as they are needed. A connection in use is left
// alone; the idle ones are all held until each is shrunk (the pool hands out the most
// recently used first, so one at a time would shrink one of them over and over). It
// never waits for a connection: the first that is not idle at once ends the round (a
// wait, with all the others held, stalled the writer for the whole timeout).
func (s *SQLite) shrinkIdle(ctx context.Context) error {
	idle := s.db.Stats().Idle
	conns := make([]*sql.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			_ = c.Close() // back to the pool
		}
	}()
	var errs []error
	for range idle {
		c, err := s.idleConn(ctx)
		if err != nil {
			break // taken meanwhile: the rest stay as they are
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, "PRAGMA shrink_memory"); err != nil {
			errs = append(errs, fmt.Errorf("store: shrink_memory: %w", err))
		}
	}
	return errors.Join(errs...)
}

// idleConnWait is how long ReleaseMemory waits for a connection it counted as idle.
const idleConnWait = 5 * time.Millisecond

func (s *SQLite) idleConn(ctx context.Context) (*sql.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, idleConnWait)
	defer cancel()
	return s.db.Conn(ctx)
}
