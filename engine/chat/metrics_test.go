package chat

import (
	"testing"

	"github.com/chatd/chatd/protocol"
)

// TestInboundOf: metrics class each request as OnMessage dispatches it.
func TestInboundOf(t *testing.T) {
	tests := []struct {
		frame string
		want  string
	}{
		{`{"action":"Pong"}`, "Pong"},
		{`{"event":"heartBeat","content":"ping"}`, "Heartbeat"},
		{`{"text":"hi","toUserId":0}`, "PublicMessage"},
		{`{"action":"Message","text":"hi","roomId":"r"}`, "PublicMessage"},
		{`{"text":"psst","toUserId":7}`, "PrivateMessage"},
		{`{"action":"Ack","roomId":"r","seq":1}`, "Ack"},
		{`{"action":"JoinRoom","roomId":"r"}`, "JoinRoom"},
		{`{"action":"LeaveRoom","roomId":"r"}`, "LeaveRoom"},
		{`{"action":"Rooms"}`, "Rooms"},
		{`{"action":"Users","roomId":"r"}`, "Users"},
		{`{"action":"History","roomId":"r"}`, "History"},
		{`{"text":"hi","roomId":"@3-7"}`, "PrivateMessage"},
		{`{"action":"Read","roomId":"r","seq":1}`, "Read"},
		{`{"action":"Dialogs"}`, "Dialogs"},
		{`{"action":"Teleport"}`, "unknown"},
		{`{"event":"dance"}`, "unknown"},
	}
	for _, tt := range tests {
		in, err := protocol.Decode([]byte(tt.frame))
		if err != nil {
			t.Fatalf("%s: %v", tt.frame, err)
		}
		if got := inboundNames[inboundOf(&in)]; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.frame, got, tt.want)
		}
	}
}

// TestMetersCountWhatClientsDo: a login, lines, junk, a flood and a limit move the
// chat's meters, which read without the owner.
func TestMetersCountWhatClientsDo(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimit, cfg.RateBurst, cfg.MaxTextLength = 1, 2, 10
	f := newFixture(t, cfg)
	a, _ := f.login("Alice", nil)
	b, _ := f.login("Bob", nil)
	a.send(`{"text":"one"}`)
	b.expect("PublicMessage")
	a.send(`{"text":"far too long for the limit"}`)
	a.expect("Error")
	a.send(`{"text":"three"}`) // over the burst of 2
	a.expect("Error")
	a.send(`not json`) // cheap, so not refused
	a.expect("Error")

	m := f.ch.Meters()
	counts := func(seq func(func(string, uint64) bool)) map[string]uint64 {
		got := map[string]uint64{}
		for k, v := range seq {
			got[k] = v
		}
		return got
	}
	in, rate, errs, limits := counts(m.MessagesIn()), counts(m.RateLimited()), counts(m.ErrorsSent()), counts(m.LimitsHit())
	checks := []struct {
		what      string
		got, want uint64
	}{
		{"logins", m.Logins(), 2},
		{"deliveries", m.Deliveries(), 2},
		{"PublicMessage in", in["PublicMessage"], 3},
		{"invalid in", in["invalid"], 1},
		{"line refusals", rate["line"], 1},
		{"cheap refusals", rate["cheap"], 0},
		{"rate_limited errors", errs[string(protocol.CodeRateLimited)], 1},
		{"text_too_long errors", errs[string(protocol.CodeTextTooLong)], 1},
		{"bad_json errors", errs[string(protocol.CodeBadJSON)], 1},
		{"rate limits", limits["rate"], 1},
		{"text_length limits", limits["text_length"], 1},
		{"store queue", uint64(m.StoreQueued()), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	if _, ok := rate["other"]; ok {
		t.Errorf("an unnamed cost class shows with no refusals: %v", rate)
	}
}
