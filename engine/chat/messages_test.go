package chat

import (
	"testing"
)

// TestPublicMessage: everyone, the sender included, gets the processed text with the
// sender's own fields; spoofed fields and unknown keys do not survive.
func TestPublicMessage(t *testing.T) {
	f := newFixture(t, testConfig())
	a, authA := f.login("Alice", nil)
	b, _ := f.login("Bob", nil)
	a.expectExactly("Connected", "Connected")
	b.expectExactly("Connected")
	a.send(`{"text":"hi {Bob} <img src=x onerror=alert(1)>","toUserId":0,"userName":"Mallory","userId":999,"gender":2,"userColor":"#f00","evil":"x"}`)
	for _, c := range []*client{a, b} {
		m := c.expectExactly("PublicMessage")[0]
		if m["text"] != "hi <b>Bob</b> &lt;img src=x onerror=alert(1)&gt;" {
			t.Errorf("%s: text = %q", c.name, m["text"])
		}
		if m["userName"] != "Alice" || num(t, m, "userId") != num(t, authA, "userId") || num(t, m, "gender") != 1 || m["userColor"] != testColor {
			t.Errorf("%s: sender fields = %v, want Alice's", c.name, m)
		}
		if _, ok := m["evil"]; ok {
			t.Errorf("%s: unknown key relayed: %v", c.name, m)
		}
	}
}

// TestPrivateMessagesBothWays: the recipient and the sender get a private message,
// a message to oneself comes once, and nobody else sees any.
func TestPrivateMessagesBothWays(t *testing.T) {
	f := newFixture(t, testConfig())
	a, authA := f.login("Alice", nil)
	b, authB := f.login("Bob", nil)
	c, _ := f.login("Carol", nil)
	idA, idB := num(t, authA, "userId"), num(t, authB, "userId")
	for _, cl := range []*client{a, b, c} {
		cl.unread()
	}

	a.send(map[string]any{"text": "psst", "toUserId": idB})
	for _, cl := range []*client{b, a} {
		if m := cl.expectExactly("PrivateMessage")[0]; m["text"] != "psst" || num(t, m, "userId") != idA || num(t, m, "toUserId") != idB {
			t.Fatalf("%s: PrivateMessage = %v", cl.name, m)
		}
	}
	b.send(map[string]any{"text": "hi back", "toUserId": idA})
	for _, cl := range []*client{a, b} {
		if m := cl.expectExactly("PrivateMessage")[0]; m["text"] != "hi back" || num(t, m, "userId") != idB || num(t, m, "toUserId") != idA {
			t.Fatalf("%s: reply = %v", cl.name, m)
		}
	}
	// To oneself: exactly one copy.
	a.send(map[string]any{"text": "note to self", "toUserId": idA})
	if m := a.expectExactly("PrivateMessage")[0]; m["text"] != "note to self" {
		t.Fatalf("self message = %v", m)
	}
	a.send(map[string]any{"text": "marker", "toUserId": 0})
	a.expectExactly("PublicMessage")
	// Carol saw none of it.
	if m := c.expectExactly("PublicMessage")[0]; m["text"] != "marker" {
		t.Fatalf("Carol got %v, want only the marker", m)
	}
}

// TestPrivateToOfflineUser: the seed's not-delivered answer, which the Qt client
// shows, then Error recipient_offline.
func TestPrivateToOfflineUser(t *testing.T) {
	f := newFixture(t, testConfig())
	a, _ := f.login("Alice", nil)
	a.unread()
	a.send(`{"text":"anyone?","toUserId":424242}`)
	got := a.expectExactly("PrivateMessage", "Error")
	if m := got[0]; m["text"] != "Не удалось отправить сообщение выбранному пользователю" || num(t, m, "toUserId") != 424242 || m["userName"] != "Alice" {
		t.Fatalf("not-delivered answer = %v", m)
	}
	if e := got[1]; e["code"] != "recipient_offline" {
		t.Fatalf("want Error recipient_offline, got %v", e)
	}
}

// TestBadInputGetsErrorAndNothingIsBroadcast: each bad frame gets one Error with its
// code to the sender only, and the connection stays usable.
func TestBadInputGetsErrorAndNothingIsBroadcast(t *testing.T) {
	tests := []struct {
		frame  string
		binary bool
		code   string
	}{
		{`{"text":"x"`, false, "bad_json"},
		{`not json at all`, false, "bad_json"},
		{`"just a string"`, false, "not_object"},
		{`[1,2,3]`, false, "not_object"},
		{`{"text":42}`, false, "bad_field"},
		{`{"text":"x","toUserId":"bob"}`, false, "bad_field"},
		{`{"action":"Explode"}`, false, "unknown_action"},
		{`{"event":"whatever"}`, false, "unknown_action"},
		{`{"text":"   "}`, false, "empty_text"},
		{`{}`, false, "empty_text"},
		{`{"text":"eleven chars"}`, false, "text_too_long"},
		{`{"text":"bin"}`, true, "binary_frame"},
	}
	for _, tt := range tests {
		t.Run(tt.code+" "+tt.frame, func(t *testing.T) {
			f := newFixture(t, testConfig(func(c *Config) { c.MaxTextLength = 10 }))
			a, _ := f.login("Alice", nil)
			b, _ := f.login("Bob", nil)
			a.unread()
			b.unread()
			if tt.binary {
				a.sendBinary(tt.frame)
			} else {
				a.send(tt.frame)
			}
			a.expectError(tt.code)
			b.expectExactly()
			// The connection is still usable, and Bob sees only the good message.
			a.send(`{"text":"ok","toUserId":0}`)
			a.expectExactly("PublicMessage")
			if m := b.expectExactly("PublicMessage")[0]; m["text"] != "ok" {
				t.Fatalf("Bob got %v, want only the valid message", m)
			}
		})
	}
}

// TestSeed001Heartbeat: seed 001's heartBeat ping is answered with its pong.
func TestSeed001Heartbeat(t *testing.T) {
	f := newFixture(t, testConfig())
	a, _ := f.login("Alice", nil)
	a.unread()
	a.send(`{"event":"heartBeat","content":"ping"}`)
	got := a.unread()
	if len(got) != 1 || got[0]["event"] != "heartBeat" || got[0]["content"] != "pong" {
		t.Fatalf("heartbeat answer = %v", got)
	}
}
