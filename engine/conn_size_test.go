package engine

import (
	"testing"
	"unsafe"
)

// TestConnFitsItsSizeClass: every idle connection carries one Conn and one session;
// past 112 and 128 bytes they take the next size classes, 128 and 144 (16 bytes more a
// connection each). Add a field only where padding leaves room, or take one out. An
// event is queued per Pong of a Ping sweep, one per connection at once (loop.take).
func TestConnFitsItsSizeClass(t *testing.T) {
	for _, c := range []struct {
		what      string
		size, max uintptr
	}{
		{"Conn", unsafe.Sizeof(Conn{}), 112},
		{"session", unsafe.Sizeof(session{}), 128},
		{"event", unsafe.Sizeof(event{}), 64},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes, want at most %d", c.what, c.size, c.max)
		}
	}
}
