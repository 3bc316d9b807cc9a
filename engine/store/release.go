package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ReleaseMemory empties the page caches of the store's idle connections (SQLite's
// shrink_memory), so that memory a storm filled outside the Go heap goes back to the
// OS: a cache, once full, stays full (up to --store-cache a connection). The pages are
// read again from the OS's page cache as they are needed. A connection in use is left
// alone; the idle ones are all taken at once, so none is shrunk twice.
func (s *SQLite) ReleaseMemory(ctx context.Context) error {
	idle := s.db.Stats().Idle
	conns := make([]*sql.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			_ = c.Close() // back to the pool
		}
	}()
	var errs []error
	for range idle {
		c, err := s.db.Conn(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("store: release memory: %w", err))
			break
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, "PRAGMA shrink_memory"); err != nil {
			errs = append(errs, fmt.Errorf("store: shrink_memory: %w", err))
		}
	}
	return errors.Join(errs...)
}
