package scenario

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tracker numbers the messages of one run and checks their deliveries: each text is
// "cb <run> <id> <send µs> <padding>", so a receiver knows which message it got and
// when it was sent (on the pool's clock), and frames from other runs (history replayed
// on login) are told apart.
type Tracker struct {
	run     string
	latency *Latency
	next    atomic.Uint64 // ids handed out
	measure atomic.Uint64 // ids from here on are measured (handed out after the warmup)

	receivers []receiver
	received  atomic.Uint64
	measured  atomic.Uint64 // deliveries of measured messages
	duplicate atomic.Uint64
	foreign   atomic.Uint64 // frames that are not this run's
	last      atomic.Int64  // when the last measured delivery arrived, on the pool's clock
}

type receiver struct {
	mu   sync.Mutex
	seen []uint64 // bitset of message ids
}

// NewTracker tracks deliveries to receivers clients (indexed by Client.Index).
func NewTracker(run string, receivers int) *Tracker {
	t := &Tracker{run: run, latency: NewLatency(), receivers: make([]receiver, receivers)}
	t.measure.Store(math.MaxUint64) // nothing is measured before StartMeasuring
	return t
}

// Latency is the send-to-receive distribution of measured messages.
func (t *Tracker) Latency() *Latency { return t.latency }

// StartMeasuring marks the ids handed out from now on as measured.
func (t *Tracker) StartMeasuring() { t.measure.Store(t.next.Load()) }

// MeasureFrom marks ids from id on as measured (to measure a second tracker of the
// same messages, such as the Sent answers, from the same point).
func (t *Tracker) MeasureFrom(id uint64) { t.measure.Store(id) }

// Next returns a new message id and its text, padded to at least pad bytes.
func (t *Tracker) Next(now time.Duration, pad int) (uint64, string) {
	id := t.next.Add(1) - 1
	var b strings.Builder
	b.WriteString("cb ")
	b.WriteString(t.run)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(id, 10))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(int64(now/time.Microsecond), 10))
	b.WriteByte(' ')
	for b.Len() < pad {
		b.WriteByte('x')
	}
	return id, b.String()
}

// ParseText reads the id and send time of a text of run, or false.
func ParseText(run, text string) (id uint64, sendTime time.Duration, ok bool) {
	f := strings.SplitN(text, " ", 5)
	if len(f) < 4 || f[0] != "cb" || f[1] != run {
		return 0, 0, false
	}
	id, err1 := strconv.ParseUint(f[2], 10, 64)
	us, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return id, time.Duration(us) * time.Microsecond, true
}

// Deliver counts text arriving at receiver at now. It reports false for a frame that
// is not this run's or is a duplicate.
func (t *Tracker) Deliver(receiverIndex int, text string, now time.Duration) bool {
	id, sendTime, ok := ParseText(t.run, text)
	if !ok || receiverIndex < 0 || receiverIndex >= len(t.receivers) {
		t.foreign.Add(1)
		return false
	}
	if !t.receivers[receiverIndex].mark(id) {
		t.duplicate.Add(1)
		return false
	}
	t.received.Add(1)
	if id >= t.measure.Load() {
		t.measured.Add(1)
		t.latency.Record(now - sendTime)
		for prev := t.last.Load(); int64(now) > prev && !t.last.CompareAndSwap(prev, int64(now)); prev = t.last.Load() {
		}
	}
	return true
}

// mark sets id's bit and reports whether it was clear.
func (r *receiver) mark(id uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, bit := int(id/64), uint64(1)<<(id%64)
	if w >= len(r.seen) {
		r.seen = append(r.seen, make([]uint64, w+1-len(r.seen))...)
	}
	if r.seen[w]&bit != 0 {
		return false
	}
	r.seen[w] |= bit
	return true
}

// LastMeasured is when the last measured delivery arrived (0: none yet).
func (t *Tracker) LastMeasured() time.Duration { return time.Duration(t.last.Load()) }

// Counts are a tracker's totals.
type Counts struct {
	Received, Measured, Duplicate, Foreign uint64
}

// Counts reads the totals.
func (t *Tracker) Counts() Counts {
	return Counts{Received: t.received.Load(), Measured: t.measured.Load(), Duplicate: t.duplicate.Load(), Foreign: t.foreign.Load()}
}

// Loss is expected minus received deliveries (negative: more arrived than expected).
func Loss(expected, received uint64) int64 { return int64(expected) - int64(received) }

// MemPerConn is the server's memory per connection: (rss - baseline) / clients, 0
// without clients.
func MemPerConn(rss, baseline uint64, clients int) float64 {
	if clients <= 0 {
		return 0
	}
	return (float64(rss) - float64(baseline)) / float64(clients)
}
