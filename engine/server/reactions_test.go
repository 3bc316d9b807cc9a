package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chatd/chatd/engine/server/chattest"
)

var optIn = url.Values{"resume": {""}, "presence": {"compact"}}

// sendLine sends a chat line to room and returns its seq from Sent.
func sendLine(t *testing.T, c *chattest.Client, room, text string) float64 {
	t.Helper()
	c.Send(map[string]any{"text": text, "roomId": room, "clientMsgId": fmt.Sprintf("%s-%.40s", room, text)})
	return c.ExpectWhere("Sent", func(m map[string]any) bool { return m["action"] == "Sent" })["seq"].(float64)
}

// reactionsOf reads the next Reactions of seq.
func nextReactions(t *testing.T, c *chattest.Client, seq float64) []any {
	t.Helper()
	m := c.ExpectWhere("Reactions", func(m map[string]any) bool { return m["action"] == "Reactions" && m["seq"] == seq })
	if m["roomId"] != "lobby" {
		t.Fatalf("Reactions for %v", m["roomId"])
	}
	r, _ := m["reactions"].([]any)
	return r
}

// summary is a reaction list as "emoji:count:id,id" strings.
func summary(rs []any) []string {
	var out []string
	for _, r := range rs {
		m := r.(map[string]any)
		var ids []string
		for _, id := range m["userIds"].([]any) {
			ids = append(ids, fmt.Sprint(id))
		}
		out = append(out, fmt.Sprintf("%s:%v:%s", m["emoji"], m["count"], strings.Join(ids, ",")))
	}
	return out
}

func expectError(t *testing.T, c *chattest.Client, code string) {
	t.Helper()
	if e := c.ExpectWhere("Error", func(m map[string]any) bool { return m["action"] == "Error" }); e["code"] != code {
		t.Fatalf("got %v, want Error %s", e, code)
	}
}

// TestReactionsOverSockets: a reaction toggles on and off and every opted-in member
// gets the message's whole state; bad emoji, a missing message and a 21st distinct
// emoji are refused; History and a restart keep the reactions; the seed's client
// never gets a Reactions frame or a reactions key.
func TestReactionsOverSockets(t *testing.T) {
	cfg := chattest.Config(t)
	cfg.Chat.RateBurst = 200
	srv := chattest.StartConfig(t, cfg)
	alice, authA := srv.LoginQuery(t, "Alice", optIn)
	bob, authB := srv.LoginQuery(t, "Bob", optIn)
	qt, _ := srv.Login(t, "Qt")
	qt.AutoPong = true
	a, b := fmt.Sprint(authA["userId"]), fmt.Sprint(authB["userId"])

	seq := sendLine(t, alice, "lobby", "react to me")
	bob.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": "👍"})
	if got := summary(nextReactions(t, alice, seq)); !slices.Equal(got, []string{"👍:1:" + b}) {
		t.Fatalf("Alice got %v", got)
	}
	nextReactions(t, bob, seq)
	alice.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": "👍"})
	if got := summary(nextReactions(t, bob, seq)); !slices.Equal(got, []string{"👍:2:" + b + "," + a}) {
		t.Fatalf("Bob got %v", got)
	}
	bob.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": "👍"}) // off again
	if got := summary(nextReactions(t, bob, seq)); !slices.Equal(got, []string{"👍:1:" + a}) {
		t.Fatalf("after Bob's toggle off: %v", got)
	}

	for _, bad := range []string{"a", "👍👍", "<img onerror=x>", "", strings.Repeat("\u200d", 66)} {
		alice.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": bad})
		expectError(t, alice, "bad_emoji")
	}
	alice.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq + 100, "emoji": "👍"})
	expectError(t, alice, "no_such_message")
	alice.Send(map[string]any{"action": "React", "roomId": "lobby", "emoji": "👍"})
	expectError(t, alice, "no_such_message")
	alice.Send(map[string]any{"action": "React", "roomId": "nowhere", "seq": seq, "emoji": "👍"})
	expectError(t, alice, "not_in_room")

	good := []string{"👍🏽", "🇺🇦", "👨‍👩‍👧", "❤️", "😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰"}
	for _, e := range good { // 19 more: 20 distinct
		alice.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": e})
	}
	alice.ExpectWhere("20 emoji", func(m map[string]any) bool {
		return m["action"] == "Reactions" && len(m["reactions"].([]any)) == 20
	})
	alice.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": "🤩"})
	expectError(t, alice, "too_many_reactions")

	checkHistory := func(c *chattest.Client) {
		t.Helper()
		c.Send(map[string]any{"action": "History", "roomId": "lobby"})
		h := c.Expect("History")
		var last map[string]any
		for _, x := range h["messages"].([]any) {
			if x.(map[string]any)["seq"] == seq {
				last = x.(map[string]any)
			}
		}
		rs, _ := last["reactions"].([]any)
		if last["seq"] != seq || len(rs) != 20 || summary(rs)[0] != "👍:1:"+a || summary(rs)[4] != "❤️:1:"+a {
			t.Fatalf("History's message: %v", last)
		}
	}
	checkHistory(bob)

	// The seed's client: up to Alice's marker line, no Reactions and no reactions key.
	sendLine(t, alice, "lobby", "marker")
	qt.ExpectWhere("the marker", func(m map[string]any) bool {
		if m["action"] == "Reactions" || m["reactions"] != nil {
			t.Fatalf("the seed client got %v", m)
		}
		return m["text"] == "marker"
	})

	srv.Stop()
	srv = chattest.StartConfig(t, cfg)
	carol, _ := srv.LoginQuery(t, "Carol", optIn)
	replayed := carol.ExpectWhere("the replayed message", func(m map[string]any) bool { return m["seq"] == seq && m["text"] == "react to me" })
	if rs, _ := replayed["reactions"].([]any); len(rs) != 20 {
		t.Fatalf("the replay after a restart: %v", replayed)
	}
	checkHistory(carol)
	qt2 := chattest.Dial(t, srv.URL("Qt2", "#000000", 0))
	qt2.ExpectWhere("the replayed message", func(m map[string]any) bool {
		if m["reactions"] != nil {
			raw, _ := json.Marshal(m)
			t.Fatalf("the seed client's replay: %s", raw)
		}
		return m["seq"] == seq
	})
}

// TestReactionsWithoutHistory: with no data dir the toggles still work, kept in memory.
func TestReactionsWithoutHistory(t *testing.T) {
	cfg := chattest.Config(t)
	cfg.DataDir = ""
	srv := chattest.StartConfig(t, cfg)
	alice, authA := srv.LoginQuery(t, "Alice", optIn)
	alice.Send(map[string]any{"text": "no disk", "clientMsgId": "x"})
	seq := alice.Expect("Sent")["seq"].(float64)
	alice.Send(map[string]any{"action": "React", "seq": seq, "emoji": "🇺🇦"})
	if got := summary(nextReactions(t, alice, seq)); !slices.Equal(got, []string{fmt.Sprintf("🇺🇦:1:%v", authA["userId"])}) {
		t.Fatalf("got %v", got)
	}
	alice.Send(map[string]any{"action": "React", "seq": seq, "emoji": "🇺🇦"})
	if got := nextReactions(t, alice, seq); len(got) != 0 {
		t.Fatalf("after the toggle off: %v", got)
	}
}
