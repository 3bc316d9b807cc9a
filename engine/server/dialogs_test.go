package server_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Dialogs between accounts over real sockets: a line to an offline account is kept
// for it (Dialogs shows it unread, History gives it), Read moves the position, own
// lines never count, Edited and Reactions reach both sides, and the dialogs and their
// order survive a restart.

func accountDialogs(t *testing.T, c *chattest.Client) []map[string]any {
	t.Helper()
	c.Send(map[string]any{"action": "Dialogs"})
	list, _ := c.ExpectWhere("Dialogs", func(m map[string]any) bool { return m["action"] == "Dialogs" })["dialogs"].([]any)
	out := make([]map[string]any, len(list))
	for i, d := range list {
		out[i] = d.(map[string]any)
	}
	return out
}

// laterTS waits until the clock has passed ts (unix ms), so two lines get distinct
// times and newest-first has one answer.
func laterTS(t *testing.T, ts float64) {
	chattest.Eventually(t, 5*time.Second, "the next millisecond", func() bool { return float64(time.Now().UnixMilli()) > ts })
}

func TestDialogWithOfflineAccount(t *testing.T) {
	cfg := chattest.Config(t)
	s := chattest.StartConfig(t, cfg)
	api := newAPI(t, s, "127.0.0.1")
	tokA, idA := api.register("Alice", "alice password")
	tokB, idB := api.register("Bob", "bobs password")
	tokC, idC := api.register("Carol", "carols password")
	room := protocol.DialogID(uint64(idA), uint64(idB))

	alice, _ := dialToken(t, s, tokA)
	for _, text := range []string{"are you there?", "call me"} {
		sendTagged(t, alice, map[string]any{"text": text, "toUserId": idB})
	}
	carol, _ := dialToken(t, s, tokC)
	laterTS(t, float64(time.Now().UnixMilli()))
	sendTagged(t, carol, map[string]any{"text": "lunch?", "roomId": protocol.DialogID(uint64(idB), uint64(idC))})
	carol.Conn.Close()

	bob, _ := dialToken(t, s, tokB)
	got := accountDialogs(t, bob)
	if len(got) != 2 || got[0]["userName"] != "Carol" || got[1]["roomId"] != room || got[1]["userName"] != "Alice" || got[1]["userId"] != idA {
		t.Fatalf("Bob's Dialogs = %v, want Carol's then Alice's", got)
	}
	if d := got[1]; d["unread"] != 2.0 || d["lastSeq"] != 2.0 || d["last"].(map[string]any)["text"] != "call me" {
		t.Fatalf("Alice's dialog = %v, want 2 unread", d)
	}
	bob.Send(map[string]any{"action": "History", "roomId": room})
	h := bob.Expect("History")
	if msgs := h["messages"].([]any); len(msgs) != 2 || msgs[0].(map[string]any)["text"] != "are you there?" {
		t.Fatalf("History = %v", h)
	}
	bob.Send(map[string]any{"action": "Read", "roomId": room, "seq": 1})
	if got := accountDialogs(t, bob); got[1]["unread"] != 1.0 {
		t.Fatalf("after Read 1: %v", got[1])
	}
	if got := accountDialogs(t, alice); len(got) != 1 || got[0]["unread"] != 0.0 || got[0]["userName"] != "Bob" {
		t.Fatalf("Alice's Dialogs = %v: her own lines are never unread", got)
	}

	// Both sides get Edited and Reactions.
	laterTS(t, float64(time.Now().UnixMilli()))
	seq := sendTagged(t, bob, map[string]any{"text": "hi Alice", "roomId": room})
	bob.Send(map[string]any{"action": "Edit", "roomId": room, "seq": seq, "text": "hello Alice"})
	bob.Send(map[string]any{"action": "React", "roomId": room, "seq": seq, "emoji": "👍"})
	for _, c := range []*chattest.Client{alice, bob} {
		seen := map[any]map[string]any{} // in either order: the edit waits for a lookup, the reaction does not
		for len(seen) < 2 {
			m := c.ExpectWhere("Edited and Reactions", func(m map[string]any) bool { return m["action"] == "Edited" || m["action"] == "Reactions" })
			seen[m["action"]] = m
		}
		if e := seen["Edited"]; e["roomId"] != room || e["seq"] != seq || e["text"] != "hello Alice" {
			t.Fatalf("Edited = %v", e)
		}
		if r := seen["Reactions"]; r["roomId"] != room || r["seq"] != seq {
			t.Fatalf("Reactions = %v", r)
		}
	}
	if got := accountDialogs(t, bob); got[0]["roomId"] != room || got[0]["unread"] != 0.0 {
		t.Fatalf("Bob's Dialogs after his line = %v: newest first, read", got)
	}

	// Kept across a restart, in the same order, with the read positions.
	s.Stop()
	s = chattest.StartConfig(t, cfg)
	bob, _ = dialToken(t, s, tokB)
	got = accountDialogs(t, bob)
	if len(got) != 2 || got[0]["roomId"] != room || got[1]["userName"] != "Carol" || got[1]["unread"] != 1.0 || got[0]["lastSeq"] != 3.0 {
		t.Fatalf("Bob's Dialogs after a restart = %v", got)
	}
	if last := got[0]["last"].(map[string]any); last["text"] != "hello Alice" || last["editedAt"] == nil {
		t.Fatalf("last line after a restart = %v", last)
	}
}

