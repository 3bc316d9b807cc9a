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

// TestOnlineIdentityIsTheUser: an online opt-in user is its own identity, with no
// copy of it in ids (130 bytes a connection it was).
func TestOnlineIdentityIsTheUser(t *testing.T) {
	f := newFixture(t, testConfig())
	f.login("Ann", optIn())
	f.h.Do(func() {
		if len(f.ch.ids) != 0 || len(f.ch.users) != 1 {
			t.Errorf("ids %d, users %d: want the online identity in users only", len(f.ch.ids), len(f.ch.users))
		}
	})
}
