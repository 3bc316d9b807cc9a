package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// message_search is the full-text index of messages' text (SQLite FTS5), one row per
// message with the message's rowid: text is the text as a reader sees it (mention
// tags dropped, HTML escapes undone), rk the message's room as one token, "r" and the
// room's id, so a search of some rooms is one FTS5 query, newest first, that stops at
// its limit. Contentless (an empty content option): the index keeps no copy of the text, which
// halved its size; contentless_delete lets a row be deleted by rowid alone.
const searchSchema = `CREATE VIRTUAL TABLE message_search USING fts5(text, rk, content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2')`

// searchTextSQL is searchText in SQL, on messages.text: mention tags out first, so a
// typed "<b>" (stored escaped) stays, then the escapes, &amp; last.
const searchTextSQL = `replace(replace(replace(replace(replace(replace(replace(text,
	'<b>', ' '), '</b>', ' '), '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#039;', ''''), '&amp;', '&')`

// indexSearchSQL indexes the n messages a transaction just appended (the highest
// rowids, as indexIntoTailSQL).
const indexSearchSQL = `INSERT INTO message_search (rowid, text, rk)
	SELECT id, ` + searchTextSQL + `, 'r' || room_id FROM messages WHERE id > (SELECT max(id) FROM messages) - ?`

var searchUnescaper = strings.NewReplacer("<b>", " ", "</b>", " ", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#039;", "'", "&amp;", "&")

// searchText is a stored (formatted) text as the index keeps it.
func searchText(text string) string { return searchUnescaper.Replace(text) }

// indexSearch indexes the n messages just inserted in tx.
func (s *SQLite) indexSearch(ctx context.Context, tx *sql.Tx, n int) error {
	if s.searchInsert == nil {
		return nil
	}
	if _, err := tx.StmtContext(ctx, s.searchInsert).ExecContext(ctx, n); err != nil {
		return fmt.Errorf("store: index %d lines for search: %w", n, err)
	}
	return nil
}

// messageRowID is the rowid of room/seq in tx, 0 if there is none.
func (s *SQLite) messageRowID(ctx context.Context, tx *sql.Tx, room string, seq uint64) (int64, error) {
	s.roomMu.Lock()
	roomID, ok := s.roomIDs[room]
	s.roomMu.Unlock()
	if !ok {
		return 0, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT msg_id FROM tail_seqs WHERE room_id = ?1 AND seq = ?2),
		(SELECT msg_id FROM room_seqs WHERE room_id = ?1 AND seq = ?2), 0)`, roomID, int64(seq)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: rowid of %s/%d: %w", room, seq, err)
	}
	return id, nil
}

// reindexSearch replaces the indexed text of room/seq with text (formatted, as
// stored), in tx: an edit calls it in the transaction that changes the message, so
// a search never finds the old text once the edit is committed. Nothing happens for
// a message that is not stored.
func (s *SQLite) reindexSearch(ctx context.Context, tx *sql.Tx, room string, seq uint64, text string) error {
	id, err := s.messageRowID(ctx, tx, room, seq)
	if err != nil || id == 0 {
		return err
	}
	s.roomMu.Lock()
	roomID := s.roomIDs[room]
	s.roomMu.Unlock()
	if _, err := tx.ExecContext(ctx, `DELETE FROM message_search WHERE rowid = ?`, id); err != nil {
		return fmt.Errorf("store: reindex %s/%d: %w", room, seq, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO message_search (rowid, text, rk) VALUES (?, ?, ?)`,
		id, searchText(text), "r"+strconv.FormatInt(roomID, 10)); err != nil {
		return fmt.Errorf("store: reindex %s/%d: %w", room, seq, err)
	}
	return nil
}

// unindexSearch takes room/seq out of the search index, in tx: a delete calls it in
// the transaction that removes the text.
func (s *SQLite) unindexSearch(ctx context.Context, tx *sql.Tx, room string, seq uint64) error {
	id, err := s.messageRowID(ctx, tx, room, seq)
	if err != nil || id == 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM message_search WHERE rowid = ?`, id); err != nil {
		return fmt.Errorf("store: unindex %s/%d: %w", room, seq, err)
	}
	return nil
}

// minPrefix is the shortest term matched as a prefix; a shorter one matches whole
// words only: the prefix "a" would merge the postings of every word starting with a.
const minPrefix = 3

// searchMatch is the FTS5 expression for terms in the rooms with roomIDs: every term
// quoted (so no user input is FTS5 syntax), a prefix from minPrefix characters on,
// all of them required.
func searchMatch(roomIDs []int64, terms []string) string {
	var b strings.Builder
	b.WriteString("rk : (")
	for i, id := range roomIDs {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("r" + strconv.FormatInt(id, 10))
	}
	b.WriteString(") AND text : (")
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(`"` + strings.ReplaceAll(t, `"`, `""`) + `"`)
		if utf8.RuneCountInString(t) >= minPrefix {
			b.WriteByte('*')
		}
	}
	b.WriteString(")")
	return b.String()
}

// searchSQL: ?1 the match, ?2 the limit; newest first.
const searchSQL = `SELECT r.room, ` + messageFields + `
	FROM (SELECT rowid AS id FROM message_search WHERE message_search MATCH ?1 ORDER BY rowid DESC LIMIT ?2) f
	JOIN messages m ON m.id = f.id JOIN rooms r ON r.id = m.room_id ORDER BY f.id DESC`

// Search implements Store.
func (s *SQLite) Search(ctx context.Context, rooms, terms []string, limit int) ([]Message, error) {
	ids := make([]int64, 0, len(rooms))
	s.roomMu.Lock()
	for _, room := range rooms {
		if id, ok := s.roomIDs[room]; ok {
			ids = append(ids, id)
		}
	}
	s.roomMu.Unlock()
	if len(ids) == 0 || len(terms) == 0 || limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, searchSQL, searchMatch(ids, terms), limit)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	var out []Message
	for rows.Next() {
		var m Message
		if err := scanMessage(rows, &m, &m.Room); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: search: %w", err)
		}
		out = append(out, m)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	return out, nil
}

// migrateSearch creates the search index (issue 15) and, in the same transaction,
// indexes every message stored before it: one pass over the messages, at the first
// open after the upgrade (a crash in the middle leaves no index, made again at the
// next open). A database that has the index is left as it is.
func migrateSearch(db *sql.DB) (err error) {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'message_search'`).Scan(&n); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	if n > 0 {
		return nil
	}
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.Exec(searchSchema); err != nil {
		return fmt.Errorf("search index: create: %w", err)
	}
	if _, err := tx.Exec(`INSERT INTO message_search (rowid, text, rk) SELECT id, ` + searchTextSQL + `, 'r' || room_id FROM messages`); err != nil {
		return fmt.Errorf("search index: index the messages: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("search index: commit: %w", err)
	}
	return nil
}
