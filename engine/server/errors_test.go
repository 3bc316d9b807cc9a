package server_test

import (
	"strings"
	"testing"

	"github.com/chatd/chatd/engine/server/chattest"
)

// TestErrorsNameTheirLine: an Error that answers a chat line carries the line's
// clientMsgId, whichever check refused it, also one that answers later (a reply's
// lookup); an Error that answers anything else carries none.
func TestErrorsNameTheirLine(t *testing.T) {
	srv := chattest.Start(t)
	c, _ := srv.LoginQuery(t, "Alice", editOptIn)
	for _, tt := range []struct {
		name string
		line map[string]any
		code string
	}{
		{"empty text", map[string]any{"text": " ", "clientMsgId": "c1"}, "empty_text"},
		{"too long", map[string]any{"text": strings.Repeat("x", 5000), "clientMsgId": "c2"}, "text_too_long"},
		{"a room not joined", map[string]any{"text": "hi", "roomId": "elsewhere", "clientMsgId": "c3"}, "not_in_room"},
		{"an unknown file", map[string]any{"text": "", "fileId": "nope", "clientMsgId": "c4"}, "no_such_file"},
		{"a reply to nothing", map[string]any{"text": "re", "replyTo": 999, "clientMsgId": "c5"}, "no_such_message"},
	} {
		c.Send(tt.line)
		if e := c.Expect("Error"); e["code"] != tt.code || e["clientMsgId"] != tt.line["clientMsgId"] {
			t.Errorf("%s: %v, want %s with clientMsgId %v", tt.name, e, tt.code, tt.line["clientMsgId"])
		}
	}
	c.Send(map[string]any{"action": "History", "roomId": "elsewhere"})
	if e := c.Expect("Error"); e["code"] != "not_in_room" || e["clientMsgId"] != nil {
		t.Errorf("a History's Error: %v", e)
	}
}
