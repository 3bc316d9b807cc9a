package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// tailLength is how many lines tail_seqs indexes.
func tailLength(t *testing.T, s *SQLite) int {
	t.Helper()
	var n int
	err := s.db.QueryRow(`SELECT count(*) FROM tail_seqs`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkRoom: room holds seqs 1..n, whole and in order, through Range, History's
// pages and Load, wherever the boundary between index and tail falls.
func checkRoom(t *testing.T, s *SQLite, room string, n uint64) {
	t.Helper()
	ctx := context.Background()
	all, err := s.Range(ctx, room, 0, 1<<40, 1<<20)
	if err != nil || uint64(len(all)) != n {
		t.Fatalf("%s: Range = %d messages, %v; want %d", room, len(all), err, n)
	}
	for i, m := range all {
		if m.Seq != uint64(i+1) || m.Room != room || m.Text != fmt.Sprintf("m%d", i+1) {
			t.Fatalf("%s: message %d = %+v", room, i, m)
		}
	}
	if part, err := s.Range(ctx, room, n/2, n, 3); err != nil || len(part) != int(min(3, n-n/2)) || (len(part) > 0 && part[0].Seq != n/2+1) {
		t.Fatalf("%s: Range(%d, %d] limit 3 = %+v, %v", room, n/2, n, part, err)
	}
	got, more, err := s.History(ctx, room, n, 4) // the 4 before the newest
	if err != nil || more != (n > 5) || len(got) != int(min(4, n-1)) || (len(got) > 0 && got[len(got)-1].Seq != n-1) {
		t.Fatalf("%s: History(before %d, 4) = %+v more=%v, %v", room, n, got, more, err)
	}
	st, err := s.Load(ctx, time.Now().Add(-time.Hour))
	if err != nil || st.LastSeq[room] != n {
		t.Fatalf("%s: Load's last seq = %d, %v; want %d", room, st.LastSeq[room], err, n)
	}
}

// TestReadsSpanTheIndexAndTheTail: however many lines are indexed and however many
// wait in the tail, every read sees each message once and in order; the tail stays
// within its bound and an open moves all of it.
func TestReadsSpanTheIndexAndTheTail(t *testing.T) {
	for _, d := range durabilities {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			s := openTestWith(t, dir, d)
			ctx := context.Background()
			rooms := []string{"lobby", "dev", "@7"}
			seq := map[string]uint64{}
			sawTail, sawIndexed := false, false
			for batch := range 2*tailRows/7 + 5 { // batches of 7 lines over 3 rooms
				b := &Batch{}
				for i := range 7 {
					room := rooms[(batch+i)%len(rooms)]
					seq[room]++
					b.Messages = append(b.Messages, msg(room, seq[room], fmt.Sprint("c", seq[room])))
				}
				if err := s.Write(ctx, b); err != nil {
					t.Fatal(err)
				}
				n := tailLength(t, s)
				if n >= tailRows {
					t.Fatalf("the tail holds %d lines, bound %d", n, tailRows)
				}
				sawTail, sawIndexed = sawTail || n > 0, sawIndexed || n < 7*(batch+1)
				if batch%50 == 0 {
					for _, room := range rooms {
						checkRoom(t, s, room, seq[room])
					}
				}
			}
			if !sawTail || !sawIndexed {
				t.Fatalf("the test never had a tail (%v) or an index (%v)", sawTail, sawIndexed)
			}
			s.Close()

			s = openTestWith(t, dir, d)
			defer s.Close()
			if n := tailLength(t, s); n != 0 {
				t.Fatalf("after an open the tail holds %d lines", n)
			}
			for _, room := range rooms {
				checkRoom(t, s, room, seq[room])
			}
		})
	}
}

// TestRetriedBatchIsStoredOnce: a batch written again (a retry after a commit that
// failed unclearly), while its lines are in the tail or after they were indexed,
// stores nothing twice; a batch mixing copies and new lines stores the new ones.
func TestRetriedBatchIsStoredOnce(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	b := &Batch{Messages: []Message{msg("r", 1, "a"), msg("r", 2, "b"), msg("q", 1, "c")}}
	for range 2 {
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := s.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := indexTail(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	b.Messages = append(b.Messages, msg("r", 3, "d"))
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := s.db.QueryRow(`SELECT count(*) FROM messages`).Scan(&rows); err != nil || rows != 4 {
		t.Fatalf("messages holds %d rows (%v), want 4", rows, err)
	}
	checkRoom(t, s, "r", 3)
	checkRoom(t, s, "q", 1)
}
