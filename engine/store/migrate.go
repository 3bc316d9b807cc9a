package store

import (
	"database/sql"
	"fmt"
	"strings"
)

// migrate brings a database made by an older chatd up to the current schema and
// creates what is missing. Each step checks for what it adds, so it runs on every
// open and does nothing twice.
func migrate(db *sql.DB) error {
	if err := migrateRoomIDs(db); err != nil {
		return err
	}
	if _, err := db.Exec(schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if err := migrateFiles(db); err != nil {
		return err
	}
	if err := migrateMessageFiles(db); err != nil {
		return err
	}
	if err := migrateEdits(db); err != nil {
		return err
	}
	has, err := hasColumn(db, "sessions", "secret")
	if err != nil {
		return err
	}
	if !has {
		// Sessions stored before resume secrets keep an empty one: their tokens were
		// bound to the userId alone, which a crash could hand to someone else, so they
		// are never accepted again.
		if _, err := db.Exec(`ALTER TABLE sessions ADD COLUMN secret BLOB NOT NULL DEFAULT x''`); err != nil {
			return fmt.Errorf("add sessions.secret: %w", err)
		}
	}
	if err := migrateAccounts(db); err != nil {
		return err
	}
	if err := migrateAccountRooms(db); err != nil {
		return err
	}
	if err := migrateReactions(db); err != nil {
		return err
	}
	if err := migrateSearch(db); err != nil {
		return err
	}
	if err := migrateAppliedStreamSeq(db); err != nil {
		return err
	}
	return nil
}

// migrateRoomIDs moves a history keyed by room names (messages.room, indexed with
// (room, seq), and rooms(room, last_seq) rewritten every commit) to messagesSchema,
// in one transaction: a crash in the middle leaves the old schema, migrated again on
// the next open. Rowids, hence commit order, are kept; the copied rows are the
// tail, which the open then indexes (indexAll); each room's last seq is its
// messages' max, as the old rooms table had it (both were written in one commit).
func migrateRoomIDs(db *sql.DB) (err error) {
	old, err := hasColumn(db, "messages", "room")
	if err != nil || !old {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("migrate to room ids: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	steps := []string{
		`ALTER TABLE messages RENAME TO messages_by_name`,
		`ALTER TABLE rooms RENAME TO rooms_by_name_old`,
		`DROP INDEX IF EXISTS messages_room_seq`,
		messagesSchema,
		`INSERT INTO rooms (room) SELECT room FROM rooms_by_name_old UNION SELECT DISTINCT room FROM messages_by_name ORDER BY 1`,
		`INSERT INTO messages (id, room_id, ` + rowColumns + `)
			SELECT m.id, rooms.id, m.seq, m.ts, m.user_id, m.user_name, m.gender, m.color, m.to_user_id, m.text, m.client_msg_id
			FROM messages_by_name m JOIN rooms ON rooms.room = m.room ORDER BY m.id`,
		`INSERT INTO room_seqs (room_id, seq, msg_id) SELECT room_id, seq, id FROM messages ORDER BY room_id, seq`,
		`DROP TABLE messages_by_name`,
		`DROP TABLE rooms_by_name_old`,
	}
	for _, step := range steps {
		if _, err := tx.Exec(step); err != nil {
			return fmt.Errorf("migrate to room ids: %s: %w", strings.Fields(step)[0:3], err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate to room ids: commit: %w", err)
	}
	return nil
}

func hasColumn(db *sql.DB, table, column string) (bool, error) {
	var n int
	err := db.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("columns of %s: %w", table, err)
	}
	return n > 0, nil
}

// secretArg is s as SQLite gets it: a nil slice would be stored as NULL, which the
// NOT NULL column refuses.
func secretArg(s []byte) []byte {
	if s == nil {
		return []byte{}
	}
	return s
}

// migrateMessageFiles adds messages.file (the file a line carries) to a history made
// before uploads; old lines carry none.
func migrateMessageFiles(db *sql.DB) error {
	has, err := hasColumn(db, "messages", "file")
	if err != nil || has {
		return err
	}
	if _, err := db.Exec(`ALTER TABLE messages ADD COLUMN file TEXT NOT NULL DEFAULT ''`); err != nil {
		return fmt.Errorf("add messages.file: %w", err)
	}
	return nil
}

// migrateAppliedStreamSeq gives a history made before the cluster its applied stream
// seq (docs/CLUSTER.md): 0, a node that has consumed nothing. It lives in meta, which
// every history has, so no table changes; the row is seeded only if it is missing.
func migrateAppliedStreamSeq(db *sql.DB) error {
	_, err := db.Exec(`INSERT INTO meta (k, v) SELECT ?1, 0 WHERE NOT EXISTS (SELECT 1 FROM meta WHERE k = ?1)`, appliedKey)
	if err != nil {
		return fmt.Errorf("seed %s: %w", appliedKey, err)
	}
	return nil
}
