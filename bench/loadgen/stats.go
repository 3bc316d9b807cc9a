package loadgen

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats are a pool's counters, safe from any goroutine.
type Stats struct {
	Dialing      atomic.Int64  // clients between dial and Authorized (or failure)
	Open         atomic.Int64  // clients logged in and not closed
	Authorized   atomic.Uint64 // Authorized frames received
	Failed       atomic.Uint64 // dials that never reached Authorized
	Closed       atomic.Uint64 // logged-in clients closed by us
	Dropped      atomic.Uint64 // logged-in clients closed by the server or the network
	Connected    atomic.Uint64 // Connected frames received
	Disconnected atomic.Uint64 // Disconnected and ConnectionLost frames received
	Pings        atomic.Uint64 // Pings answered
	Chats        atomic.Uint64 // PublicMessage and PrivateMessage frames received
	Frames       atomic.Uint64 // every frame received
	Bytes        atomic.Uint64 // payload bytes received
	// The seed protocol's presence cost: users listed in Authorized, and the bytes of
	// Authorized, Connected, Disconnected and ConnectionLost frames.
	UserListEntries atomic.Uint64
	PresenceBatches atomic.Uint64 // Presence frames (batched joins and leaves, presence=compact)
	PresenceBytes   atomic.Uint64

	mu           sync.Mutex
	errors       map[string]uint64 // our failures by kind
	serverErrors map[string]uint64 // Error frames from the server by code
}

// Live is how many clients are dialing or open.
func (s *Stats) Live() int64 { return s.Dialing.Load() + s.Open.Load() }

// Errors returns a copy of the failures by kind (see the Err* kinds).
func (s *Stats) Errors() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.errors)
}

// ServerErrors returns a copy of the Error frames received, by their code.
func (s *Stats) ServerErrors() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.serverErrors)
}

func (s *Stats) countError(kind string) {
	s.mu.Lock()
	s.errors[kind]++
	s.mu.Unlock()
}

func (s *Stats) countServerError(code string) {
	s.mu.Lock()
	s.serverErrors[code]++
	s.mu.Unlock()
}
