package protocol

import (
	"encoding/json"
	"testing"
)

// FuzzDecode: Decode never panics, and whatever it accepts survives
// decode → encode → decode unchanged. Text formatting output is valid inside JSON.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"text":"hi","toUserId":0}`,
		`{"text":"hi {Bob}","toUserId":"7"}`,
		`{"action":"Pong"}`,
		`{"event":"heartBeat","content":"ping"}`,
		`{"text":5}`, `[1]`, `"x"`, `{`, ``, `null`,
		`{"text":"\u0000\ud800","toUserId":18446744073709551615}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Decode(data)
		if err != nil {
			if err.Code == "" || err.Message == "" {
				t.Fatalf("error without code or message: %+v", err)
			}
			return
		}
		again, err := Decode(AppendInbound(nil, in))
		if err != nil {
			t.Fatalf("re-decode of %+v failed: %v", in, err)
		}
		if again != in {
			t.Fatalf("decode→encode→decode changed %+v into %+v", in, again)
		}
		msg := AppendChat(nil, ActionPublicMessage, AppendUserFields(nil, User{ID: 1, Name: in.Text, Color: "#000"}), FormatText(in.Text), in.ToUserID)
		if !json.Valid(msg) {
			t.Fatalf("encoded message is not valid JSON: %s", msg)
		}
	})
}
