package store

import (
	"context"
	"database/sql"
	"fmt"
)

// rowColumns are a message's columns after its room.
const rowColumns = `seq, ts, user_id, user_name, gender, color, to_user_id, text, client_msg_id`

// indexedRows and tailRowsOf are the two halves of a read of one room: the rows
// room_seqs points to, and the unindexed tail's rows of the room (index.go). Both
// take the room's name as ?1; one statement reads both in one snapshot, so a commit
// that indexes the tail meanwhile moves no row out of sight or into it twice.
const (
	roomOf      = `(SELECT id FROM rooms WHERE room = ?1)`
	indexedRows = `SELECT m.seq, m.ts, m.user_id, m.user_name, m.gender, m.color, m.to_user_id, m.text, m.client_msg_id
		FROM room_seqs i JOIN messages m ON m.id = i.msg_id WHERE i.room_id = ` + roomOf
	tailRowsOf = `SELECT ` + rowColumns + ` FROM messages
		WHERE id > (SELECT coalesce((SELECT v FROM meta WHERE k = 'indexed_upto'), 0)) AND room_id = ` + roomOf
)

// historySQL: ?2 before, ?3 limit; newest first.
const historySQL = `SELECT * FROM (` + indexedRows + ` AND i.seq < ?2 ORDER BY i.seq DESC LIMIT ?3)
	UNION ALL SELECT * FROM (` + tailRowsOf + ` AND seq < ?2)
	ORDER BY 1 DESC LIMIT ?3`

// rangeSQL: ?2 after, ?3 upto, ?4 limit; oldest first.
const rangeSQL = `SELECT * FROM (` + indexedRows + ` AND i.seq > ?2 AND i.seq <= ?3 ORDER BY i.seq LIMIT ?4)
	UNION ALL SELECT * FROM (` + tailRowsOf + ` AND seq > ?2 AND seq <= ?3)
	ORDER BY 1 LIMIT ?4`

// scanMessages reads room's rows.
func scanMessages(rows *sql.Rows, room string, out []Message) ([]Message, error) {
	for rows.Next() {
		var m Message
		var seq, uid, to int64
		if err := rows.Scan(&seq, &m.TS, &uid, &m.UserName, &m.Gender, &m.Color, &to, &m.Text, &m.ClientMsgID); err != nil {
			rows.Close()
			return nil, err
		}
		m.Room, m.Seq, m.UserID, m.ToUserID = room, uint64(seq), uint64(uid), uint64(to)
		out = append(out, m)
	}
	return out, closeRows(rows)
}

// History implements Store.
func (s *SQLite) History(ctx context.Context, room string, before uint64, limit int) ([]Message, bool, error) {
	if before == 0 || before > 1<<62 {
		before = 1 << 62
	}
	rows, err := s.db.QueryContext(ctx, historySQL, room, int64(before), limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: history of %s: %w", room, err)
	}
	msgs, err := scanMessages(rows, room, make([]Message, 0, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("store: history of %s: %w", room, err)
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, more, nil
}

// Range implements Store.
func (s *SQLite) Range(ctx context.Context, room string, after, upto uint64, limit int) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, rangeSQL, room, int64(after), int64(min(upto, 1<<62)), limit)
	if err != nil {
		return nil, fmt.Errorf("store: range of %s: %w", room, err)
	}
	msgs, err := scanMessages(rows, room, nil)
	if err != nil {
		return nil, fmt.Errorf("store: range of %s: %w", room, err)
	}
	return msgs, nil
}
