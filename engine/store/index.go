package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The room index, room_seqs, is written in bulk: messages above meta's
// indexed_upto (the tail) are found by a scan of the tail, which is short, and
// the commit that makes the tail tailRows long, or tailBytes big, indexes it all.
// Sorted by room, the tail's entries for one room land on that room's leaf together:
// a commit of lines in k rooms writes the table's last pages, not k index leaves.
const (
	tailRows  = 1024    // lines: bounds the scan a read of a room adds
	tailBytes = 1 << 20 // text bytes: the same bound for long lines
)

// tailDue reports whether the commit of msgs must index the tail.
func (s *SQLite) tailDue(msgs []Message) bool {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	rows, size := s.tailRows+len(msgs), s.tailBytes
	for i := range msgs {
		size += len(msgs[i].Text)
	}
	return rows >= tailRows || size >= tailBytes
}

// tailCommitted counts msgs into the tail once their commit succeeded; indexed: that
// commit indexed the whole tail.
func (s *SQLite) tailCommitted(msgs []Message, indexed bool) {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	if indexed {
		s.tailRows, s.tailBytes = 0, 0
		return
	}
	s.tailRows += len(msgs)
	for i := range msgs {
		s.tailBytes += len(msgs[i].Text)
	}
}

// indexUpto is the highest rowid room_seqs covers, in q's view.
func indexUpto(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, error) {
	var upto int64
	err := q.QueryRowContext(ctx, `SELECT coalesce((SELECT v FROM meta WHERE k = 'indexed_upto'), 0)`).Scan(&upto)
	if err != nil {
		return 0, fmt.Errorf("store: indexed_upto: %w", err)
	}
	return upto, nil
}

// indexTail indexes every message above indexed_upto, in tx. Write stores no
// (room, seq) twice (withoutCopies); were one there twice, the first row would win.
func indexTail(ctx context.Context, tx *sql.Tx) error {
	upto, err := indexUpto(ctx, tx)
	if err != nil {
		return err
	}
	steps := []struct{ what, sql string }{
		{"index", `INSERT OR IGNORE INTO room_seqs (room_id, seq, msg_id)
			SELECT room_id, seq, id FROM messages WHERE id > ?1 ORDER BY room_id, seq, id`},
		{"mark", `INSERT INTO meta (k, v) VALUES ('indexed_upto', (SELECT coalesce(max(id), ?1) FROM messages))
			ON CONFLICT (k) DO UPDATE SET v = excluded.v`},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.sql, upto); err != nil {
			return fmt.Errorf("store: index the tail: %s: %w", st.what, err)
		}
	}
	return nil
}

// indexAll indexes the whole tail in a transaction of its own: at open, so Load and
// a new process start from an empty tail.
func indexAll(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: index the tail: %w", err)
	}
	if err := indexTail(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: index the tail: commit: %w", err)
	}
	return nil
}
