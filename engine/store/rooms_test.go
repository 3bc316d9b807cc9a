package store

import (
	"context"
	"testing"
	"time"
)

// TestLoadHasEachRoomsLastTime: State.LastTS is the time of each room's newest line,
// whether its index entry is still in tail_seqs, moved to room_seqs, or newer in
// tail_seqs than in room_seqs.
func TestLoadHasEachRoomsLastTime(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	at := func(room string, seq uint64, ts int64) Message {
		m := msg(room, seq, "")
		m.TS = ts
		return m
	}
	write := func(msgs ...Message) {
		t.Helper()
		if err := s.Write(ctx, &Batch{Messages: msgs}); err != nil {
			t.Fatal(err)
		}
	}
	var moved []Message
	for i := range uint64(tailRows) { // fills tail_seqs: the commit moves it to room_seqs
		moved = append(moved, at("@1-2", i+1, int64(1000+i)))
	}
	moved = append(moved, at("lobby", 1, 50))
	write(moved...)
	write(at("@1-2", tailRows+1, 9000), at("@3-4", 1, 7000), at("@3-4", 2, 7001))
	state, err := s.Load(ctx, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for room, want := range map[string]int64{"@1-2": 9000, "@3-4": 7001, "lobby": 50} {
		if got := state.LastTS[room]; got != want {
			t.Errorf("LastTS[%s] = %d, want %d", room, got, want)
		}
	}
	var inTail int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM tail_seqs JOIN rooms ON rooms.id = room_id WHERE room = '@1-2' AND seq <= ?`, tailRows).Scan(&inTail); err != nil || inTail != 0 {
		t.Fatalf("the first commit's entries are still in tail_seqs (%d, %v): the test does not cover room_seqs", inTail, err)
	}
}
