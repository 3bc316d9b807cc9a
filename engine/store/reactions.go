package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
	"unsafe"
)

// MaxReactionEmoji is how many distinct emoji one message may carry.
const MaxReactionEmoji = 20

// reactionsSchema keeps one row per user and emoji on a message. The key starts with
// the message, so a message's state, and a History page's, is one range of it.
// at (the owner's clock, unix nanoseconds) orders a message's reactions.
const reactionsSchema = `
CREATE TABLE IF NOT EXISTS reactions (
	room    TEXT    NOT NULL,
	seq     INTEGER NOT NULL,
	emoji   TEXT    NOT NULL,
	user_id INTEGER NOT NULL,
	at      INTEGER NOT NULL,
	PRIMARY KEY (room, seq, emoji, user_id)
) WITHOUT ROWID;
`

// ReactionCount is one emoji on a message and the users who reacted with it, in the
// order they did.
type ReactionCount struct {
	Emoji   string
	UserIDs []uint64
}

// Reaction is one toggle of a user's reaction on a message: the commit adds it, or
// removes it if the user had reacted so already. The chat checked the message exists.
type Reaction struct {
	Room   string
	Seq    uint64
	UserID uint64
	Emoji  string
	At     int64 // unix nanoseconds on the owner's clock

	// Set by the commit (Write), for the commit callback.
	Refused bool            // not added: the message has MaxReactionEmoji distinct emoji already
	Gone    bool            // not applied: the message was deleted (or is not stored)
	State   []ReactionCount // the message's reactions after the toggle, emoji by first reaction
}

// ToggleReaction applies one toggle to a message's state and returns the new state,
// whether the user's reaction was added (false: removed), and refused when it would
// be one distinct emoji too many (state is then returned unchanged). state is not
// modified.
func ToggleReaction(state []ReactionCount, emoji string, userID uint64) (next []ReactionCount, added, refused bool) {
	next = make([]ReactionCount, 0, len(state)+1)
	found := false
	for _, rc := range state {
		if rc.Emoji != emoji {
			next = append(next, rc)
			continue
		}
		found = true
		if i := slices.Index(rc.UserIDs, userID); i >= 0 {
			if ids := slices.Delete(slices.Clone(rc.UserIDs), i, i+1); len(ids) > 0 {
				next = append(next, ReactionCount{emoji, ids})
			}
		} else {
			added = true
			next = append(next, ReactionCount{emoji, append(slices.Clone(rc.UserIDs), userID)})
		}
	}
	if !found {
		if len(state) >= MaxReactionEmoji {
			return state, false, true
		}
		added = true
		next = append(next, ReactionCount{emoji, []uint64{userID}})
	}
	return next, added, false
}

// reactionBytes is what r holds in the Writer's queue.
func reactionBytes(r *Reaction) int { return int(unsafe.Sizeof(*r)) + len(r.Room) + len(r.Emoji) }

// AddReaction queues r for the next commit; the commit callback gets it back with its
// State. Refused, as AddMessages is, while the store is in trouble (the error wraps
// ErrUnavailable). Safe from any goroutine; never blocks on the disk.
func (w *Writer) AddReaction(r Reaction) error {
	size := reactionBytes(&r)
	w.mu.Lock()
	err := w.refusal(size, time.Now())
	if err == nil {
		w.queue.Reactions = append(w.queue.Reactions, r)
		w.held += size
	}
	w.mu.Unlock()
	if err == nil {
		w.signal()
	}
	return err
}

// reactionsBytes is what rs held in the queue, for release.
func reactionsBytes(rs []Reaction) int {
	n := 0
	for i := range rs {
		n += reactionBytes(&rs[i])
	}
	return n
}

// writeReactions applies b's toggles in tx, in order, and sets each one's outcome. A
// toggle is not idempotent: the Writer retries only batches whose transaction failed
// (rolled back), so none is applied twice short of a commit that succeeded and still
// reported an error.
func (s *SQLite) writeReactions(ctx context.Context, tx *sql.Tx, rs []Reaction) error {
	for i := range rs {
		r := &rs[i]
		gone, err := s.messageGone(ctx, tx, r.Room, r.Seq)
		if err != nil {
			return err
		}
		if r.Gone = gone; gone {
			continue
		}
		state, err := reactionsOf(ctx, tx, r.Room, r.Seq, r.Seq)
		if err != nil {
			return err
		}
		next, added, refused := ToggleReaction(state[r.Seq], r.Emoji, r.UserID)
		r.Refused, r.State = refused, next
		switch {
		case refused:
			continue
		case added:
			_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO reactions (room, seq, emoji, user_id, at) VALUES (?, ?, ?, ?, ?)`,
				r.Room, int64(r.Seq), r.Emoji, int64(r.UserID), r.At)
		default:
			_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE room = ? AND seq = ? AND emoji = ? AND user_id = ?`,
				r.Room, int64(r.Seq), r.Emoji, int64(r.UserID))
		}
		if err != nil {
			return fmt.Errorf("store: reaction on %s/%d: %w", r.Room, r.Seq, err)
		}
	}
	return nil
}

// messageGone reports whether room/seq is deleted or not stored, in tx: a reaction to
// it is not kept.
func (s *SQLite) messageGone(ctx context.Context, tx *sql.Tx, room string, seq uint64) (bool, error) {
	id, err := s.messageRowID(ctx, tx, room, seq)
	if err != nil || id == 0 {
		return id == 0, err
	}
	var deleted bool
	if err := tx.QueryRowContext(ctx, `SELECT deleted FROM messages WHERE id = ?`, id).Scan(&deleted); err != nil {
		return false, fmt.Errorf("store: message %s/%d: %w", room, seq, err)
	}
	return deleted, nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// reactionsOf reads the reactions of room's messages from..to (inclusive), by seq,
// each message's emoji in the order of their first reaction.
func reactionsOf(ctx context.Context, q querier, room string, from, to uint64) (map[uint64][]ReactionCount, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, emoji, user_id FROM reactions
		WHERE room = ? AND seq BETWEEN ? AND ? ORDER BY seq, at, emoji, user_id`, room, int64(from), int64(min(to, 1<<62)))
	if err != nil {
		return nil, fmt.Errorf("store: reactions of %s: %w", room, err)
	}
	out := make(map[uint64][]ReactionCount)
	for rows.Next() {
		var seq, uid int64
		var emoji string
		if err := rows.Scan(&seq, &emoji, &uid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: reactions of %s: %w", room, err)
		}
		state := out[uint64(seq)]
		i := slices.IndexFunc(state, func(rc ReactionCount) bool { return rc.Emoji == emoji })
		if i < 0 {
			state = append(state, ReactionCount{Emoji: emoji})
			i = len(state) - 1
		}
		state[i].UserIDs = append(state[i].UserIDs, uint64(uid))
		out[uint64(seq)] = state
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: reactions of %s: %w", room, err)
	}
	return out, nil
}

// Reactions implements Store.
func (s *SQLite) Reactions(ctx context.Context, room string, from, to uint64) (map[uint64][]ReactionCount, error) {
	return reactionsOf(ctx, s.db, room, from, to)
}

// migrateReactions adds the reactions table (issue 15); a database that has it is
// left as it is.
func migrateReactions(db *sql.DB) error {
	if _, err := db.Exec(reactionsSchema); err != nil {
		return fmt.Errorf("create reactions: %w", err)
	}
	return nil
}
