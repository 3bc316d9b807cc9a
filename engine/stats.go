package engine

import (
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
)

// stats are the worker's counters. Atomics, because nbio's goroutines and /status read
// and write them besides the owner.
type stats struct {
	connections     atomic.Int64 // open WebSocket connections
	accepted        atomic.Uint64
	handshakeErrors atomic.Uint64
	messagesIn      atomic.Uint64
	framesOut       atomic.Uint64
	panics          atomic.Uint64
	memoryReleases  atomic.Uint64 // forced returns of free heap to the OS
	limits          [numLimits]atomic.Uint64

	mu         sync.Mutex
	closes     map[string]uint64 // by close reason name (closeName)
	closeCodes map[int]uint64    // by known code; 0: a code nobody defined
}

// limit is a kind of limit the engine enforces, counted each time it refuses a
// request or cuts a connection for it.
type limit uint8

const (
	limitConnections      limit = iota // --max-connections: an upgrade refused with 503
	limitHeaderBytes                   // --max-header-bytes or too many header fields: 431
	limitBodyBytes                     // an HTTP request body past maxHTTPBody: 413
	limitMessageBytes                  // --max-message-bytes: 1009
	limitPings                         // --max-pings-per-second: 1008
	limitWriteBuffer                   // --max-write-buffer: a slow consumer cut (4001)
	limitTotalWriteBuffer              // --max-total-write-buffer: one of the biggest holders cut (4001)
	limitUploadBuffer                  // --max-upload-buffer: an upload refused with 503
	numLimits
)

var limitNames = [numLimits]string{"connections", "header_bytes", "body_bytes", "message_bytes", "pings",
	"write_buffer", "total_write_buffer", "upload_buffer"}

func (s *stats) hit(l limit) { s.limits[l].Add(1) }

// hitByStatus counts a refused HTTP request whose status names a limit.
func (s *stats) hitByStatus(status int) {
	switch status {
	case http.StatusServiceUnavailable:
		s.hit(limitConnections)
	case http.StatusRequestHeaderFieldsTooLarge:
		s.hit(limitHeaderBytes)
	case http.StatusRequestEntityTooLarge:
		s.hit(limitBodyBytes)
	}
}

func (s *stats) countClose(code int, name string) {
	s.mu.Lock()
	if s.closes == nil {
		s.closes = make(map[string]uint64)
		s.closeCodes = make(map[int]uint64)
	}
	s.closes[name]++
	s.closeCodes[code]++
	s.mu.Unlock()
}

func (s *stats) closesByName() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.closes)
}

// Count is one labelled figure of Counters.
type Count struct {
	Label string
	N     uint64
}

// CloseCount is how many connections closed with one code. Code 0 (Name "other")
// counts the codes nobody defined: a peer may send any code it likes, and one
// series per code it makes up would let it grow the metrics without bound.
type CloseCount struct {
	Code int
	Name string
	N    uint64
}

// Counters are the worker's figures that need no call to the owner, for metrics:
// atomics and small locked tables, so reading them costs the same at any load and
// answers while the owner is stalled.
type Counters struct {
	Connections     int64 // open WebSocket connections
	Accepted        uint64
	HandshakeErrors uint64
	MessagesIn      uint64
	FramesOut       uint64
	Panics          uint64
	MemoryReleases  uint64
	WriteBuffered   int64 // unsent bytes all connections hold
	QueuedEvents    int   // the owner's queue
	Closes          []CloseCount
	Limits          []Count // every kind, by name, zeros included
}

// Counters reads the worker's counters. Safe from any goroutine, the owner's too.
func (w *Worker) Counters() Counters {
	c := Counters{
		Connections:     w.stats.connections.Load(),
		Accepted:        w.stats.accepted.Load(),
		HandshakeErrors: w.stats.handshakeErrors.Load(),
		MessagesIn:      w.stats.messagesIn.Load(),
		FramesOut:       w.stats.framesOut.Load(),
		Panics:          w.stats.panics.Load(),
		MemoryReleases:  w.stats.memoryReleases.Load(),
		WriteBuffered:   w.WriteBuffered(),
		QueuedEvents:    w.loop.queued(),
		Limits:          make([]Count, numLimits),
	}
	for l := range numLimits {
		c.Limits[l] = Count{limitNames[l], w.stats.limits[l].Load()}
	}
	w.stats.mu.Lock()
	for code, n := range w.stats.closeCodes {
		c.Closes = append(c.Closes, CloseCount{Code: code, Name: w.closeName(code), N: n})
	}
	w.stats.mu.Unlock()
	slices.SortFunc(c.Closes, func(a, b CloseCount) int { return a.Code - b.Code })
	return c
}
