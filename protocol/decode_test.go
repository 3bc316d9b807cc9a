package protocol

import (
	"bytes"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Inbound
	}{
		{"qt chat line", `{"text":"hi","toUserId":0}`, Inbound{Text: "hi"}},
		{"qt private", `{"text":"hi","toUserId":7}`, Inbound{Text: "hi", ToUserID: 7}},
		{"id as string", `{"text":"hi","toUserId":"7"}`, Inbound{Text: "hi", ToUserID: 7}},
		{"pong", `{"action":"Pong"}`, Inbound{Action: "Pong"}},
		{"heartbeat", `{"event":"heartBeat","content":"ping"}`, Inbound{Event: "heartBeat", Content: "ping"}},
		{"unknown keys dropped", `{"text":"x","userName":"spoof","evil":"<b>"}`, Inbound{Text: "x"}},
		{"null id", `{"text":"x","toUserId":null}`, Inbound{Text: "x"}},
		{"leading space", "  \n{\"text\":\"x\"}", Inbound{Text: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Decode(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in   string
		want Code
	}{
		{``, CodeBadJSON},
		{`{`, CodeBadJSON},
		{`{"text":"x",}`, CodeBadJSON},
		{`hello`, CodeBadJSON},
		{`"a string"`, CodeNotObject},
		{`42`, CodeNotObject},
		{`[1,2]`, CodeNotObject},
		{`null`, CodeNotObject},
		{`{"text":5}`, CodeBadField},
		{`{"text":"x","toUserId":-1}`, CodeBadField},
		{`{"text":"x","toUserId":1.5}`, CodeBadField},
		{`{"text":"x","toUserId":"abc"}`, CodeBadField},
		{`{"text":"x","toUserId":{}}`, CodeBadField},
		{`{"action":7}`, CodeBadField},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.in))
		if err == nil || err.Code != tt.want {
			t.Errorf("Decode(%q) error = %v, want code %s", tt.in, err, tt.want)
		}
	}
}

// The golden file holds one server message per line, exactly as the wire carries it.
func TestEncodeGolden(t *testing.T) {
	self := AppendUserFields(nil, User{ID: 1, Name: "Вася", Gender: GenderMale, Color: "#34495e"})
	other := AppendUserFields(nil, User{ID: 2, Name: `Bob "the" \ builder`, Gender: GenderUnknown, Color: "#fff"})
	var got bytes.Buffer
	for _, msg := range [][]byte{
		AppendAuthorizedRoster(nil, self, roster([][]byte{self, other})),
		AppendUserEvent(nil, ActionConnected, self),
		AppendUserEvent(nil, ActionDisconnected, other),
		AppendUserEvent(nil, ActionConnectionLost, other),
		PingJSON,
		AppendChat(nil, ActionPublicMessage, self, FormatText("hi {Bob} <3"), 0),
		AppendChat(nil, ActionPrivateMessage, self, "line1\nline2\t\u2028", 2),
		AppendChat(nil, ActionPrivateMessage, self, NotDeliveredText, 99),
		AppendError(nil, &Error{Code: CodeUnknownAction, Message: `unknown action "Foo"`}),
		HeartbeatPongJSON,
	} {
		got.Write(msg)
		got.WriteByte('\n')
	}
	golden(t, "testdata/server_messages.golden", got.Bytes())
}

func TestAppendStringInvalidUTF8(t *testing.T) {
	got := string(AppendString(nil, "a\xffb\x01"))
	if want := "\"a\ufffdb\\u0001\""; got != want {
		t.Errorf("AppendString = %q, want %q", got, want)
	}
}

func TestAppendInboundRoundTrip(t *testing.T) {
	for _, in := range []Inbound{
		{Text: "hi"},
		{Text: "hi", ToUserID: 3},
		{Action: ActionPong},
		{Event: HeartbeatEvent, Content: HeartbeatPing},
	} {
		out, err := Decode(AppendInbound(nil, in))
		if err != nil || out != in {
			t.Errorf("round trip of %+v: got %+v, %v", in, out, err)
		}
	}
	if got := string(AppendInbound(nil, Inbound{Text: "hi"})); got != `{"text":"hi","toUserId":0}` {
		t.Errorf("chat line encodes as %s, want the Qt client's form", got)
	}
}
