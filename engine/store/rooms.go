package store

import (
	"context"
	"database/sql"
	"fmt"
)

// loadRoomIDs reads every room's id, once at open.
func (s *SQLite) loadRoomIDs() error {
	rows, err := s.db.Query(`SELECT id, room FROM rooms`)
	if err != nil {
		return fmt.Errorf("load room ids: %w", err)
	}
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	for rows.Next() {
		var id int64
		var room string
		if err := rows.Scan(&id, &room); err != nil {
			rows.Close()
			return fmt.Errorf("load room ids: %w", err)
		}
		s.roomIDs[room] = id
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("load room ids: %w", err)
	}
	return nil
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

// loadLastSeqs returns each room's highest seq and the rooms' names by id. The max
// of each room is one descent of messages_by_room, so this costs rooms × log(messages).
func (s *SQLite) loadLastSeqs(ctx context.Context) (map[string]uint64, map[int64]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, room, (SELECT max(seq) FROM messages WHERE room_id = rooms.id) FROM rooms`)
	if err != nil {
		return nil, nil, fmt.Errorf("store: load rooms: %w", err)
	}
	last, names := make(map[string]uint64), make(map[int64]string)
	for rows.Next() {
		var id int64
		var room string
		var seq sql.NullInt64
		if err := rows.Scan(&id, &room, &seq); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("store: load rooms: %w", err)
		}
		names[id] = room
		if seq.Valid {
			last[room] = uint64(seq.Int64)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, nil, fmt.Errorf("store: load rooms: %w", err)
	}
	return last, names, nil
}
