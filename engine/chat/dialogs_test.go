package chat_test

import (
	"fmt"
	"testing"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chatd/chatd/protocol"
)

// Dialogs over real sockets, between anonymous users (accounts: engine/server's
// dialogs_test.go): one stream per pair with gap-free seqs, both sides and Sent,
// History for the two only, Dialogs newest first, resume with since=, and the seed's
// client still getting PrivateMessage.

func isPrivate(text string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["action"] == "PrivateMessage" && m["text"] == text }
}

func isDialogAnswer(m map[string]any) bool { return m["action"] == "Dialogs" }

// dialogs asks c for its Dialogs and returns the list.
func dialogs(t *testing.T, c *chattest.Client) []map[string]any {
	t.Helper()
	c.Send(map[string]any{"action": "Dialogs"})
	list, _ := c.ExpectWhere("Dialogs", isDialogAnswer)["dialogs"].([]any)
	out := make([]map[string]any, len(list))
	for i, d := range list {
		out[i] = d.(map[string]any)
	}
	return out
}

// expectNone sends a public marker from c and checks that nothing private (nor an
// Error) came to c before it.
func expectNone(t *testing.T, c *chattest.Client, marker string) {
	t.Helper()
	c.Send(map[string]any{"text": marker})
	m := c.ExpectWhere("the marker", func(m map[string]any) bool {
		return m["action"] == "PrivateMessage" || m["action"] == "Error" || m["text"] == marker
	})
	if m["text"] != marker {
		t.Fatalf("got %v before the marker %q", m, marker)
	}
}

func TestDialogBetweenTwoUsers(t *testing.T) {
	s := chattest.Start(t, fast)
	a, authA := s.LoginQuery(t, "Alice", optIn())
	b, authB := s.LoginQuery(t, "Bob", optIn())
	c, authC := s.LoginQuery(t, "Carol", optIn())
	idA, idB, idC := num(t, authA, "userId"), num(t, authB, "userId"), num(t, authC, "userId")
	room := protocol.DialogID(idA, idB)

	// One at a time (two connections' lines have no order between them), the second
	// by the dialog's id instead of toUserId; each reaches both, in seq order.
	lines := []struct {
		from   *chattest.Client
		text   string
		by, to uint64
		send   map[string]any
	}{
		{a, "hi Bob", idA, idB, map[string]any{"text": "hi Bob", "toUserId": idB, "clientMsgId": "c1"}},
		{b, "hi Alice", idB, idA, map[string]any{"text": "hi Alice", "roomId": room, "clientMsgId": "c2"}},
		{a, "how are you", idA, idB, map[string]any{"text": "how are you", "roomId": room}},
	}
	for i, l := range lines {
		l.from.Send(l.send)
		for _, cl := range []*chattest.Client{a, b} {
			m := cl.ExpectWhere(l.text, isPrivate(l.text))
			if m["roomId"] != room || num(t, m, "seq") != uint64(i+1) || num(t, m, "userId") != l.by || num(t, m, "toUserId") != l.to || num(t, m, "ts") == 0 {
				t.Fatalf("line %d = %v, want seq %d of %s from %d to %d", i, m, i+1, room, l.by, l.to)
			}
		}
	}
	// Sent names the dialog and its seq, to the sender only.
	b.Send(map[string]any{"text": "one more", "toUserId": idA, "clientMsgId": "c3"})
	if sent := b.ExpectWhere("Sent c3", func(m map[string]any) bool { return m["action"] == "Sent" && m["clientMsgId"] == "c3" }); sent["roomId"] != room || num(t, sent, "seq") != 4 {
		t.Fatalf("Sent = %v, want %s seq 4", sent, room)
	}
	if m := a.ExpectWhere("one more", isPrivate("one more")); num(t, m, "seq") != 4 || m["clientMsgId"] != "c3" {
		t.Fatalf("Alice got %v", m)
	}

	// Another pair's dialog has seqs of its own; Carol saw nothing of Alice and Bob's.
	expectNone(t, c, "marker-c")
	c.Send(map[string]any{"text": "hello", "toUserId": idA})
	if m := a.ExpectWhere("Carol's line", isPrivate("hello")); m["roomId"] != protocol.DialogID(idA, idC) || num(t, m, "seq") != 1 {
		t.Fatalf("Carol's first line to Alice = %v", m)
	}

	// History of the dialog: both participants; anyone else gets not_in_room.
	for _, cl := range []*chattest.Client{a, b} {
		cl.Send(map[string]any{"action": "History", "roomId": room})
		h := cl.Expect("History")
		msgs, _ := h["messages"].([]any)
		if h["roomId"] != room || len(msgs) != 4 || msgs[0].(map[string]any)["text"] != "hi Bob" || msgs[3].(map[string]any)["text"] != "one more" {
			t.Fatalf("History of %s = %v", room, h)
		}
	}
	for _, req := range []map[string]any{
		{"action": "History", "roomId": room},
		{"text": "let me in", "roomId": room},
		{"action": "React", "roomId": room, "seq": 1, "emoji": "👍"},
		{"action": "Delete", "roomId": room, "seq": 1},
	} {
		c.Send(req)
		if e := c.Expect("Error"); e["code"] != "not_in_room" {
			t.Fatalf("Carol's %v: %v, want not_in_room", req, e)
		}
	}
}

