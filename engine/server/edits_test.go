package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

var editOptIn = url.Values{"resume": {""}, "presence": {"compact"}}

// sendTagged sends a chat line with a clientMsgId (its own, or a new one) and returns
// its seq from Sent.
func sendTagged(t *testing.T, c *chattest.Client, line map[string]any) float64 {
	t.Helper()
	cid, _ := line["clientMsgId"].(string)
	if cid == "" {
		cid = fmt.Sprint("c", time.Now().UnixNano())
		line["clientMsgId"] = cid
	}
	c.Send(line)
	sent := c.ExpectWhere("Sent "+cid, func(m map[string]any) bool { return m["action"] == "Sent" && m["clientMsgId"] == cid })
	return sent["seq"].(float64)
}

// TestEditDeleteReplyOverSockets: over real sockets, the author's Edit and Delete
// reach the opted-in members as Edited and Deleted, escaped and with mentions as a new
// line's text; another user gets not_author, a missing seq no_such_message; a reply
// carries its quote (140 code points, escaped), a reply to a deleted line quotes it as
// deleted, and the seed's client gets none of it, only the lines without quotes.
func TestEditDeleteReplyOverSockets(t *testing.T) {
	srv := chattest.Start(t)
	alice, authA := srv.LoginQuery(t, "Alice", editOptIn)
	bob, _ := srv.LoginQuery(t, "Bob", editOptIn)
	qt, _ := srv.Login(t, "Qt")

	long := strings.Repeat("é", 139) + "<b>" + strings.Repeat("x", 50)
	seq := sendTagged(t, alice, map[string]any{"text": long})
	alice.Send(map[string]any{"action": "Edit", "seq": seq, "text": `<img src=x onerror=alert(1)> hi {Bob}`})
	for _, c := range []*chattest.Client{alice, bob} {
		e := c.Expect("Edited")
		if e["roomId"] != "lobby" || e["seq"] != seq || e["text"] != `&lt;img src=x onerror=alert(1)&gt; hi <b>Bob</b>` || e["editedAt"].(float64) <= 0 {
			t.Fatalf("Edited = %v", e)
		}
	}
	bob.Send(map[string]any{"action": "Edit", "seq": seq, "text": "mine now"})
	expectError(t, bob, "not_author")
	bob.Send(map[string]any{"action": "Delete", "seq": seq})
	expectError(t, bob, "not_author")
	alice.Send(map[string]any{"action": "Edit", "seq": 999, "text": "x"})
	expectError(t, alice, "no_such_message")
	alice.Send(map[string]any{"action": "Delete", "roomId": "lobby", "seq": 999})
	expectError(t, alice, "no_such_message")
	bob.Send(map[string]any{"text": "nope", "replyTo": 999})
	expectError(t, bob, "no_such_message")
	bob.Send(map[string]any{"text": "private", "toUserId": authA["userId"], "replyTo": seq})
	expectError(t, bob, "bad_field")
	alice.Send(map[string]any{"action": "Delete", "roomId": "elsewhere", "seq": 1})
	expectError(t, alice, "not_in_room")

	// A reply quotes the original as it is now: edited, its own text before escaping,
	// cut at 140 code points, then escaped.
	orig := sendTagged(t, alice, map[string]any{"text": long})
	reply := sendTagged(t, bob, map[string]any{"text": "re", "replyTo": orig})
	m := alice.ExpectWhere("the reply", func(m map[string]any) bool { return m["action"] == "PublicMessage" && m["seq"] == reply })
	q, _ := m["replyTo"].(map[string]any)
	want := strings.Repeat("é", 139) + "&lt;"
	if q == nil || q["seq"] != orig || q["userId"] != authA["userId"] || q["userName"] != "Alice" || q["text"] != want {
		t.Fatalf("reply's quote = %v, want text %q", m["replyTo"], want)
	}

	alice.Send(map[string]any{"action": "Delete", "seq": orig})
	for _, c := range []*chattest.Client{alice, bob} {
		if d := c.Expect("Deleted"); d["roomId"] != "lobby" || d["seq"] != orig {
			t.Fatalf("Deleted = %v", d)
		}
	}
	alice.Send(map[string]any{"action": "Edit", "seq": orig, "text": "back"})
	expectError(t, alice, "no_such_message")
	toDeleted := sendTagged(t, bob, map[string]any{"text": "re2", "replyTo": orig})
	m = alice.ExpectWhere("the reply to a deleted line", func(m map[string]any) bool { return m["action"] == "PublicMessage" && m["seq"] == toDeleted })
	if q, _ := m["replyTo"].(map[string]any); q == nil || q["seq"] != orig || q["deleted"] != true || q["text"] != nil {
		t.Fatalf("quote of a deleted line = %v", m["replyTo"])
	}

	// The seed's client: the lines, no quotes, no Edited or Deleted.
	bob.Send(map[string]any{"text": "the end"})
	for {
		m := qt.Next()
		if a := m["action"]; a == "Edited" || a == "Deleted" || m["replyTo"] != nil || m["editedAt"] != nil {
			t.Fatalf("the seed client got %v", m)
		}
		if m["text"] == "the end" {
			break
		}
	}
}

