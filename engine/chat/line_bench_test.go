package chat

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/store"
)

// lineSenders is how many clients send in the line-to-Sent benchmark, each in a
// room of its own: chatbench history's shape.
const lineSenders = 200

// BenchmarkLineToSent: one durable chat line with a clientMsgId, from the frame the
// owner receives to the echo and the Sent written to the sender: decode, de-dup,
// seq, the store writer's queue and commit (real SQLite, or none), delivery, Sent,
// flush. 200 senders each send one line per round, as chatbench history does; one op
// is one line. cpu-µs/line is the whole process's CPU (owner, writer, SQLite) per
// line; allocs/op counts all of it too, the frame the poller would allocate included
// (one buffer per round here).
func BenchmarkLineToSent(b *testing.B) {
	for _, tt := range []struct {
		name          string
		history, file bool
	}{{"sqlite", true, false}, {"sqlite-file", true, true}, {"no-history", false, false}} {
		b.Run(tt.name, func(b *testing.B) { benchLineToSent(b, tt.history, tt.file) })
	}
}

// benchLineToSent: with file, every line carries the fileId of an upload to its room
// (the upload itself is not measured: it is an HTTP request of its own).
func benchLineToSent(b *testing.B, history, file bool) {
	var setup []func(*Chat)
	if history {
		setup = append(setup, withHistory(b, sqlite(b)))
	}
	f := newFixture(b, testConfig(fast), setup...)
	senders := make([]*enginetest.Peer, lineSenders)
	for i := range senders {
		senders[i] = f.h.Attach(url.Values{"userName": {"s" + strconv.Itoa(i)}}, true)
		f.h.W.Receive(senders[i].Conn, engine.Message{Data: fmt.Appendf(nil, `{"action":"JoinRoom","roomId":"r%d"}`, i)})
	}
	f.h.Sync()
	f.eventually("the senders joined", func() bool { return f.ch.Meters().Deliveries() == 0 && f.joined(lineSenders) })
	fileField := ""
	if file {
		fileField = `,"fileId":"f%d"`
		f.h.Do(func() {
			for i := range lineSenders {
				f.ch.uploads.add(store.File{ID: fmt.Sprint("f", i), SHA256: strings.Repeat("a", 64), Room: fmt.Sprint("r", i),
					Name: "holiday photo.jpg", Type: "image/jpeg", Size: 2_345_678}, f.ch.now())
			}
		})
	}
	want := f.ch.Meters().Deliveries()
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	var id int
	for n := 0; n < b.N; {
		round := min(lineSenders, b.N-n)
		arena := make([]byte, 0, round*80) // what the poller's reads would have allocated
		for i := range round {
			start := len(arena)
			arena = fmt.Appendf(arena, `{"text":"hello there","roomId":"r%d","clientMsgId":"c%d"`, i, id)
			if file {
				arena = fmt.Appendf(arena, fileField, i)
			}
			arena = append(arena, '}')
			id++
			f.h.W.Receive(senders[i].Conn, engine.Message{Data: arena[start:len(arena):len(arena)]})
		}
		n += round
		want += uint64(round)
		for f.ch.Meters().Deliveries() < want {
			time.Sleep(20 * time.Microsecond)
		}
	}
	f.h.Sync()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/line")
}

// joined reports whether n users are in a room besides the default one.
func (f *fixture) joined(n int) bool {
	var in int
	f.h.W.Call(func() {
		for _, u := range f.ch.users {
			if len(u.rooms) > 1 {
				in++
			}
		}
	})
	return in == n
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
