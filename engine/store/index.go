package store

import (
	"context"
	"database/sql"
	"fmt"
)

// tailRows bounds tail_seqs, the small index of the last lines (see messagesSchema):
// small enough that a commit's entries share a few of its leaves, big enough that
// moving it into room_seqs writes each room's leaf for many lines at once.
const tailRows = 1024

// indexIntoTailSQL indexes the n messages a transaction just appended (the highest
// rowids: the transaction holds the write lock) into tail_seqs. It is prepared once
// (SQLite.tailInsert): parsing and planning it at every commit was 5% of the server's
// CPU at 10,000 durable lines/s.
const indexIntoTailSQL = `INSERT OR IGNORE INTO tail_seqs (room_id, seq, msg_id)
	SELECT room_id, seq, id FROM messages WHERE id > (SELECT max(id) FROM messages) - ?`

// indexIntoTail runs indexIntoTailSQL in tx for n messages.
func (s *SQLite) indexIntoTail(ctx context.Context, tx *sql.Tx, n int) error {
	if _, err := tx.StmtContext(ctx, s.tailInsert).ExecContext(ctx, n); err != nil {
		return fmt.Errorf("store: index %d lines: %w", n, err)
	}
	return nil
}

// tailDue reports whether the commit of msgs fills tail_seqs, so it must move it.
func (s *SQLite) tailDue(msgs []Message) bool {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	return s.tailLen+len(msgs) >= tailRows
}

// tailCommitted counts msgs into tail_seqs once their commit succeeded; moved: that
// commit moved tail_seqs into room_seqs.
func (s *SQLite) tailCommitted(msgs []Message, moved bool) {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	if moved {
		s.tailLen = 0
		return
	}
	s.tailLen += len(msgs)
}

// indexTail moves every entry of tail_seqs into room_seqs, in tx, in key order, so
// the entries of one room are written to its leaf together.
func indexTail(ctx context.Context, tx *sql.Tx) error {
	steps := []struct{ what, sql string }{
		{"move", `INSERT OR IGNORE INTO room_seqs (room_id, seq, msg_id) SELECT room_id, seq, msg_id FROM tail_seqs`},
		{"empty", `DELETE FROM tail_seqs`},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.sql); err != nil {
			return fmt.Errorf("store: index the tail: %s: %w", st.what, err)
		}
	}
	return nil
}

// indexAll moves tail_seqs in a transaction of its own: at open, so the count
// Write keeps starts from an empty tail.
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
