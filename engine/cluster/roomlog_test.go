package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/cluster/natstest"
)

func TestSubject(t *testing.T) {
	for _, c := range []struct{ room, want string }{
		{"lobby", "chatd.line.r.lobby"},
		{"a.b", "chatd.line.r.a=b"},
		{"dev-1_x", "chatd.line.r.dev-1_x"},
		{"@7", "chatd.line.u.7"},
		{"@3-7", "chatd.line.d.3-7"},
	} {
		if got := Subject(c.room); got != c.want {
			t.Errorf("Subject(%q) = %q, want %q", c.room, got, c.want)
		}
	}
}

// linesStream starts a real nats-server and makes the lines stream on it.
func linesStream(t *testing.T) (*natstest.Server, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	ns := natstest.Start(t)
	js, err := jetstream.New(ns.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.CreateOrUpdateStream(ctx, LinesConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	return ns, js, s
}

// appendRetrying is a publisher's loop: append at its tip; when another publisher
// was first, load the tip and renumber. It returns the seq the line got.
func appendRetrying(ctx context.Context, js jetstream.JetStream, s jetstream.Stream, tip *Tip, room, msgID string, stale *atomic.Int64) (uint64, error) {
	for {
		next, err := AppendLine(ctx, js, room, *tip, msgID, []byte(msgID))
		if err == nil {
			*tip = next
			return next.Seq, nil
		}
		if !errors.Is(err, ErrStaleTip) {
			return 0, err
		}
		stale.Add(1)
		if *tip, err = LoadTip(ctx, s, room); err != nil {
			return 0, err
		}
	}
}

// TestRacingPublishersGetGapFreeSeqs: publishers on separate connections append to
// one room at once; every line is stored once, and the room's seqs in stream order
// are 1..N without a gap, so every reader sees one order.
func TestRacingPublishersGetGapFreeSeqs(t *testing.T) {
	const publishers, lines, room = 3, 100, "lobby"
	ns, _, s := linesStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var stale atomic.Int64
	errs := make(chan error, publishers)
	for p := range publishers {
		js, err := jetstream.New(ns.Connect(t)) // a node of its own
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tip Tip
			for i := range lines {
				if _, err := appendRetrying(ctx, js, s, &tip, room, fmt.Sprintf("p%d-%d", p, i), &stale); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d appends lost a race and were renumbered", stale.Load())
	seen := readRoom(t, ctx, s, room, publishers*lines)
	if len(seen) != publishers*lines {
		t.Fatalf("%d distinct lines stored, want %d", len(seen), publishers*lines)
	}
}

// readRoom reads room's lines in stream order, checks their seqs are 1..want, and
// returns the msgIds seen (each must be seen once).
func readRoom(t *testing.T, ctx context.Context, s jetstream.Stream, room string, want int) map[string]bool {
	t.Helper()
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{Subject(room)}})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool, want)
	for i := 1; i <= want; i++ {
		m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("line %d of %d: %v", i, want, err)
		}
		if got := m.Headers().Get(HeaderSeq); got != strconv.Itoa(i) {
			t.Fatalf("line %d in stream order has seq %s", i, got)
		}
		id := m.Headers().Get(jetstream.MsgIDHeader)
		if seen[id] {
			t.Fatalf("%s stored twice", id)
		}
		seen[id] = true
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(want) {
		t.Fatalf("stream holds %d lines, want %d", info.State.Msgs, want)
	}
	return seen
}

// TestRetriedLineIsStoredOnce: a publisher that lost its ack retries with the same
// Nats-Msg-Id. With its old tip, a stream of one replica answers "wrong last
// sequence" (it checks that before duplicates; a replicated stream checks duplicates
// first); with the tip renumbered, the answer is a duplicate naming the original's
// seq. Either way the line is stored once, so the retry is safe whichever comes.
func TestRetriedLineIsStoredOnce(t *testing.T) {
	ns, js, _ := linesStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := AppendLine(ctx, js, "dev", Tip{}, "n1-1", []byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 {
		t.Fatalf("first line got seq %d", first.Seq)
	}
	if _, err := AppendLine(ctx, js, "dev", Tip{}, "n1-1", []byte("hi")); !errors.Is(err, ErrStaleTip) {
		t.Fatalf("retry at the old tip: %v, want ErrStaleTip", err)
	}
	again, err := AppendLine(ctx, js, "dev", first, "n1-1", []byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatalf("retry at the new tip: %+v, want the original's %+v", again, first)
	}
	other, err := AppendLine(ctx, js, "dev", first, "n2-1", []byte("yo"))
	if err != nil || other.Seq != 2 {
		t.Fatalf("next line: %+v, %v", other, err)
	}
	ns.Restart(t) // file storage: an acknowledged line survives nats-server's restart
	js2, err := jetstream.New(ns.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := js2.Stream(ctx, LinesStream)
	if err != nil {
		t.Fatal(err)
	}
	if tip, err := LoadTip(ctx, s2, "dev"); err != nil || tip != other {
		t.Fatalf("tip after a restart: %+v, %v; want %+v", tip, err, other)
	}
	readRoom(t, ctx, s2, "dev", 2)
}
