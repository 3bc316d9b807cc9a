package protocol

import (
	"strings"
	"testing"
)

func TestValidEmoji(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"👍", true},
		{"👍🏽", true},      // skin tone
		{"🇺🇦", true},      // flag
		{"👨‍👩‍👧", true},   // ZWJ family
		{"❤️", true},      // VS16
		{"❤", true},       // text-presentation heart
		{"🏴󠁧󠁢󠁳󠁣󠁴󠁿", true}, // subdivision flag (tags)
		{"1️⃣", true},     // keycap
		{"👩🏽‍💻", true},    // skin tone inside a ZWJ sequence
		{"a", false},
		{"1", false},
		{"👍👍", false}, // two clusters
		{"👍 ", false},
		{"<img onerror=x>", false},
		{"", false},
		{strings.Repeat("\u200d", 66), false}, // 198 bytes of ZWJs
		{"\u200d", false},
		{"👍\u200d", false}, // dangling ZWJ
		{"🇺", false},       // one regional indicator
		{"🏽", false},       // a lone skin tone
		{"\ufe0f", false},
		{"é", false},
		{"\xff", false},
	}
	for _, c := range cases {
		if got := ValidEmoji(c.in); got != c.want {
			t.Errorf("ValidEmoji(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestDecodeEmoji(t *testing.T) {
	if e, err := DecodeEmoji([]byte(`{"action":"React","emoji":"👍"}`)); err != nil || e != "👍" {
		t.Fatalf("got %q, %v", e, err)
	}
	if _, err := DecodeEmoji([]byte(`{"action":"React","emoji":5}`)); err == nil || err.Code != CodeBadField {
		t.Fatalf("number: %v", err)
	}
	if _, err := DecodeEmoji([]byte(`{"action":"React"}`)); err == nil || err.Code != CodeBadEmoji {
		t.Fatalf("missing: %v", err)
	}
}

func TestAppendReactions(t *testing.T) {
	got := string(AppendReactions(nil, "dev", 7, []ReactionCount{{"👍", []uint64{1, 2}}, {"❤️", []uint64{3}}}))
	want := `{"action":"Reactions","roomId":"dev","seq":7,"reactions":[{"emoji":"👍","count":2,"userIds":[1,2]},{"emoji":"❤️","count":1,"userIds":[3]}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := string(WithReactions([]byte(`{"seq":1}`), []ReactionCount{{"👍", []uint64{4}}})); got != `{"seq":1,"reactions":[{"emoji":"👍","count":1,"userIds":[4]}]}` {
		t.Fatal(got)
	}
}
