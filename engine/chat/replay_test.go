package chat

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/store"
)

// countingStore counts the replay reads that reach the store: Range for more than one
// line (an Edit's or a React's lookup reads one).
type countingStore struct {
	store.Store
	ranges atomic.Int64
}

func (s *countingStore) Range(ctx context.Context, room string, after, upto uint64, limit int) ([]store.Message, error) {
	if limit > 1 {
		s.ranges.Add(1)
	}
	return s.Store.Range(ctx, room, after, upto, limit)
}

// TestLoginStormSharesReplayReads: logins right after one another get the room's
// recent lines from one read per kind of client (the seed's frames differ from an
// opted-in client's); a line sent since is read on top of the cached ones, in order;
// an edit or a reaction drops the room's cached pages, so the next logins get the
// line as it is now; a page serves for replayCacheTTL only.
func TestLoginStormSharesReplayReads(t *testing.T) {
	st := &countingStore{Store: sqlite(t)}
	f := newFixture(t, testConfig(fast, func(c *Config) { c.HistoryOnJoin = 5 }), withHistory(t, st))
	old, _ := f.login("Old", optIn())
	for i := 1; i <= 5; i++ {
		old.send(map[string]any{"text": fmt.Sprint("m", i), "clientMsgId": fmt.Sprint("c", i)})
		old.expect("Sent")
	}
	logins := 0
	replay := func(q url.Values, want ...string) map[string]any {
		t.Helper()
		logins++
		c, _ := f.login(fmt.Sprint("user", logins), q)
		var last map[string]any
		for _, text := range want {
			last = c.expect("PublicMessage")
			if last["text"] != text {
				t.Fatalf("login %d replayed %v, want text %q", logins, last, text)
			}
		}
		return last
	}
	wantReads := func(n int64, after string) {
		t.Helper()
		f.h.Sync()
		if got := st.ranges.Load(); got != n {
			t.Fatalf("after %s the store was read %d times, want %d", after, got, n)
		}
	}
	for range 10 {
		replay(nil, "m1", "m2", "m3", "m4", "m5")
	}
	wantReads(1, "10 seed logins")
	for range 10 {
		replay(optIn(), "m1", "m2", "m3", "m4", "m5")
	}
	wantReads(2, "10 opted-in logins")

	old.send(map[string]any{"text": "m6", "clientMsgId": "c6"})
	old.expect("Sent")
	replay(optIn(), "m2", "m3", "m4", "m5", "m6")
	wantReads(3, "a login after a new line (its tail is read)")
	replay(optIn(), "m2", "m3", "m4", "m5", "m6")
	wantReads(3, "a login after the tail was read (the page was extended by it)")

	old.send(map[string]any{"action": "Edit", "seq": 4, "text": "m4 edited"})
	old.expect("Edited")
	replay(optIn(), "m2", "m3", "m4 edited", "m5", "m6")
	replay(nil, "m2", "m3", "m4 edited", "m5", "m6")
	wantReads(5, "an edit")

	old.send(map[string]any{"action": "React", "seq": 6, "emoji": "👍"})
	old.expect("Reactions")
	if m := replay(optIn(), "m2", "m3", "m4 edited", "m5", "m6"); m["reactions"] == nil {
		t.Fatalf("the line reacted to came without its reactions: %v", m)
	}
	wantReads(6, "a reaction")

	f.h.Do(func() {
		for _, p := range f.ch.replays.pages {
			p.at = p.at.Add(-replayCacheTTL - time.Second)
		}
	})
	replay(optIn(), "m2", "m3", "m4 edited", "m5", "m6")
	wantReads(7, "the page's time ran out")
	var cached uint64
	f.h.Do(func() { cached = f.ch.Stats()["replayPagesCached"].(uint64) })
	if cached != 20 {
		t.Fatalf("replayPagesCached = %d, want 20 (9 + 9 logins, the first part of the tail login, the login after it)", cached)
	}
}

// TestReplayCachePages: what a put keeps and a get serves.
func TestReplayCachePages(t *testing.T) {
	now := time.Now()
	k := replayKey{"dev", true}
	lines := func(from, to uint64, size int) ([]uint64, [][]byte) {
		var seqs []uint64
		var frames [][]byte
		for s := from; s <= to; s++ {
			seqs, frames = append(seqs, s), append(frames, make([]byte, size))
		}
		return seqs, frames
	}
	type get struct {
		after, upto, through uint64
		n                    int // lines served; -1: not served
	}
	tests := []struct {
		name string
		fill func(c *replayCache)
		gets []get
	}{
		{"a read serves what it covered", func(c *replayCache) {
			s, f := lines(11, 20, 10)
			c.put(k, 0, 10, 20, s, f, now)
		}, []get{{10, 20, 20, 10}, {15, 25, 20, 5}, {9, 20, 0, -1}, {20, 25, 0, -1}}},
		{"a read that continues the page extends it", func(c *replayCache) {
			s, f := lines(11, 20, 10)
			c.put(k, 0, 10, 20, s, f, now)
			s, f = lines(21, 22, 10)
			c.put(k, 0, 20, 22, s, f, now)
		}, []get{{10, 22, 22, 12}}},
		{"a read that reaches less far is not kept", func(c *replayCache) {
			s, f := lines(11, 20, 10)
			c.put(k, 0, 10, 20, s, f, now)
			s, f = lines(1, 12, 10)
			c.put(k, 0, 0, 12, s, f, now)
		}, []get{{10, 20, 20, 10}, {5, 20, 0, -1}}},
		{"a read across a drop is not kept", func(c *replayCache) {
			s, f := lines(11, 20, 10)
			c.drop("dev")
			c.put(k, 0, 10, 20, s, f, now)
		}, []get{{10, 20, 0, -1}}},
		{"a page keeps its newest lines within replayPageBytes", func(c *replayCache) {
			s, f := lines(1, 5, replayPageBytes/4)
			c.put(k, 0, 0, 5, s, f, now)
		}, []get{{1, 5, 5, 4}, {2, 5, 5, 3}, {0, 5, 0, -1}}},
		{"a full page covers up to its last line", func(c *replayCache) {
			s, f := lines(1, syncPage, 1)
			c.put(k, 0, 0, 10_000, s, f, now)
		}, []get{{0, 10_000, syncPage, syncPage}}},
		{"a page past its time serves nothing", func(c *replayCache) {
			s, f := lines(11, 20, 10)
			c.put(k, 0, 10, 20, s, f, now.Add(-replayCacheTTL-time.Second))
		}, []get{{10, 20, 0, -1}}},
	}
	for _, tc := range tests {
		c := &replayCache{}
		tc.fill(c)
		for _, g := range tc.gets {
			seqs, _, through, ok := c.get(k, g.after, g.upto, now)
			n := len(seqs)
			if !ok {
				n, through = -1, 0
			}
			if n != g.n || through != g.through {
				t.Errorf("%s: get (%d, %d] served %d lines through %d, want %d through %d", tc.name, g.after, g.upto, n, through, g.n, g.through)
			}
		}
	}
}
