package chat

import (
	"testing"

	"github.com/chatd/chatd/protocol"
)

// TestDialogMembershipsAreBounded: a connection tracks at most maxDialogMemberships
// dialogs; the least recently used goes first, and a touch makes one the newest.
func TestDialogMembershipsAreBounded(t *testing.T) {
	var s memberships
	for i := range maxDialogMemberships {
		s.touch(protocol.DialogID(1, uint64(i+2))).delivered = uint64(i + 1)
	}
	first := protocol.DialogID(1, 2)
	if ms := s.touch(first); ms.delivered != 1 || s[len(s)-1] != ms {
		t.Fatalf("touch of a tracked dialog: %+v, last %+v", ms, s[len(s)-1])
	}
	s.touch(protocol.DialogID(1, 1000)) // one more: the least recently used, @1-3, goes
	if len(s) != maxDialogMemberships || s.get(protocol.DialogID(1, 3)) != nil || s.get(first) == nil {
		t.Fatalf("after one past the bound: %d tracked, @1-3 %v, %s %v", len(s), s.get(protocol.DialogID(1, 3)), first, s.get(first))
	}
}

// TestDialogIndexNewestFirst: each line moves its dialog to the front of both
// participants' lists; drop takes it out of both.
func TestDialogIndexNewestFirst(t *testing.T) {
	var x dialogIndex
	for i, other := range []uint64{2, 3, 4, 2} {
		x.touch(protocol.DialogID(1, other), 1, other, int64(i))
	}
	order := func(user uint64) string {
		var out string
		for _, d := range x.byUser[user] {
			out += d.id + " "
		}
		return out
	}
	if got := order(1); got != "@1-2 @1-4 @1-3 " {
		t.Fatalf("user 1's dialogs: %s", got)
	}
	x.touch("@3-3", 3, 3, 9)
	if got := order(3); got != "@3-3 @1-3 " {
		t.Fatalf("user 3's dialogs: %s", got)
	}
	x.drop(x.byID["@1-3"])
	if got := order(1) + "|" + order(3); got != "@1-2 @1-4 |@3-3 " || len(x.byID) != 3 {
		t.Fatalf("after drop: %s (%d)", got, len(x.byID))
	}
}
