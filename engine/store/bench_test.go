package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDurableGroupCommit: messages/s that reach disk durably (WAL,
// synchronous=FULL) through the Writer, the way the chat writes them: one producer
// queues as fast as it can, the Writer commits whatever gathered per fsync.
func BenchmarkDurableGroupCommit(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	var committed atomic.Int64
	var batches atomic.Int64
	// No queue bound: this producer never waits for a commit, so at 32 MiB the
	// Writer would refuse (and the benchmark lose) lines.
	limits := Limits{MaxQueueBytes: 1 << 40, Timeout: time.Hour}
	w := NewLimitedWriter(s, time.Millisecond, limits, func(bt *Batch, err error) {
		if err != nil {
			b.Error(err)
		}
		committed.Add(int64(len(bt.Messages)))
		batches.Add(1)
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m := Message{Room: "lobby", UserID: 1, UserName: "bench", Color: "#000", Text: "Привет, <b>Вася</b>! How are you &lt;3", ClientMsgID: "c"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		m.Seq = uint64(i + 1)
		m.TS = start.UnixMilli()
		w.AddMessage(m)
	}
	w.Close()
	elapsed := time.Since(start)
	if committed.Load() != int64(b.N) {
		b.Fatalf("committed %d of %d", committed.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/float64(batches.Load()), "msgs/commit")
}

// BenchmarkDurableAckAfterCommit: the chat's closed loop. window messages are in
// flight at once (think window clients, each waiting for its Sent before it sends the
// next); a message leaves the window only when its commit is durable, so the figure
// is durable, acknowledged messages per second at a realistic batch size.
func BenchmarkDurableAckAfterCommit(b *testing.B) {
	for _, shape := range []struct{ window, rooms int }{{16, 1}, {256, 1}, {4096, 1}, {256, 200}, {4096, 200}} {
		b.Run(fmt.Sprintf("window%d/rooms%d", shape.window, shape.rooms), func(b *testing.B) {
			ackAfterCommit(b, shape.window, shape.rooms)
		})
	}
}

// ackAfterCommit runs BenchmarkDurableAckAfterCommit's loop with lines spread
// round robin over rooms.
func ackAfterCommit(b *testing.B, window, rooms int) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	slots := make(chan struct{}, window)
	var batches atomic.Int64
	w := NewWriter(s, 0, func(bt *Batch, err error) {
		if err != nil {
			b.Error(err)
		}
		batches.Add(1)
		for range bt.Messages {
			<-slots
		}
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	names := make([]string, rooms)
	for r := range names {
		names[r] = fmt.Sprint("room-", r)
	}
	seqs := make([]uint64, rooms)
	m := Message{UserID: 1, UserName: "bench", Color: "#000", Text: "Привет, <b>Вася</b>! How are you &lt;3", ClientMsgID: "c"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		slots <- struct{}{}
		r := i % rooms
		seqs[r]++
		m.Room, m.Seq, m.TS = names[r], seqs[r], start.UnixMilli()
		w.AddMessage(m)
	}
	w.Close()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/float64(batches.Load()), "msgs/commit")
	b.ReportMetric(float64(batches.Load())/elapsed.Seconds(), "commits/s")
}

// BenchmarkCommitPages: pages one commit writes, the chat's common shape: many small
// rooms with history, each commit holding one line in each of roomsPerCommit rooms
// picked at random (the same sequence every run).
// Method: the pool is cut to one connection with automatic checkpoints off, so every
// page a commit dirtied stays in the WAL as one frame; PRAGMA wal_checkpoint's
// second column (frames in the WAL) divided by the commits is pages per commit.
func BenchmarkCommitPages(b *testing.B) {
	const rooms, history = 200, 100
	for _, roomsPerCommit := range []int{1, 20, 100} {
		b.Run(fmt.Sprint("rooms", roomsPerCommit), func(b *testing.B) {
			s := openTest(b, b.TempDir())
			defer s.Close()
			s.db.SetMaxOpenConns(1)
			ctx := context.Background()
			seq := make([]uint64, rooms)
			line := func(r int) Message {
				seq[r]++
				return Message{Room: fmt.Sprint("room-", r), Seq: seq[r], TS: time.Now().UnixMilli(), UserID: uint64(r + 1), UserName: "bench", Color: "#000", Text: "Привет, <b>Вася</b>! How are you &lt;3", ClientMsgID: fmt.Sprint("c", seq[r])}
			}
			for range history { // every room has a history before the measurement
				bt := &Batch{}
				for r := range rooms {
					bt.Messages = append(bt.Messages, line(r))
				}
				if err := s.Write(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			walFrames := func(mode string) int64 {
				var busy, frames, done int64
				if err := s.db.QueryRow("PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &done); err != nil {
					b.Fatal(err)
				}
				return frames
			}
			walFrames("TRUNCATE")
			if _, err := s.db.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
				b.Fatal(err)
			}
			pick := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bt := &Batch{}
				for _, r := range pick.Perm(rooms)[:roomsPerCommit] {
					bt.Messages = append(bt.Messages, line(r))
				}
				if err := s.Write(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			frames := walFrames("PASSIVE")
			b.ReportMetric(float64(frames)/float64(b.N), "pages/commit")
			b.ReportMetric(float64(frames)*float64(4096+24)/float64(b.N*roomsPerCommit), "walbytes/msg")
		})
	}
}

// BenchmarkHistoryRead: one History of 50 lines (what a login or a join reads) in a
// history of 200 rooms, with the unindexed tail nearly full: the read side's cost of
// indexing in bulk.
func BenchmarkHistoryRead(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	ctx := context.Background()
	const rooms = 200
	seq := make([]uint64, rooms)
	for i := range 100*rooms + 1000 { // 100 lines a room indexed, then ~1,000 in the tail
		r := i % rooms
		seq[r]++
		m := Message{Room: fmt.Sprint("room-", r), Seq: seq[r], TS: 1, UserID: 1, UserName: "bench", Color: "#000", Text: "Привет, <b>Вася</b>! How are you &lt;3"}
		if err := s.Write(ctx, &Batch{Messages: []Message{m}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		msgs, _, err := s.History(ctx, fmt.Sprint("room-", i%rooms), 0, 50)
		if err != nil || len(msgs) != 50 {
			b.Fatalf("History = %d lines, %v", len(msgs), err)
		}
	}
}