func TestDialogsNewestFirst(t *testing.T) {
	s := chattest.Start(t, fast)
	a, authA := s.LoginQuery(t, "Alice", optIn())
	b, authB := s.LoginQuery(t, "Bob", optIn())
	c, authC := s.LoginQuery(t, "Carol", optIn())
	idA, idB, idC := num(t, authA, "userId"), num(t, authB, "userId"), num(t, authC, "userId")
	if got := dialogs(t, a); len(got) != 0 {
		t.Fatalf("Dialogs before any line = %v", got)
	}
	a.Send(map[string]any{"text": "to Bob", "toUserId": idB})
	b.ExpectWhere("to Bob", isPrivate("to Bob"))
	a.Send(map[string]any{"text": "to Carol", "toUserId": idC})
	c.ExpectWhere("to Carol", isPrivate("to Carol"))
	a.ExpectWhere("to Carol", isPrivate("to Carol"))
	check := func(want ...uint64) []map[string]any {
		t.Helper()
		got := dialogs(t, a)
		if len(got) != len(want) {
			t.Fatalf("Dialogs = %v, want %d", got, len(want))
		}
		for i, d := range got {
			if num(t, d, "userId") != want[i] || d["roomId"] != protocol.DialogID(idA, want[i]) {
				t.Fatalf("Dialogs[%d] = %v, want the dialog with %d", i, d, want[i])
			}
		}
		return got
	}
	got := check(idC, idB)
	if d := got[0]; d["userName"] != "Carol" || num(t, d, "lastSeq") != 1 || d["unread"] != -1.0 {
		t.Fatalf("Carol's dialog = %v (anonymous: unread -1)", d)
	}
	if last, _ := got[0]["last"].(map[string]any); last["action"] != "PrivateMessage" || last["text"] != "to Carol" || num(t, last, "seq") != 1 {
		t.Fatalf("last = %v", got[0]["last"])
	}
	b.Send(map[string]any{"text": "back to Alice", "toUserId": idA})
	a.ExpectWhere("back to Alice", isPrivate("back to Alice"))
	got = check(idB, idC)
	if num(t, got[0], "lastSeq") != 2 || got[0]["userName"] != "Bob" || got[0]["last"].(map[string]any)["text"] != "back to Alice" {
		t.Fatalf("Bob's dialog = %v", got[0])
	}
	a.Send(map[string]any{"action": "Dialogs", "limit": 1})
	if list := a.ExpectWhere("Dialogs", isDialogAnswer)["dialogs"].([]any); len(list) != 1 {
		t.Fatalf("Dialogs limit 1 = %v", list)
	}

	// A dialog with an anonymous user lasts while that identity may resume: Quinn,
	// the seed's way (no resume), ends it by leaving.
	watcher, _ := s.Login(t, "Watcher") // the seed's way: Disconnected tells when Quinn is gone
	q, authQ := s.Login(t, "Quinn")
	a.Send(map[string]any{"text": "to Quinn", "toUserId": num(t, authQ, "userId")})
	q.ExpectWhere("to Quinn", isPrivate("to Quinn"))
	check(num(t, authQ, "userId"), idB, idC)
	q.Conn.Close()
	idQ := float64(num(t, authQ, "userId"))
	watcher.ExpectWhere("Quinn's leave", func(m map[string]any) bool { return m["action"] == "Disconnected" && m["userId"] == idQ })
	check(idB, idC)
	a.Send(map[string]any{"text": "still there?", "toUserId": idQ})
	if e := a.Expect("Error"); e["code"] != "recipient_offline" {
		t.Fatalf("a line to Quinn gone: %v", e)
	}
}

