package store

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestAppliedStreamSeqCommitsWithLines: a cluster consumer's lines and their stream
// seq are one commit; after a reopen Load gives the seq back; a line whose (room,
// seq) is stored already is a no-op; a batch of only a stream seq commits; a lower
// seq never lowers it.
func TestAppliedStreamSeqCommitsWithLines(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := openTest(t, dir)
	committed := make(chan Batch, 8)
	w := NewWriter(s, time.Millisecond, func(b *Batch, err error) {
		if err != nil {
			t.Error(err)
		}
		committed <- *b
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.AddApplied(5, msg("lobby", 1, "a"), msg("lobby", 2, ""))
	if b := <-committed; b.AppliedStreamSeq != 5 || len(b.Messages) != 2 {
		t.Fatalf("onCommit got stream seq %d and %d lines, want 5 and 2", b.AppliedStreamSeq, len(b.Messages))
	}
	w.Close()
	s.Close()

	s = openTest(t, dir)
	defer s.Close()
	st, err := s.Load(ctx, time.Unix(0, 0))
	if err != nil || st.AppliedStreamSeq != 5 || st.LastSeq["lobby"] != 2 {
		t.Fatalf("after reopening: applied %d, lobby's last seq %d, %v; want 5, 2", st.AppliedStreamSeq, st.LastSeq["lobby"], err)
	}
	copyOf2 := msg("lobby", 2, "")
	copyOf2.Text = "not this one"
	w = NewWriter(s, 0, func(b *Batch, err error) {
		if err != nil {
			t.Error(err)
		}
		committed <- *b
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer w.Close()
	w.AddApplied(9, copyOf2, msg("lobby", 3, ""))
	<-committed
	w.AddApplied(12) // a stream message with no line still moves the seq on
	if b := <-committed; b.AppliedStreamSeq != 12 {
		t.Fatalf("a batch of only a stream seq committed %d", b.AppliedStreamSeq)
	}
	w.AddApplied(3)
	<-committed
	lobby, err := s.Range(ctx, "lobby", 0, 100, 100)
	if err != nil || len(lobby) != 3 || lobby[1].Text != "m2" || lobby[2].Seq != 3 {
		t.Fatalf("lobby = %+v, %v; want m1, m2 (not its copy), m3", lobby, err)
	}
	if st, err = s.Load(ctx, time.Unix(0, 0)); err != nil || st.AppliedStreamSeq != 12 {
		t.Fatalf("applied stream seq = %d, %v; want 12", st.AppliedStreamSeq, err)
	}
}

// TestMigrationSeedsAppliedStreamSeq: a history made before the cluster (here the
// oldest schema, with max_user_id in meta) opens with applied stream seq 0 and the
// row present; a second open keeps a seq written since and changes nothing else.
func TestMigrationSeedsAppliedStreamSeq(t *testing.T) {
	dir := t.TempDir()
	execRaw(t, dir, roomNamesSchema)

	ctx := context.Background()
	for round, want := range []uint64{0, 77} {
		s := openTest(t, dir)
		var rows int
		if err := s.db.QueryRow(`SELECT count(*) FROM meta WHERE k = ?`, appliedKey).Scan(&rows); err != nil || rows != 1 {
			t.Fatalf("round %d: %d %s rows (%v), want 1", round, rows, appliedKey, err)
		}
		st, err := s.Load(ctx, time.Unix(0, 0))
		if err != nil || st.AppliedStreamSeq != want || st.MaxUserID != 9 {
			t.Fatalf("round %d: applied %d, max user id %d, %v; want %d, 9", round, st.AppliedStreamSeq, st.MaxUserID, err, want)
		}
		if err := s.Write(ctx, &Batch{AppliedStreamSeq: 77}); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
