package chat

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// The wish list's requests, one at a time from one opted-in sender in a lobby of 10
// opted-in members, on real SQLite (the writer's group commit, the reads pool): from
// the frame the owner receives to the answer written to the sender, through every
// step a client's request takes, one commit each (a request alone, not amortized over
// a busy commit). cpu-µs/op is the whole process's CPU per request.
// The costly class's budget is refilled before each request: what it costs is
// measured, not what the limiter allows.
func BenchmarkWishList(b *testing.B) {
	for _, tt := range []struct {
		name    string
		request func(i int) string
	}{
		{"Line", func(i int) string { return fmt.Sprintf(`{"text":"a line %d"}`, i) }}, // what the others compare with
		{"Edit", func(i int) string {
			return fmt.Sprintf(`{"action":"Edit","roomId":"lobby","seq":%d,"text":"edited %d"}`, 1+i%100, i)
		}},
		{"React", func(i int) string {
			return fmt.Sprintf(`{"action":"React","roomId":"lobby","seq":%d,"emoji":"👍"}`, 1+i%100)
		}},
		{"Reply", func(i int) string { return fmt.Sprintf(`{"text":"a reply %d","replyTo":%d}`, i, 1+i%100) }},
		{"Search", func(i int) string { return `{"action":"Search","query":"line","limit":20}` }},
		{"Typing", func(i int) string { return `{"action":"Typing"}` }}, // to the 9 others, never stored
	} {
		b.Run(tt.name, func(b *testing.B) { benchWishList(b, tt.request) })
	}
}

func benchWishList(b *testing.B, request func(i int) string) {
	f := newFixture(b, testConfig(fast), withHistory(b, sqlite(b)))
	q := url.Values{"userName": {"s"}, "resume": {""}}
	sender := f.h.Attach(q, true)
	var other *enginetest.Peer // Typing answers nobody but the others: it is waited for here
	for i := range 9 {
		other = f.h.Attach(url.Values{"userName": {"m" + strconv.Itoa(i)}, "resume": {""}}, true)
	}
	for i := range 100 {
		f.h.W.Receive(sender.Conn, engine.Message{Data: fmt.Appendf(nil, `{"text":"line %d of the history"}`, i)})
	}
	f.eventually("the lines stored", func() bool { return f.commitsDone(sender, 100) })
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	watch := sender
	if strings.Contains(request(0), `"Typing"`) {
		watch = other
	}
	for i := range b.N {
		before := watch.Writes()
		f.h.Do(func() { userOf(sender.Conn).costly = bucket{}; clear(f.ch.typing) })
		f.h.W.Receive(sender.Conn, engine.Message{Data: []byte(request(i))})
		waitWrite(watch, before)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// commitsDone reports whether the sender's first n lines have been delivered back.
func (f *fixture) commitsDone(p *enginetest.Peer, n int) bool {
	return f.ch.Meters().Deliveries() >= uint64(10*n)
}

// waitWrite waits until p has been written to since it had before writes.
func waitWrite(p *enginetest.Peer, before int) {
	for deadline := time.Now().Add(10 * time.Second); p.Writes() == before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Microsecond)
	}
}
