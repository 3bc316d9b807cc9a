package chat

import (
	"testing"
	"unsafe"
)

// TestUserFitsItsSizeClass pins the user, which every connection pays for, at 192
// bytes (a size class of its own): per-connection state that only some connections
// need (dialogs, further devices, ack state, the encoded fields) lives in maps or
// behind pointers beside it.
func TestUserFitsItsSizeClass(t *testing.T) {
	if got := unsafe.Sizeof(user{}); got > 192 {
		t.Fatalf("user is %d bytes, want at most 192: the allocator rounds it up to the next class", got)
	}
}

// TestOnlineIdentityIsSmall: an opt-in connection's identity holds only its secret and
// pointers while online (its user knows who it is): 32 bytes, not the 96 it was.
func TestOnlineIdentityIsSmall(t *testing.T) {
	if got := unsafe.Sizeof(identity{}); got > 32 {
		t.Fatalf("identity is %d bytes, want at most 32", got)
	}
}
