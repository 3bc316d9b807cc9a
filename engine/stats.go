package engine

import (
	"maps"
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
	closes map[string]uint64 // by close reason name (closeName)
}

func (s *stats) countClose(name string) {
	s.mu.Lock()
	if s.closes == nil {
		s.closes = make(map[string]uint64)
	}
	s.closes[name]++
	s.mu.Unlock()
}

func (s *stats) closesByName() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.closes)
}