// TestEditWindowAndLimit: an Edit after --edit-window gets edit_window_over (a Delete
// still works), and Edits cost the limiter's costly class: a burst of them is refused.
func TestEditWindowAndLimit(t *testing.T) {
	srv := chattest.Start(t, func(c *server.Config) { c.Chat.EditWindow = 200 * time.Millisecond })
	alice, _ := srv.LoginQuery(t, "Alice", editOptIn)
	seq := sendTagged(t, alice, map[string]any{"text": "soon old"})
	time.Sleep(300 * time.Millisecond)
	alice.Send(map[string]any{"action": "Edit", "seq": seq, "text": "too late"})
	expectError(t, alice, "edit_window_over")
	alice.Send(map[string]any{"action": "Delete", "seq": seq})
	alice.Expect("Deleted")

	for range 15 {
		alice.Send(map[string]any{"action": "Edit", "seq": 999, "text": "x"})
	}
	limited := 0
	for range 15 {
		if e := alice.Expect("Error"); e["code"] == "rate_limited" {
			limited++
		} else if e["code"] != "no_such_message" {
			t.Fatalf("got %v", e)
		}
	}
	if limited == 0 {
		t.Fatal("15 Edits at once were all taken")
	}
}

// TestEditsSurviveRestart: after a restart on the same data dir, History and a
// resume's replay show the edited text, the deleted line in its shape (no text, seqs
// without a gap), the reply's quote, and a reply to the deleted line quoting it as
// deleted.
func TestEditsSurviveRestart(t *testing.T) {
	cfg := chattest.Config(t)
	srv := chattest.StartConfig(t, cfg)
	alice, auth := srv.LoginQuery(t, "Alice", editOptIn)
	s1 := sendTagged(t, alice, map[string]any{"text": "first"})
	s2 := sendTagged(t, alice, map[string]any{"text": "secret"})
	s3 := sendTagged(t, alice, map[string]any{"text": "re", "replyTo": s1})
	s4 := sendTagged(t, alice, map[string]any{"text": "re secret", "replyTo": s2})
	alice.Send(map[string]any{"action": "Edit", "seq": s1, "text": "first, edited"})
	alice.Expect("Edited")
	alice.Send(map[string]any{"action": "Delete", "seq": s2})
	alice.Expect("Deleted")
	srv.Stop()

	srv = chattest.StartConfig(t, cfg)
	check := func(what string, msgs map[float64]map[string]any) {
		t.Helper()
		if m := msgs[s1]; m["text"] != "first, edited" || m["editedAt"] == nil {
			t.Fatalf("%s: the edited line = %v", what, m)
		}
		if m := msgs[s2]; m["deleted"] != true || m["text"] != nil || m["userId"] != auth["userId"] || m["ts"] == nil {
			t.Fatalf("%s: the deleted line = %v", what, m)
		}
		if q, _ := msgs[s3]["replyTo"].(map[string]any); q == nil || q["text"] != "first" {
			t.Fatalf("%s: the reply = %v", what, msgs[s3])
		}
		// Deleting a line scrubs its excerpt from the replies quoting it.
		if q, _ := msgs[s4]["replyTo"].(map[string]any); q == nil || q["seq"] != s2 || q["deleted"] != true || q["text"] != nil {
			t.Fatalf("%s: the reply to the deleted line = %v", what, msgs[s4])
		}
	}
	bob, _ := srv.LoginQuery(t, "Bob", editOptIn)
	bob.Send(map[string]any{"action": "History", "roomId": "lobby"})
	h := bob.Expect("History")
	byseq := map[float64]map[string]any{}
	for _, m := range h["messages"].([]any) {
		mm := m.(map[string]any)
		byseq[mm["seq"].(float64)] = mm
	}
	if len(byseq) != 4 {
		t.Fatalf("History = %v", h)
	}
	check("History", byseq)

	a, auth2 := srv.LoginQuery(t, "Alice", url.Values{"resume": {auth["resumeToken"].(string)}, "since": {"lobby:0"}, "presence": {"compact"}})
	if auth2["resumed"] != true {
		t.Fatalf("resume: %v", auth2)
	}
	replay := map[float64]map[string]any{}
	for len(replay) < 4 {
		m := a.ExpectWhere("a replayed line", func(m map[string]any) bool { return m["action"] == "PublicMessage" })
		replay[m["seq"].(float64)] = m
	}
	check("the resume's replay", replay)

	// The seed's client gets the room's last lines on login as it always did: the
	// edited text, no editedAt, no quote, and nothing for the deleted line.
	qt, _ := srv.Login(t, "Qt")
	for _, want := range []float64{s1, s3, s4} {
		m := qt.Expect("PublicMessage")
		if m["seq"] != want || m["editedAt"] != nil || m["replyTo"] != nil || m["deleted"] != nil {
			t.Fatalf("the seed client's replay: %v, want seq %v as the seed has it", m, want)
		}
	}
}

