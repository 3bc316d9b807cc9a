package store

import (
	"context"
	"database/sql"
	"fmt"
)

// rowColumns are a message's columns after its room, as the first schema with room
// ids had them (migrate.go copies them); file came later.
const rowColumns = `seq, ts, user_id, user_name, gender, color, to_user_id, text, client_msg_id`

// A read of one room reads both parts of its index: tail_seqs (the newest lines)
// first, then room_seqs for the seqs below the tail's lowest. Lines only ever move
// from the tail to room_seqs, so a move between the two statements neither hides a
// line (it is in the first answer) nor shows one twice (the second stops below it).
// %s is the index table; ?1 is the room's name.
const roomRows = `SELECT ` + messageFields + `
	FROM %s i JOIN messages m ON m.id = i.msg_id WHERE i.room_id = (SELECT id FROM rooms WHERE room = ?1)`

// historyOf: ?2 before, ?3 limit; newest first. rangeOf: ?2 after, ?3 upto, ?4 limit; oldest first.
var (
	historyOf = map[string]string{}
	rangeOf   = map[string]string{}
)

func init() {
	for _, table := range []string{"room_seqs", "tail_seqs"} {
		historyOf[table] = fmt.Sprintf(roomRows, table) + ` AND i.seq < ?2 ORDER BY i.seq DESC LIMIT ?3`
		rangeOf[table] = fmt.Sprintf(roomRows, table) + ` AND i.seq > ?2 AND i.seq <= ?3 ORDER BY i.seq LIMIT ?4`
	}
}

// query runs one read of room's lines and appends them to out.
func (s *SQLite) query(ctx context.Context, out []Message, room, query string, args ...any) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, query, append([]any{room}, args...)...)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows, room, out)
}

// scanMessages reads room's rows.
func scanMessages(rows *sql.Rows, room string, out []Message) ([]Message, error) {
	for rows.Next() {
		m := Message{Room: room}
		if err := scanMessage(rows, &m); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	return out, closeRows(rows)
}

// messageFields are what every read of messages selects (from messages m), in
// scanMessage's order: History, Range and Search return the same messages.
const messageFields = `m.seq, m.ts, m.user_id, m.user_name, m.gender, m.color, m.to_user_id, m.text, m.client_msg_id, m.file,
	m.reply_to, m.edited_at, m.deleted`

// scanMessage reads the row's columns before (if any) and then messageFields into m.
func scanMessage(rows *sql.Rows, m *Message, before ...any) error {
	var seq, uid, to int64
	err := rows.Scan(append(before, &seq, &m.TS, &uid, &m.UserName, &m.Gender, &m.Color, &to, &m.Text, &m.ClientMsgID,
		&m.File, &m.ReplyTo, &m.EditedAt, &m.Deleted)...)
	m.Seq, m.UserID, m.ToUserID = uint64(seq), uint64(uid), uint64(to)
	return err
}

// History implements Store.
func (s *SQLite) History(ctx context.Context, room string, before uint64, limit int) ([]Message, bool, error) {
	if before == 0 || before > 1<<62 {
		before = 1 << 62
	}
	msgs, err := s.query(ctx, make([]Message, 0, limit+1), room, historyOf["tail_seqs"], int64(before), limit+1)
	if n := len(msgs); err == nil && n <= limit {
		if n > 0 {
			before = msgs[n-1].Seq
		}
		msgs, err = s.query(ctx, msgs, room, historyOf["room_seqs"], int64(before), limit+1-n)
	}
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
	upto = min(upto, 1<<62)
	tail, err := s.query(ctx, nil, room, rangeOf["tail_seqs"], int64(after), int64(upto), limit)
	if err == nil && len(tail) > 0 {
		upto = min(upto, tail[0].Seq-1)
	}
	var msgs []Message
	if err == nil {
		msgs, err = s.query(ctx, nil, room, rangeOf["room_seqs"], int64(after), int64(upto), limit)
	}
	if err != nil {
		return nil, fmt.Errorf("store: range of %s: %w", room, err)
	}
	msgs = append(msgs, tail...)
	return msgs[:min(len(msgs), limit)], nil
}
