package protocol

import (
	"strings"
	"testing"
)

// TestExcerptAndUnformat: a quote is the raw text's first 140 code points, escaped
// after the cut (so an entity is never cut in half), and UnformatText recovers the raw
// text from FormatText's output, mentions included.
func TestExcerptAndUnformat(t *testing.T) {
	raw := strings.Repeat("ж", 139) + `<"&'> {Bob}`
	if got, want := Excerpt(raw), strings.Repeat("ж", 139)+"&lt;"; got != want {
		t.Errorf("Excerpt = %q, want %q", got, want)
	}
	for _, s := range []string{`a < b & {Bob} say "hi" 'x' </b> <b>`, "plain", "{}", "{a{b}"} {
		if got := UnformatText(FormatText(s)); got != s {
			t.Errorf("UnformatText(FormatText(%q)) = %q", s, got)
		}
	}
}

func TestEditEncoders(t *testing.T) {
	cases := map[string]string{
		string(AppendEdited(nil, "dev", 4, "a &amp; <b>B</b>", 99)):                              `{"action":"Edited","roomId":"dev","seq":4,"text":"a &amp; <b>B</b>","editedAt":99}`,
		string(AppendDeleted(nil, "dev", 4)):                                                     `{"action":"Deleted","roomId":"dev","seq":4}`,
		string(AppendReplyQuote(nil, 3, 7, "Al", "hi", false)):                                   `{"seq":3,"userId":7,"userName":"Al","text":"hi"}`,
		string(AppendReplyQuote(nil, 3, 7, "Al", "hi", true)):                                    `{"seq":3,"deleted":true}`,
		string(AppendDeletedStored(nil, &Stored{Seq: 5, UserID: 7, TS: 8}, false)):               `{"seq":5,"deleted":true,"userId":7,"ts":8}`,
		string(AppendDeletedStored(nil, &Stored{RoomID: "dev", Seq: 5, UserID: 7, TS: 8}, true)): `{"seq":5,"deleted":true,"userId":7,"ts":8,"action":"PublicMessage","roomId":"dev"}`,
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	if seq, err := DecodeReplyTo([]byte(`{"text":"x","replyTo":12}`)); seq != 12 || err != nil {
		t.Errorf("DecodeReplyTo = %d, %v", seq, err)
	}
	if _, err := DecodeReplyTo([]byte(`{"replyTo":"x"}`)); err == nil || err.Code != CodeBadField {
		t.Errorf("a string replyTo: %v", err)
	}
	if _, err := DecodeReplyTo([]byte(`{"replyTo":0}`)); err == nil || err.Code != CodeNoSuchMessage {
		t.Errorf("replyTo 0: %v", err)
	}
}
