package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
	"unsafe"
)

// Edit is an edit or a delete of one committed message, queued through the Writer
// like a message, so it is durable (and group-committed) before anyone hears of it.
type Edit struct {
	Room     string
	Seq      uint64
	Text     string // the new formatted text; "" for a delete
	EditedAt int64  // unix milliseconds
	Delete   bool   // the text (and a reply's quote) is overwritten, the row stays so seqs have no gap
	// DeletedQuote replaces, on a delete, the quote of every reply to the message, so
	// no excerpt of its text is left in the store either.
	DeletedQuote string
	// Applied is set by Write: false when the message was deleted already (an edit
	// or a second delete racing a delete), so nobody is told of it.
	Applied bool
}

func editBytes(e *Edit) int {
	return int(unsafe.Sizeof(*e)) + len(e.Room) + len(e.Text) + len(e.DeletedQuote)
}

// AddEdit queues e; like AddMessages it refuses (ErrUnavailable) while the store is in
// trouble. Safe from any goroutine; never blocks on the disk.
func (w *Writer) AddEdit(e Edit) error {
	size := editBytes(&e)
	w.mu.Lock()
	err := w.refusal(size, time.Now())
	if err == nil {
		w.queue.Edits = append(w.queue.Edits, e)
		w.held += size
	}
	w.mu.Unlock()
	if err == nil {
		w.signal()
	}
	return err
}

// editSQL updates one message found through either part of its room's index
// (tail_seqs or room_seqs, see messagesSchema); a deleted message is never changed
// again. A delete overwrites the text, the quote and the file reference: they are
// gone from the database's live pages, not only flagged.
const editSQL = `UPDATE messages SET text = ?1, edited_at = ?2, deleted = ?3,
	reply_to = CASE WHEN ?3 THEN '' ELSE reply_to END, file = CASE WHEN ?3 THEN '' ELSE file END
	WHERE deleted = 0 AND id = coalesce(
		(SELECT msg_id FROM tail_seqs WHERE room_id = ?4 AND seq = ?5),
		(SELECT msg_id FROM room_seqs WHERE room_id = ?4 AND seq = ?5))`

// scrubQuotesSQL rewrites the quotes of a deleted message's replies, found through
// the partial index messages_replies (only replies are in it).
const scrubQuotesSQL = `UPDATE messages SET reply_to = ?1 WHERE room_id = ?2 AND reply_seq = ?3 AND reply_seq > 0`

// applyEdits runs b's edits in tx, after its messages, and marks which applied.
func (s *SQLite) applyEdits(ctx context.Context, tx *sql.Tx, edits []Edit) error {
	if len(edits) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, editSQL)
	if err != nil {
		return fmt.Errorf("store: prepare edit: %w", err)
	}
	defer stmt.Close()
	for i := range edits {
		e := &edits[i]
		s.roomMu.Lock()
		room, ok := s.roomIDs[e.Room]
		s.roomMu.Unlock()
		e.Applied = false
		if !ok {
			continue // no committed message in that room: nothing to edit
		}
		res, err := stmt.ExecContext(ctx, e.Text, e.EditedAt, e.Delete, room, int64(e.Seq))
		if err != nil {
			return fmt.Errorf("store: edit %s/%d: %w", e.Room, e.Seq, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: edit %s/%d: %w", e.Room, e.Seq, err)
		}
		e.Applied = n > 0
		if err := s.searchEdit(ctx, tx, e); err != nil {
			return err
		}
		if e.Applied && e.Delete && e.DeletedQuote != "" {
			if _, err := tx.ExecContext(ctx, scrubQuotesSQL, e.DeletedQuote, room, int64(e.Seq)); err != nil {
				return fmt.Errorf("store: scrub quotes of %s/%d: %w", e.Room, e.Seq, err)
			}
		}
	}
	return nil
}

// searchEdit keeps the search index in step with an applied edit, in its transaction:
// an edited line is found by its new words only, a deleted one by none.
func (s *SQLite) searchEdit(ctx context.Context, tx *sql.Tx, e *Edit) error {
	switch {
	case !e.Applied || s.searchInsert == nil:
		return nil
	case e.Delete:
		return s.unindexSearch(ctx, tx, e.Room, e.Seq)
	default:
		return s.reindexSearch(ctx, tx, e.Room, e.Seq, e.Text)
	}
}

// migrateEdits adds the columns of edits, deletes and replies to messages, each only
// if it is missing, so it is idempotent; old rows read as never edited, not deleted,
// no reply.
func migrateEdits(db *sql.DB) error {
	columns := []struct{ name, def string }{
		{"reply_to", `TEXT NOT NULL DEFAULT ''`},
		{"edited_at", `INTEGER NOT NULL DEFAULT 0`},
		{"deleted", `INTEGER NOT NULL DEFAULT 0`},
		{"reply_seq", `INTEGER NOT NULL DEFAULT 0`},
	}
	for _, c := range columns {
		has, err := hasColumn(db, "messages", c.name)
		if err != nil {
			return err
		}
		if has {
			continue
		}
		if _, err := db.Exec(`ALTER TABLE messages ADD COLUMN ` + c.name + ` ` + c.def); err != nil {
			return fmt.Errorf("add messages.%s: %w", c.name, err)
		}
	}
	// Only replies are indexed: a delete finds the quotes to scrub without a scan.
	if _, err := db.Exec(`CREATE INDEX IF NOT EXISTS messages_replies ON messages(room_id, reply_seq) WHERE reply_seq > 0`); err != nil {
		return fmt.Errorf("index replies: %w", err)
	}
	return nil
}
