package metrics

import (
	"iter"
	"strconv"

	"github.com/chatd/chatd/engine"
	"github.com/prometheus/client_golang/prometheus"
)

// The families the collector reads at each scrape, from the engine's and the chat's
// counters. README's metrics section lists them all.
var (
	descConnections   = desc("chatd_connections", "Open WebSocket connections.")
	descAccepted      = desc("chatd_connections_accepted_total", "WebSocket connections accepted.")
	descHandshakeErrs = desc("chatd_handshake_errors_total", "HTTP requests and WebSocket upgrades refused.")
	descFramesIn      = desc("chatd_websocket_messages_in_total", "WebSocket messages received, every kind.")
	descFramesOut     = desc("chatd_frames_out_total", "WebSocket frames sent.")
	descPanics        = desc("chatd_panics_total", "Handler panics recovered (each closed its connection with 1011).")
	descReleases      = desc("chatd_memory_releases_total", "Times free heap was handed back to the OS.")
	descWriteBuffered = desc("chatd_write_buffered_bytes", "Unsent bytes all connections hold (see --max-total-write-buffer).")
	descOwnerQueue    = desc("chatd_owner_queue_events", "Events waiting for the owner goroutine.")
	descCloses        = desc("chatd_closes_total", "Connections closed, by close code and its name (code \"other\": a code nobody defined).", "code", "reason")
	descLimits        = desc("chatd_limits_hit_total", "Times a limit refused a request or cut a connection, by kind.", "kind")
	descLogins        = desc("chatd_logins_total", "Users logged in (a resume is a login).")
	descMessagesIn    = desc("chatd_messages_in_total", "Client frames by what they asked for.", "action")
	descDeliveries    = desc("chatd_deliveries_total", "Chat messages delivered live, one per recipient.")
	descRateLimited   = desc("chatd_rate_limited_total", "Requests refused by their cost class's budget, by class.", "class")
	descErrorsSent    = desc("chatd_errors_sent_total", "Error frames sent to clients, by code.", "code")
	descStoreQueue    = desc("chatd_store_queue_records", "Records waiting for the history's next commit.")
	collectorFamilies = []*prometheus.Desc{descConnections, descAccepted, descHandshakeErrs, descFramesIn, descFramesOut, descPanics, descReleases, descWriteBuffered, descOwnerQueue, descCloses, descLimits}
	chatFamilies      = []*prometheus.Desc{descLogins, descMessagesIn, descDeliveries, descRateLimited, descErrorsSent, descStoreQueue}
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector reads the engine's and the chat's counters: atomics and small tables,
// bounded by the number of kinds, codes and classes, never by users or rooms.
type collector struct {
	w    *engine.Worker
	chat Chat
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range collectorFamilies {
		ch <- d
	}
	if c.chat != nil {
		for _, d := range chatFamilies {
			ch <- d
		}
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	n := c.w.Counters()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descConnections, float64(n.Connections))
	counter(descAccepted, n.Accepted)
	counter(descHandshakeErrs, n.HandshakeErrors)
	counter(descFramesIn, n.MessagesIn)
	counter(descFramesOut, n.FramesOut)
	counter(descPanics, n.Panics)
	counter(descReleases, n.MemoryReleases)
	gauge(descWriteBuffered, float64(n.WriteBuffered))
	gauge(descOwnerQueue, float64(n.QueuedEvents))
	for _, cl := range n.Closes {
		code := "other"
		if cl.Code != 0 {
			code = strconv.Itoa(cl.Code)
		}
		counter(descCloses, cl.N, code, cl.Name)
	}
	for _, l := range n.Limits {
		counter(descLimits, l.N, l.Label)
	}
	if c.chat != nil {
		c.collectChat(counter, gauge)
	}
}

func (c *collector) collectChat(counter func(*prometheus.Desc, uint64, ...string), gauge func(*prometheus.Desc, float64, ...string)) {
	counter(descLogins, c.chat.Logins())
	counter(descDeliveries, c.chat.Deliveries())
	gauge(descStoreQueue, float64(c.chat.StoreQueued()))
	each := func(d *prometheus.Desc, counts iter.Seq2[string, uint64]) {
		for label, v := range counts {
			counter(d, v, label)
		}
	}
	each(descMessagesIn, c.chat.MessagesIn())
	each(descRateLimited, c.chat.RateLimited())
	each(descErrorsSent, c.chat.ErrorsSent())
	each(descLimits, c.chat.LimitsHit())
}
