package store

import (
	"context"
	"database/sql"
	"fmt"
	"unsafe"
)

// An account's rooms are kept, so that a login on any device rejoins them (issue 14's
// roaming): a row per account and room it joined and has not left. Anonymous users'
// rooms go with their identity, through resume.

const accountRoomsSchema = `CREATE TABLE IF NOT EXISTS account_rooms (
	user_id INTEGER NOT NULL,
	room    TEXT    NOT NULL,
	PRIMARY KEY (user_id, room)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_reads (
	user_id INTEGER NOT NULL,
	room    TEXT    NOT NULL,
	seq     INTEGER NOT NULL,
	PRIMARY KEY (user_id, room)
) WITHOUT ROWID`

// migrateAccountRooms adds account_rooms and account_reads to a database made before
// them.
func migrateAccountRooms(db *sql.DB) error {
	if _, err := db.Exec(accountRoomsSchema); err != nil {
		return fmt.Errorf("create account_rooms: %w", err)
	}
	return nil
}

// AccountRoom is an account joining (In) or leaving a room, or (IsRead) its read
// position in a room moving up to Read.
type AccountRoom struct {
	UserID uint64
	Room   string
	In     bool
	Read   uint64
	IsRead bool
}

func accountRoomBytes(r *AccountRoom) int { return int(unsafe.Sizeof(*r)) + len(r.Room) }

// AddAccountRoom queues r. Like sessions, it is never refused (the account's rooms must
// reach the disk), but it counts toward MaxQueueBytes. Safe from any goroutine.
func (w *Writer) AddAccountRoom(r AccountRoom) {
	w.mu.Lock()
	w.queue.AccountRooms = append(w.queue.AccountRooms, r)
	w.held += accountRoomBytes(&r)
	w.mu.Unlock()
	w.signal()
}

// writeAccountRooms applies rs in order, in tx.
func writeAccountRooms(ctx context.Context, tx *sql.Tx, rs []AccountRoom) error {
	for _, r := range rs {
		q, args := `DELETE FROM account_rooms WHERE user_id = ? AND room = ?`, []any{int64(r.UserID), r.Room}
		switch {
		case r.IsRead:
			q, args = `INSERT INTO account_reads (user_id, room, seq) VALUES (?, ?, ?)
				ON CONFLICT (user_id, room) DO UPDATE SET seq = max(seq, excluded.seq)`, append(args, int64(r.Read))
		case r.In:
			q = `INSERT OR IGNORE INTO account_rooms (user_id, room) VALUES (?, ?)`
		default: // a room left: its read position goes too, so an account keeps one per room it is in
			if _, err := tx.ExecContext(ctx, `DELETE FROM account_reads WHERE user_id = ? AND room = ?`, args...); err != nil {
				return fmt.Errorf("store: account %d room %s: %w", r.UserID, r.Room, err)
			}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: account %d room %s: %w", r.UserID, r.Room, err)
		}
	}
	return nil
}

// loadAccountReads is every account's read positions, by userId and room.
func (s *SQLite) loadAccountReads(ctx context.Context) (map[uint64]map[string]uint64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, room, seq FROM account_reads`)
	if err != nil {
		return nil, fmt.Errorf("store: load read positions: %w", err)
	}
	out := make(map[uint64]map[string]uint64)
	for rows.Next() {
		var id, seq int64
		var room string
		if err := rows.Scan(&id, &room, &seq); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load read positions: %w", err)
		}
		if out[uint64(id)] == nil {
			out[uint64(id)] = make(map[string]uint64)
		}
		out[uint64(id)][room] = uint64(seq)
	}
	return out, closeRows(rows)
}

// loadAccountRooms is every account's rooms, by userId, by name.

func (s *SQLite) loadAccountRooms(ctx context.Context) (map[uint64][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, room FROM account_rooms ORDER BY user_id, room`)
	if err != nil {
		return nil, fmt.Errorf("store: load account rooms: %w", err)
	}
	out := make(map[uint64][]string)
	for rows.Next() {
		var id int64
		var room string
		if err := rows.Scan(&id, &room); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load account rooms: %w", err)
		}
		out[uint64(id)] = append(out[uint64(id)], room)
	}
	return out, closeRows(rows)
}
