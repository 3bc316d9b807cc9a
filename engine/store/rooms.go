package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
)

// loadRooms reads every room's id and last seq, once at open.
func (s *SQLite) loadRooms(ctx context.Context) error {
	last, names, err := s.loadLastSeqs(ctx)
	if err != nil {
		return err
	}
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	for id, room := range names {
		s.roomIDs[room] = id
	}
	s.roomLast = last
	return nil
}

// withoutCopies is msgs without the messages stored already: a batch retried after
// a commit that failed unclearly. A room's seqs are written in increasing order, so
// only a seq at or below the room's last one can be a copy; only those are looked up.
func (s *SQLite) withoutCopies(ctx context.Context, tx *sql.Tx, msgs []Message) ([]Message, error) {
	var kept []Message // nil until a message is dropped
	for i := range msgs {
		m := &msgs[i]
		s.roomMu.Lock()
		id, known := s.roomIDs[m.Room]
		maybe := known && m.Seq <= s.roomLast[m.Room]
		s.roomMu.Unlock()
		stored := false
		if maybe {
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM room_seqs WHERE room_id = ?1 AND seq = ?2)
				OR EXISTS (SELECT 1 FROM tail_seqs WHERE room_id = ?1 AND seq = ?2)`, id, int64(m.Seq)).Scan(&stored)
			if err != nil {
				return nil, fmt.Errorf("store: is %s/%d stored: %w", m.Room, m.Seq, err)
			}
		}
		if stored && kept == nil {
			kept = append(make([]Message, 0, len(msgs)), msgs[:i]...)
		} else if !stored && kept != nil {
			kept = append(kept, *m)
		}
	}
	if kept == nil {
		return msgs, nil
	}
	return kept, nil
}

// roomsCommitted records msgs' rooms (new ids and last seqs) once their commit succeeded.
func (s *SQLite) roomsCommitted(msgs []Message, newRooms map[string]int64) {
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	maps.Copy(s.roomIDs, newRooms)
	for i := range msgs {
		s.roomLast[msgs[i].Room] = max(s.roomLast[msgs[i].Room], msgs[i].Seq)
	}
}

// takeRoomIDs gives each room of msgs that has no id yet one, in tx, and returns
// those (nil if none): the caller keeps them once tx commits. The same room name
// always gets the same id, even if another connection took it meanwhile.
func (s *SQLite) takeRoomIDs(ctx context.Context, tx *sql.Tx, msgs []Message) (map[string]int64, error) {
	var fresh map[string]int64
	s.roomMu.Lock()
	for i := range msgs {
		if _, ok := s.roomIDs[msgs[i].Room]; !ok {
			if fresh == nil {
				fresh = make(map[string]int64)
			}
			fresh[msgs[i].Room] = 0
		}
	}
	s.roomMu.Unlock()
	if fresh == nil {
		return nil, nil
	}
	add, get := tx.StmtContext(ctx, s.addRoom), tx.StmtContext(ctx, s.roomID)
	for room := range fresh {
		if _, err := add.ExecContext(ctx, room); err != nil {
			return nil, fmt.Errorf("store: add room %s: %w", room, err)
		}
		var id int64
		if err := get.QueryRowContext(ctx, room).Scan(&id); err != nil {
			return nil, fmt.Errorf("store: id of room %s: %w", room, err)
		}
		fresh[room] = id
	}
	return fresh, nil
}

// loadLastTimes returns the time of each room's newest line, in one query at load:
// the chat orders a user's dialogs by it. Read one room at a time (Range), 50,000
// dialogs took 5.4 s of the start (108 µs each); this reads four index entries and a
// row per room. A seq is in tail_seqs or room_seqs, so the newer of the two wins.
func (s *SQLite) loadLastTimes(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT room,
		(SELECT seq FROM tail_seqs WHERE room_id = rooms.id ORDER BY seq DESC LIMIT 1),
		(SELECT ts FROM messages WHERE id = (SELECT msg_id FROM tail_seqs WHERE room_id = rooms.id ORDER BY seq DESC LIMIT 1)),
		(SELECT seq FROM room_seqs WHERE room_id = rooms.id ORDER BY seq DESC LIMIT 1),
		(SELECT ts FROM messages WHERE id = (SELECT msg_id FROM room_seqs WHERE room_id = rooms.id ORDER BY seq DESC LIMIT 1))
		FROM rooms`)
	if err != nil {
		return nil, fmt.Errorf("store: load last times: %w", err)
	}
	last := make(map[string]int64)
	for rows.Next() {
		var room string
		var tailSeq, tailTS, seq, ts sql.NullInt64
		if err := rows.Scan(&room, &tailSeq, &tailTS, &seq, &ts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load last times: %w", err)
		}
		if tailSeq.Valid && (!seq.Valid || tailSeq.Int64 > seq.Int64) {
			seq, ts = tailSeq, tailTS
		}
		if ts.Valid {
			last[room] = ts.Int64
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: load last times: %w", err)
	}
	return last, nil
}

// loadLastSeqs returns each room's highest seq and the rooms' names by id: the
// max of its index, one descent of room_seqs and of tail_seqs per room.
func (s *SQLite) loadLastSeqs(ctx context.Context) (map[string]uint64, map[int64]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, room, max(
		coalesce((SELECT max(seq) FROM room_seqs WHERE room_id = rooms.id), 0),
		coalesce((SELECT max(seq) FROM tail_seqs WHERE room_id = rooms.id), 0))
		FROM rooms`)
	if err != nil {
		return nil, nil, fmt.Errorf("store: load rooms: %w", err)
	}
	last, names := make(map[string]uint64), make(map[int64]string)
	for rows.Next() {
		var id, seq int64
		var room string
		if err := rows.Scan(&id, &room, &seq); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("store: load rooms: %w", err)
		}
		names[id] = room
		if seq > 0 {
			last[room] = uint64(seq)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, nil, fmt.Errorf("store: load rooms: %w", err)
	}
	return last, names, nil
}
