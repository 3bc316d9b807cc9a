package engine

import (
	"testing"
	"unsafe"
)

// TestConnFitsItsSizeClass: every idle connection carries one Conn; past 128 bytes it
// takes the next size class, 144 (16 bytes more a connection). Add a field only where
// padding leaves room, or take one out.
func TestConnFitsItsSizeClass(t *testing.T) {
	if size := unsafe.Sizeof(Conn{}); size > 128 {
		t.Errorf("Conn is %d bytes, want at most 128", size)
	}
}