// TestOldInboxStaysReadable: private lines stored in a per-user inbox before dialogs
// ("@<userId>") are still its owner's to page with History after the upgrade; since=
// naming the old inbox is ignored, without an Error.
func TestOldInboxStaysReadable(t *testing.T) {
	cfg := chattest.Config(t)
	s := chattest.StartConfig(t, cfg)
	tok, id := newAPI(t, s, "127.0.0.1").register("Olga", "olgas password")
	s.Stop()
	inbox := protocol.InboxID(uint64(id))
	st, err := store.OpenSQLite(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	old := store.Message{Room: inbox, Seq: 1, TS: 1, UserID: 99, UserName: "Pavel", Color: "#000000", ToUserID: uint64(id), Text: "from before"}
	if err := st.Write(context.Background(), &store.Batch{Messages: []store.Message{old}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	s = chattest.StartConfig(t, cfg)
	c := chattest.Dial(t, "ws://"+s.Addr+"/?presence=compact&since="+url.QueryEscape(inbox+":0,lobby:0")+"&token="+url.QueryEscape(tok))
	c.Expect("Authorized")
	c.Send(map[string]any{"action": "History", "roomId": inbox})
	h := c.ExpectWhere("History or Error", func(m map[string]any) bool { return m["action"] == "History" || m["action"] == "Error" })
	msgs, _ := h["messages"].([]any)
	if h["action"] != "History" || len(msgs) != 1 || msgs[0].(map[string]any)["text"] != "from before" {
		t.Fatalf("History of the old inbox = %v", h)
	}
	if got := accountDialogs(t, c); len(got) != 0 {
		t.Fatalf("Dialogs = %v: an old inbox is no dialog", got)
	}
}

// TestDialogOnSeveralDevices: every device of an account gets the dialog's lines,
// only the sending device its Sent, and a Read of the dialog on one sends ReadMarker
// to the other.
func TestDialogOnSeveralDevices(t *testing.T) {
	s := chattest.Start(t)
	api := newAPI(t, s, "127.0.0.1")
	tokA, idA := api.register("Ida", "idas password")
	tokB, idB := api.register("Jon", "jons password")
	room := protocol.DialogID(uint64(idA), uint64(idB))
	phone, _ := dialToken(t, s, tokA)
	laptop, _ := dialToken(t, s, tokA)
	jon, _ := dialToken(t, s, tokB)

	seq := sendTagged(t, jon, map[string]any{"text": "hi Ida", "toUserId": idA})
	for _, d := range []*chattest.Client{phone, laptop} {
		if m := d.ExpectWhere("hi Ida", func(m map[string]any) bool { return m["action"] == "PrivateMessage" }); m["text"] != "hi Ida" || m["roomId"] != room || m["seq"] != seq {
			t.Fatalf("a device got %v", m)
		}
	}
	phone.Send(map[string]any{"text": "hi Jon", "roomId": room, "clientMsgId": "p1"})
	var laptopSent bool
	laptop.ExpectWhere("the phone's line", func(m map[string]any) bool {
		laptopSent = laptopSent || m["action"] == "Sent"
		return m["action"] == "PrivateMessage" && m["text"] == "hi Jon"
	})
	if sent := phone.ExpectWhere("Sent p1", func(m map[string]any) bool { return m["action"] == "Sent" }); sent["roomId"] != room || sent["seq"] != seq+1 {
		t.Fatalf("Sent = %v", sent)
	}
	jon.ExpectWhere("hi Jon", func(m map[string]any) bool { return m["action"] == "PrivateMessage" && m["text"] == "hi Jon" })
	seq = sendTagged(t, jon, map[string]any{"text": "how are you", "roomId": room}) // after Ida's own line, which read the dialog
	phone.ExpectWhere("how are you", func(m map[string]any) bool { return m["action"] == "PrivateMessage" && m["seq"] == seq })
	phone.Send(map[string]any{"action": "Read", "roomId": room, "seq": seq})
	m := laptop.ExpectWhere("ReadMarker", func(m map[string]any) bool { return m["action"] == "ReadMarker" || m["action"] == "Sent" })
	if laptopSent || m["action"] != "ReadMarker" || m["roomId"] != room || m["seq"] != seq {
		t.Fatalf("the laptop got %v (a Sent before: %v), want ReadMarker %s %v", m, laptopSent, room, seq)
	}
}