// TestModeratorsDelete: an account named in --moderators deletes another user's
// message (but may not edit it); an anonymous user who asks for the moderator's name
// is not one.
func TestModeratorsDelete(t *testing.T) {
	srv := chattest.Start(t, func(c *server.Config) { c.Chat.Moderators = []string{"Mod"} })
	token, _ := newAPI(t, srv, "").register("Mod", "moderator password")
	alice, _ := srv.LoginQuery(t, "Alice", editOptIn)
	seq := sendTagged(t, alice, map[string]any{"text": "spam"})
	fake, auth := srv.LoginQuery(t, "Mod", editOptIn)
	if auth["userName"] == "Mod" {
		t.Fatalf("an anonymous user got the moderator's registered name: %v", auth)
	}
	fake.Send(map[string]any{"action": "Delete", "seq": seq})
	if e := fake.Expect("Error"); e["code"] != "not_author" {
		t.Fatalf("an anonymous look-alike's Delete: %v", e)
	}
	mod, _ := srv.LoginQuery(t, "x", url.Values{"token": {token}, "resume": {""}, "presence": {"compact"}})
	mod.Send(map[string]any{"action": "Edit", "seq": seq, "text": "edited by a moderator"})
	if e := mod.Expect("Error"); e["code"] != "not_author" {
		t.Fatalf("a moderator's Edit: %v", e)
	}
	mod.Send(map[string]any{"action": "Delete", "seq": seq})
	if m := alice.Expect("Deleted"); m["seq"] != seq {
		t.Fatalf("the author got %v", m)
	}
}

// TestNoReactionOnADeletedLine: a React to a deleted line gets no_such_message and
// changes nothing.
func TestNoReactionOnADeletedLine(t *testing.T) {
	srv := chattest.Start(t)
	alice, _ := srv.LoginQuery(t, "Alice", editOptIn)
	seq := sendTagged(t, alice, map[string]any{"text": "soon gone"})
	alice.Send(map[string]any{"action": "Delete", "seq": seq})
	alice.Expect("Deleted")
	alice.Send(map[string]any{"action": "React", "roomId": "lobby", "seq": seq, "emoji": "👍"})
	if e := alice.Expect("Error"); e["code"] != "no_such_message" {
		t.Fatalf("a reaction to a deleted line: %v", e)
	}
}

// TestLinesAfterAReplyKeepTheirOrder: lines sent right after a reply (whose quote is
// read from the store first) wait behind it: every member gets them in the order they
// were sent, with seqs in that order.
func TestLinesAfterAReplyKeepTheirOrder(t *testing.T) {
	srv := chattest.Start(t)
	alice, _ := srv.LoginQuery(t, "Alice", editOptIn)
	bob, _ := srv.LoginQuery(t, "Bob", editOptIn)
	seq := sendTagged(t, alice, map[string]any{"text": "the original"})
	texts := []string{"a reply", "right after", "a reply again", "and last"}
	for i, text := range texts {
		line := map[string]any{"text": text}
		if i%2 == 0 {
			line["replyTo"] = seq
		}
		alice.Send(line)
	}
	var last float64
	for i, want := range texts {
		m := bob.ExpectWhere("line "+want, func(m map[string]any) bool {
			return m["action"] == "PublicMessage" && m["text"] != "the original"
		})
		if m["text"] != want || m["seq"].(float64) <= last {
			t.Fatalf("line %d: %v, want %q after seq %v", i, m, want, last)
		}
		last = m["seq"].(float64)
	}
}
