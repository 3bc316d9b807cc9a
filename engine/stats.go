package engine

import (
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

	mu     sync.Mutex
	closes map[int]uint64 // by close code
}

func (s *stats) countClose(r CloseReason) {
	s.mu.Lock()
	if s.closes == nil {
		s.closes = make(map[int]uint64)
	}
	s.closes[r.Code]++
	s.mu.Unlock()
}

func (s *stats) closesByCode() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64, len(s.closes))
	for code, n := range s.closes {
		out[closeName(code)] += n
	}
	return out
}

func closeName(code int) string {
	for _, r := range []CloseReason{CloseNormal, CloseGoingAway, CloseProtocolError, CloseAbnormal,
		ClosePolicy, CloseTooBig, CloseInternal, ClosePingTimeout, CloseSlowConsumer} {
		if r.Code == code {
			return r.Text
		}
	}
	return "other"
}
