package store

import (
	"database/sql"
	"fmt"
)

// migrate brings a database made by an older chatd up to the current schema. Each
// step checks for what it adds, so it runs on every open and does nothing twice.
func migrate(db *sql.DB) error {
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