// TestDialogResumeSince: lines to an identity that may resume are kept for it; a
// resume with since= naming the dialog replays what came after that seq, once, in
// order; a login that does not name it replays nothing of it.
func TestDialogResumeSince(t *testing.T) {
	s := chattest.Start(t, fast)
	a, authA := s.LoginQuery(t, "Alice", optIn())
	b, authB := s.LoginQuery(t, "Bob", optIn())
	idA, idB := num(t, authA, "userId"), num(t, authB, "userId")
	room := protocol.DialogID(idA, idB)
	b.Send(map[string]any{"text": "1", "toUserId": idA})
	a.ExpectWhere("1", isPrivate("1"))
	a.Conn.Close()
	for i := 2; i <= 4; i++ {
		b.Send(map[string]any{"text": fmt.Sprint(i), "toUserId": idA, "clientMsgId": fmt.Sprint("m", i)})
		if sent := b.Expect("Sent"); num(t, sent, "seq") != uint64(i) {
			t.Fatalf("Sent = %v, want seq %d: an identity that may resume gets the line kept", sent, i)
		}
	}
	a, auth := s.LoginQuery(t, "Alice", optIn("resume", authA["resumeToken"].(string), "since", "lobby:0,"+room+":1"))
	if auth["resumed"] != true || num(t, auth, "userId") != idA {
		t.Fatalf("resume = %v", auth)
	}
	for i := 2; i <= 4; i++ {
		m := a.ExpectWhere("a line of the dialog", func(m map[string]any) bool { return m["action"] == "PrivateMessage" })
		if m["text"] != fmt.Sprint(i) || num(t, m, "seq") != uint64(i) || m["roomId"] != room {
			t.Fatalf("replayed %v, want seq %d", m, i)
		}
	}
	b.Send(map[string]any{"text": "live", "toUserId": idA})
	if m := a.ExpectWhere("live", func(m map[string]any) bool { return m["action"] == "PrivateMessage" }); m["text"] != "live" || num(t, m, "seq") != 5 {
		t.Fatalf("after the replay: %v, want live seq 5", m)
	}

	// Not named: nothing replayed, Dialogs and History have it.
	a.Conn.Close()
	b.Send(map[string]any{"text": "away", "toUserId": idA, "clientMsgId": "away"})
	b.ExpectWhere("Sent away", func(m map[string]any) bool { return m["action"] == "Sent" && m["clientMsgId"] == "away" })
	a, _ = s.LoginQuery(t, "Alice", optIn("resume", auth["resumeToken"].(string)))
	expectNone(t, a, "marker-a")
	if got := dialogs(t, a); len(got) != 1 || num(t, got[0], "lastSeq") != 6 || got[0]["last"].(map[string]any)["text"] != "away" {
		t.Fatalf("Dialogs after the login = %v", got)
	}
}

// TestQtClientGetsPrivateMessage: the seed's client, with no opt-in query, sends and
// gets private lines as PrivateMessage frames with the seed's keys first.
func TestQtClientGetsPrivateMessage(t *testing.T) {
	s := chattest.Start(t, fast)
	qt, authQ := s.Login(t, "Qt")
	b, authB := s.LoginQuery(t, "Bob", optIn())
	idQ, idB := num(t, authQ, "userId"), num(t, authB, "userId")
	b.Send(map[string]any{"text": "hello Qt", "toUserId": idQ})
	m := qt.ExpectWhere("hello Qt", isPrivate("hello Qt"))
	if num(t, m, "userId") != idB || m["userName"] != "Bob" || num(t, m, "toUserId") != idQ || m["userColor"] == nil {
		t.Fatalf("the Qt client got %v", m)
	}
	qt.Send(`{"text":"hi Bob","toUserId":` + fmt.Sprint(idB) + `}`)
	for _, cl := range []*chattest.Client{qt, b} {
		if m := cl.ExpectWhere("hi Bob", isPrivate("hi Bob")); num(t, m, "seq") != 2 || m["roomId"] != protocol.DialogID(idQ, idB) {
			t.Fatalf("reply = %v", m)
		}
	}
	qt.Send(`{"text":"anyone?","toUserId":424242}`)
	if m := qt.Expect("PrivateMessage"); m["text"] != protocol.NotDeliveredText {
		t.Fatalf("to nobody: %v", m)
	}
}
