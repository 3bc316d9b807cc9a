package chat

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chatd/chatd/engine"
)

// BenchmarkStatusFanOut1000: one SetStatus and its tick, to 999 opted-in room mates
// (the lobby at its --presence-full-limit), through the real decode, the tick's
// encode-once and frame-once, and the engine's writes to in-memory transports.
func BenchmarkStatusFanOut1000(b *testing.B) {
	cfg := DefaultConfig()
	f := newFixture(b, cfg)
	q := url.Values{"userName": {"user"}, "presence": {"compact"}}
	sender := f.h.Attach(q, true)
	for range 999 {
		f.h.Attach(q, true)
	}
	f.h.Sync()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		msg := engine.Message{Data: fmt.Appendf(nil, `{"action":"SetStatus","status":"away","text":"back at %d"}`, i)}
		f.h.Do(func() { userOf(sender.Conn).costly = bucket{} }) // the budget is not what is measured
		f.h.W.Receive(sender.Conn, msg)
		f.h.Do(f.ch.flushStatuses)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/delivery")
}

// BenchmarkBuzz: one Buzz from one user to another, delivered (a fresh pair each
// time, so the limit never refuses; the sweep keeps the logs bounded).
func BenchmarkBuzz(b *testing.B) {
	cfg := DefaultConfig()
	cfg.RateLimit, cfg.RateBurst = 1e12, 1<<30
	f := newFixture(b, cfg)
	q := url.Values{"userName": {"user"}, "resume": {""}}
	sender := f.h.Attach(q, true)
	to := f.h.Attach(q, true)
	f.h.Sync()
	var toID uint64
	f.h.Do(func() { toID = userOf(to.Conn).info.ID })
	msg := engine.Message{Data: fmt.Appendf(nil, `{"action":"Buzz","toUserId":%d}`, toID)}
	b.ReportAllocs()
	for b.Loop() {
		f.h.Do(func() { clear(f.ch.buzzes) }) // the pair's limit is not what is measured
		f.h.W.Receive(sender.Conn, msg)
		f.h.Sync()
	}
}
