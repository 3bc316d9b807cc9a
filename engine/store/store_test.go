package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTest(t testing.TB, dir string) *SQLite {
	t.Helper()
	s, err := OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func msg(room string, seq uint64, cid string) Message {
	return Message{Room: room, Seq: seq, TS: time.Now().UnixMilli(), UserID: 7, UserName: "Вася", Color: "#000", Text: fmt.Sprintf("m%d", seq), ClientMsgID: cid}
}

// durabilities are the levels every durability test runs at.
var durabilities = []Durability{DurabilityPower, DurabilityCrash}

func openTestWith(t testing.TB, dir string, d Durability) *SQLite {
	t.Helper()
	s, err := OpenSQLiteWith(dir, Options{Durability: d})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDurabilitySetsSynchronous: each level runs every connection of the pool at its
// synchronous setting, and an unknown level is refused before anything is opened.
func TestDurabilitySetsSynchronous(t *testing.T) {
	for d, want := range map[Durability]int{DurabilityPower: 2, DurabilityCrash: 1} { // FULL, NORMAL
		s := openTestWith(t, t.TempDir(), d)
		conns := make([]*sql.Conn, 3) // held at once, so each is a connection of its own
		for i := range conns {
			c, err := s.db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			conns[i] = c
			var got int
			if err := c.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&got); err != nil || got != want {
				t.Errorf("%s: connection %d has synchronous=%d (%v), want %d", d, i, got, err, want)
			}
		}
		for _, c := range conns {
			c.Close()
		}
		s.Close()
	}
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := OpenSQLiteWith(dir, Options{Durability: "fsync"}); err == nil {
		t.Fatal("durability fsync was accepted")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused durability made the data dir: %v", err)
	}
}

func TestSQLiteWriteLoadHistoryRange(t *testing.T) {
	for _, d := range durabilities {
		t.Run(string(d), func(t *testing.T) { testWriteLoadHistoryRange(t, d) })
	}
}

func testWriteLoadHistoryRange(t *testing.T, d Durability) {
	dir := t.TempDir()
	s := openTestWith(t, dir, d)
	ctx := context.Background()
	b := &Batch{Sessions: []Session{{UserID: 42, Name: "Bob", Color: "#fff", Online: true, LastSeen: 1}}}
	for i := uint64(1); i <= 10; i++ {
		b.Messages = append(b.Messages, msg("lobby", i, fmt.Sprint("c", i)))
	}
	b.Messages = append(b.Messages, msg("@42", 1, ""))
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	// A retried batch is a no-op, not an error.
	if err := s.Write(ctx, b); err != nil {
		t.Fatalf("retry: %v", err)
	}
	got, more, err := s.History(ctx, "lobby", 0, 3)
	if err != nil || !more || len(got) != 3 || got[0].Seq != 8 || got[2].Seq != 10 || got[0].UserName != "Вася" {
		t.Fatalf("History(latest 3) = %+v more=%v err=%v", got, more, err)
	}
	got, more, err = s.History(ctx, "lobby", 3, 5)
	if err != nil || more || len(got) != 2 || got[0].Seq != 1 {
		t.Fatalf("History(before 3) = %+v more=%v err=%v", got, more, err)
	}
	rng, err := s.Range(ctx, "lobby", 4, 7, 100)
	if err != nil || len(rng) != 3 || rng[0].Seq != 5 || rng[2].Seq != 7 {
		t.Fatalf("Range(4,7] = %+v, %v", rng, err)
	}
	s.Close()

	s = openTestWith(t, dir, d)
	defer s.Close()
	st, err := s.Load(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.LastSeq["lobby"] != 10 || st.LastSeq["@42"] != 1 || st.MaxUserID != 42 || len(st.Sessions) != 1 || len(st.ClientMsgs) != 10 {
		t.Fatalf("Load = %+v", st)
	}
	// Offline sessions older than the cutoff are forgotten.
	if err := s.Write(ctx, &Batch{Sessions: []Session{{UserID: 42, Name: "Bob", LastSeen: 1}}}); err != nil {
		t.Fatal(err)
	}
	if st, err = s.Load(ctx, time.Now()); err != nil || len(st.Sessions) != 0 || len(st.ClientMsgs) != 0 {
		t.Fatalf("Load after cutoff = %+v, %v", st, err)
	}
}

func TestWriterCommitsInOrderAndCloseFlushes(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	var mu sync.Mutex
	var seqs []uint64
	w := NewWriter(s, time.Millisecond, func(b *Batch, err error) {
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		for _, m := range b.Messages {
			seqs = append(seqs, m.Seq)
		}
		mu.Unlock()
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := uint64(1); i <= 1000; i++ {
		w.AddMessage(msg("r", i, ""))
	}
	w.Close()
	w.Close()
	if len(seqs) != 1000 {
		t.Fatalf("committed %d, want 1000", len(seqs))
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("commit order broken at %d: %d", i, s)
		}
	}
}

// A batch bigger than one INSERT statement (full statements and a remainder) is
// stored whole and in order.
func TestSQLiteWritesBatchesLargerThanOneStatement(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	const n = 2<<(insertSizes-1) + 7 // 256+256+4+2+1: full statements and every remainder size
	b := &Batch{}
	for i := uint64(1); i <= n; i++ {
		b.Messages = append(b.Messages, msg("big", i, fmt.Sprint("c", i)))
	}
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Range(ctx, "big", 0, n, n)
	if err != nil || len(got) != n {
		t.Fatalf("Range = %d messages, %v; want %d", len(got), err, n)
	}
	for i, m := range got {
		if m.Seq != uint64(i+1) || m.Text != fmt.Sprintf("m%d", i+1) || m.ClientMsgID != fmt.Sprint("c", i+1) {
			t.Fatalf("message %d = %+v", i, m)
		}
	}
}

// max_user_id only grows, across reopenings too (a commit skips it when it did not grow).
func TestSQLiteMaxUserIDOnlyGrows(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, tt := range []struct{ write, want uint64 }{{42, 42}, {7, 42}, {50, 50}, {50, 50}} {
		s := openTest(t, dir)
		if err := s.Write(ctx, &Batch{Messages: []Message{msg("lobby", tt.write, "")}, Sessions: []Session{{UserID: tt.write, Name: "U", Color: "#fff", Online: true, LastSeen: time.Now().UnixMilli()}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, &Batch{Sessions: []Session{{UserID: tt.write - 1, Name: "V", Color: "#fff", Online: true, LastSeen: time.Now().UnixMilli()}}}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = openTest(t, dir)
		st, err := s.Load(ctx, time.Now().Add(-time.Hour))
		s.Close()
		if err != nil || st.MaxUserID != tt.want {
			t.Fatalf("after writing user %d: MaxUserID = %d, %v; want %d", tt.write, st.MaxUserID, err, tt.want)
		}
	}
}
