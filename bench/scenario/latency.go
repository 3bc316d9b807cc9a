package scenario

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency records durations in microseconds, from 1 µs to 1 hour, with 3 significant
// digits. Safe from any goroutine.
type Latency struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

// NewLatency returns an empty recorder.
func NewLatency() *Latency {
	return &Latency{h: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)}
}

// Record adds one duration; negative ones count as zero, longer than an hour as an hour.
func (l *Latency) Record(d time.Duration) {
	us := max(int64(d/time.Microsecond), 1)
	l.mu.Lock()
	if l.h.RecordValue(us) != nil {
		_ = l.h.RecordValue(l.h.HighestTrackableValue())
	}
	l.mu.Unlock()
}

// Percentiles reads the figures in milliseconds, with a bucketed distribution.
func (l *Latency) Percentiles() Percentiles {
	l.mu.Lock()
	defer l.mu.Unlock()
	return percentilesOf(l.h)
}

func percentilesOf(h *hdrhistogram.Histogram) Percentiles {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	p := Percentiles{Count: h.TotalCount()}
	if p.Count == 0 {
		return p
	}
	p.P50 = ms(h.ValueAtQuantile(50))
	p.P90 = ms(h.ValueAtQuantile(90))
	p.P99 = ms(h.ValueAtQuantile(99))
	p.P999 = ms(h.ValueAtQuantile(99.9))
	p.Max = ms(h.Max())
	p.Mean = h.Mean() / 1000
	// Log-spaced buckets (factor 2 from 0.0625 ms), for charts.
	bound := int64(62)
	var n int64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		for b.To > bound {
			if n > 0 {
				p.Buckets = append(p.Buckets, [2]float64{ms(bound), float64(n)})
				n = 0
			}
			bound *= 2
		}
		n += b.Count
	}
	if n > 0 {
		p.Buckets = append(p.Buckets, [2]float64{ms(bound), float64(n)})
	}
	return p
}
