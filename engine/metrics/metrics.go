// Package metrics serves chatd's figures in Prometheus's format at /metrics. It is the
// one package that imports Prometheus: the layers count with atomics and small hooks
// of their own (engine.Worker.Counters and ObserveBatches, the chat's Meters), and
// the collector reads them at scrape time, so a scrape never calls the owner and
// costs the same at any load.
package metrics

import (
	"iter"
	"net/http"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Chat is what the chat counts (engine/chat's Meters). Every method is called from
// the scrape's goroutine.
type Chat interface {
	Logins() uint64
	Deliveries() uint64
	MessagesIn() iter.Seq2[string, uint64]  // by action
	RateLimited() iter.Seq2[string, uint64] // by cost class
	ErrorsSent() iter.Seq2[string, uint64]  // by error code
	LimitsHit() iter.Seq2[string, uint64]   // by kind, the chat's
	StoreQueued() int
}

// Sources are what a Metrics reads.
type Sources struct {
	Worker *engine.Worker
	Chat   Chat // nil: an engine without a chat (chatd echo, tests)
}

// Metrics is a registry of chatd's metrics and the Go runtime's.
type Metrics struct {
	reg           *prometheus.Registry
	batch         prometheus.Histogram
	commit        prometheus.Histogram
	commitFailure prometheus.Counter
}

// maxScrapes is how many scrapes may run at once; more are answered 503, so a flood
// of /metrics requests costs a bounded amount of CPU (never the owner's).
const maxScrapes = 4

// New registers the metrics of src and hooks the owner's batches; call it before the
// Worker starts.
func New(src Sources) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chatd_owner_batch_duration_seconds",
			Help:    "How long the owner goroutine took for one batch of events, its writes included.",
			Buckets: []float64{10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3, 0.1, 0.3, 1},
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chatd_store_commit_duration_seconds",
			Help:    "How long one history commit (one write of a group-commit batch, fsync included) took.",
			Buckets: []float64{100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3, 0.1, 0.3, 1, 3, 10},
		}),
		commitFailure: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatd_store_commit_failures_total",
			Help: "History commits that failed (each is retried until it succeeds).",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.batch, m.commit, m.commitFailure,
		&collector{w: src.Worker, chat: src.Chat},
	)
	src.Worker.ObserveBatches(func(d time.Duration) { m.batch.Observe(d.Seconds()) })
	return m
}

// ObserveCommit records one history commit. Safe from any goroutine.
func (m *Metrics) ObserveCommit(d time.Duration, err error) {
	m.commit.Observe(d.Seconds())
	if err != nil {
		m.commitFailure.Inc()
	}
}

// Handler serves the metrics in Prometheus's text (or protobuf) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: maxScrapes})
}
