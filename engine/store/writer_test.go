package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// diskFull makes the real database full: SQLite's max_page_count fails every commit
// that needs a new page with SQLITE_FULL, "database or disk is full", the very
// error a full disk gives (a full filesystem cannot be made without root and a
// mount). The pool is cut to one connection so the pragma holds for every write.
func diskFull(t *testing.T, s *SQLite, full bool) {
	t.Helper()
	s.db.SetMaxOpenConns(1)
	var pages int64
	if err := s.db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	limit := int64(1 << 30)
	if full {
		limit = pages
	}
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", limit)); err != nil {
		t.Fatal(err)
	}
}

// bulky is a message that needs pages of its own.
func bulky(seq uint64) Message {
	m := msg("r", seq, fmt.Sprint("c", seq))
	m.Text = strings.Repeat("x", 8000)
	return m
}

// commitLog records what a Writer reported, safe from its goroutine.
type commitLog struct {
	mu        sync.Mutex
	committed []uint64
	failed    int
}

func (l *commitLog) onCommit(b *Batch, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed++
		return
	}
	for _, m := range b.Messages {
		l.committed = append(l.committed, m.Seq)
	}
}

func (l *commitLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.committed)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestWriterRefusesWhileTheDiskIsFull: on a full database a commit is retried; once
// it has failed for the Timeout, or once the queue holds MaxQueueBytes, new
// messages are refused with ErrUnavailable; when space comes back what was
// accepted is committed, each once, nothing refused is, and messages are taken again.
func TestWriterRefusesWhileTheDiskIsFull(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
	}{
		{"commits failing for the timeout", Limits{MaxQueueBytes: 1 << 30, Timeout: 300 * time.Millisecond}},
		{"queue full", Limits{MaxQueueBytes: 64 << 10, Timeout: time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, t.TempDir())
			defer s.Close()
			var log commitLog
			w := NewLimitedWriter(s, 0, tt.limits, log.onCommit, slog.New(slog.NewTextHandler(io.Discard, nil)))
			seq := uint64(0)
			add := func() error {
				err := w.AddMessage(bulky(seq + 1))
				if err == nil {
					seq++
				}
				return err
			}
			if err := add(); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the first commit", func() bool { return log.count() == 1 })

			diskFull(t, s, true)
			var refused error
			for range 10_000 {
				if refused = add(); refused != nil {
					break
				}
				if tt.limits.Timeout < time.Hour {
					time.Sleep(time.Millisecond) // let the failing commit age
				}
			}
			if !errors.Is(refused, ErrUnavailable) {
				t.Fatalf("AddMessage on a full disk = %v, want ErrUnavailable", refused)
			}
			if err := w.Refusal(); tt.limits.Timeout < time.Hour && !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Refusal = %v", err)
			}
			if held := w.QueuedBytes(); held > tt.limits.MaxQueueBytes {
				t.Fatalf("the writer holds %d bytes, above its limit %d", held, tt.limits.MaxQueueBytes)
			}
			if n := log.count(); n != 1 {
				t.Fatalf("%d messages reported committed on a full disk", n)
			}

			diskFull(t, s, false)
			eventually(t, "the backlog committed", func() bool { return log.count() == int(seq) })
			if err := add(); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
			w.Close()
			got, err := s.Range(context.Background(), "r", 0, 1<<40, 1<<20)
			if err != nil || len(got) != int(seq) || log.failed != 0 {
				t.Fatalf("stored %d messages (%v), %d failures; want %d, none", len(got), err, log.failed, seq)
			}
			for i, m := range got {
				if m.Seq != uint64(i+1) {
					t.Fatalf("stored message %d has seq %d", i, m.Seq)
				}
			}
		})
	}
}

// gatedStore is the real SQLite whose Write waits for the test's go-ahead, so a
// commit can be held in progress while records queue.
type gatedStore struct {
	*SQLite
	entered chan int // the size of each batch whose Write started
	release chan struct{}
}

func (g *gatedStore) Write(ctx context.Context, b *Batch) error {
	g.entered <- len(b.Messages)
	<-g.release
	return g.SQLite.Write(ctx, b)
}

// TestWriterBatchesByLoad: a commit starts as soon as the previous one ended, with
// everything that queued during it as one batch, however long the idle interval; an
// idle Writer's wait ends early once a full INSERT's worth is queued, and at Close.
func TestWriterBatchesByLoad(t *testing.T) {
	g := &gatedStore{SQLite: openTest(t, t.TempDir()), entered: make(chan int, 8), release: make(chan struct{})}
	defer g.Close()
	var log commitLog
	w := NewWriter(g, time.Hour, log.onCommit, slog.New(slog.NewTextHandler(io.Discard, nil)))
	seq := uint64(0)
	add := func(n int) {
		for range n {
			seq++
			if err := w.AddMessage(msg("r", seq, "")); err != nil {
				t.Fatal(err)
			}
		}
	}
	batch := func() int {
		select {
		case n := <-g.entered:
			return n
		case <-time.After(10 * time.Second):
			t.Fatal("no commit started within 10s")
			return 0
		}
	}
	add(gatherEnough) // ends the idle wait of an hour
	if n := batch(); n != gatherEnough {
		t.Fatalf("the first batch holds %d, want %d", n, gatherEnough)
	}
	add(300) // queued while the first commit is in progress
	g.release <- struct{}{}
	if n := batch(); n != 300 {
		t.Fatalf("the batch queued during a commit holds %d, want 300", n)
	}
	g.release <- struct{}{}
	add(1) // an idle Writer waits for company, but Close ends the wait
	close(g.release)
	closed := make(chan struct{})
	go func() { w.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the idle wait within 10s")
	}
	if got := log.count(); got != int(seq) {
		t.Fatalf("committed %d of %d", got, seq)
	}
}
