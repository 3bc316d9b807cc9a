package chat

import (
	"testing"
	"time"

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

// TestDialogsWithoutHistory: without a store the lines are delivered and listed, but
// nothing is kept to read: Dialogs has no "last".
func TestDialogsWithoutHistory(t *testing.T) {
	f := newFixture(t, testConfig())
	a, authA := f.login("Alice", optIn())
	b, authB := f.login("Bob", optIn())
	idA, idB := num(t, authA, "userId"), num(t, authB, "userId")
	a.send(map[string]any{"text": "hi", "toUserId": idB})
	if m := b.expect("PrivateMessage"); m["roomId"] != protocol.DialogID(idA, idB) || num(t, m, "seq") != 1 {
		t.Fatalf("Bob got %v", m)
	}
	b.send(map[string]any{"action": "Dialogs"})
	list := b.expect("Dialogs")["dialogs"].([]any)
	if len(list) != 1 {
		t.Fatalf("Dialogs = %v", list)
	}
	d := list[0].(map[string]any)
	if d["userName"] != "Alice" || num(t, d, "userId") != idA || num(t, d, "lastSeq") != 1 || d["unread"] != -1.0 || d["last"] != nil {
		t.Fatalf("Bob's dialog = %v", d)
	}
}

// TestDialogAckResend: an ack=1 client acknowledges a dialog like a room: what it has
// not acknowledged comes again at the timeout, and an Ack with the dialog's id ends it.
func TestDialogAckResend(t *testing.T) {
	now := time.Unix(1000, 0)
	cfg := testConfig(func(c *Config) { c.AckTimeout = time.Minute })
	f := newFixture(t, cfg, stepClock(&now))
	resend := func(after time.Duration) {
		f.h.Do(func() { now = now.Add(after); f.ch.resendUnacked() })
	}
	a, authA := f.login("Alice", optIn("ack", "1"))
	b, authB := f.login("Bob", nil)
	a.unread()
	b.send(map[string]any{"text": "psst", "toUserId": num(t, authA, "userId")})
	room := protocol.DialogID(num(t, authA, "userId"), num(t, authB, "userId"))
	if m := a.expectExactly("PrivateMessage")[0]; m["roomId"] != room || num(t, m, "seq") != 1 {
		t.Fatalf("first = %v", m)
	}
	resend(cfg.AckTimeout)
	if m := a.expectExactly("PrivateMessage")[0]; num(t, m, "seq") != 1 {
		t.Fatalf("resent = %v", m)
	}
	a.send(map[string]any{"action": "Ack", "roomId": room, "seq": 1})
	a.expectExactly()
	resend(4 * cfg.AckTimeout)
	a.expectExactly()
	a.send(map[string]any{"action": "Ack", "roomId": protocol.DialogID(num(t, authA, "userId"), 999)})
	a.expectExactly() // a dialog of its, untracked: nothing to take, no Error
	a.send(map[string]any{"action": "Ack", "roomId": protocol.DialogID(998, 999)})
	a.expectError("not_in_room")
}
