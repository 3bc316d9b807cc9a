package engine

import (
	"testing"
	"unsafe"
)

// TestConnFitsItsSizeClass: every idle connection carries one Conn and one session;
// past 128 and 208 bytes they take the next size classes, 144 and 224 (16 bytes more a
// connection each). Add a field only where padding leaves room, or take one out.
func TestConnFitsItsSizeClass(t *testing.T) {
	for _, c := range []struct {
		what      string
		size, max uintptr
	}{
		{"Conn", unsafe.Sizeof(Conn{}), 128},
		{"session", unsafe.Sizeof(session{}), 208},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes, want at most %d", c.what, c.size, c.max)
		}
	}
}
