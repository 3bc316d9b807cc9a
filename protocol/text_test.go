package protocol

import "testing"

func TestFormatText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello", "hello"},
		{"<script>alert('x')</script>", "&lt;script&gt;alert(&#039;x&#039;)&lt;/script&gt;"},
		{`a & "b"`, "a &amp; &quot;b&quot;"},
		{"hi {Bob}", "hi <b>Bob</b>"},
		{"{a} and {b}", "<b>a</b> and <b>b</b>"}, // the seed's greedy regex gave <b>a} and {b</b>
		{"{}", "{}"},
		{"{a{b}", "{a<b>b</b>"},
		{"{unclosed", "{unclosed"},
		{"close} only", "close} only"},
		{"{<i>}", "<b>&lt;i&gt;</b>"}, // escaped first, so a mention cannot smuggle markup
		{"{Вася} привет", "<b>Вася</b> привет"},
		// Bidi controls are removed, so none can reorder the rest of the line.
		{"\u202Egnirts", "gnirts"},
		{"a\u2066b\u2067c\u2068d\u2069e", "abcde"},
		{"x\u200Ey\u200Fz\u061C", "xyz"},
		{"\u202A\u202B\u202C\u202D\u202E", ""},
		{"{Bo\u202Eb}", "<b>Bob</b>"},
		{"\u202E<i>", "&lt;i&gt;"},
		{"שלום עולם", "שלום עולם"}, // right-to-left letters stay as they are
	}
	for _, tt := range tests {
		if got := FormatText(tt.in); got != tt.want {
			t.Errorf("FormatText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFilterName(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  Bob  ", 32, "Bob"},
		{"Вася Пупкин", 32, "Вася Пупкин"},
		{"<script>x</script>", 32, "scriptxscript"},
		{"a  -  b", 32, "a - b"},
		{"José_07", 32, "José_07"},
		{"李小龍", 32, "李小龍"},
		{"!!!", 32, ""},
		{"abcdefghij", 4, "abcd"},
		{"ab cd", 3, "ab"},
		{"a&b+c#d", 32, "abcd"},
		{"Al\u202Eice", 32, "Alice"}, // bidi controls are not letters: never in a name
		{"\u2067Bob\u2069", 32, "Bob"},
		{"\u200F\u061CBob\u200E", 32, "Bob"},
		{"\u202Dab\u202C cd", 32, "ab cd"},
	}
	for _, tt := range tests {
		if got := FilterName(tt.in, tt.max); got != tt.want {
			t.Errorf("FilterName(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestParseGender(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "1": 1, "2": 2, "3": 0, "-1": 0, "x": 0, "": 0, " 2 ": 2} {
		if got := ParseGender(in); got != want {
			t.Errorf("ParseGender(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestValidColor(t *testing.T) {
	for in, want := range map[string]bool{
		"#34495e": true, "#FFF": true, "#000000": true,
		"34495e": false, "#12345": false, "#gggggg": false, "red": false, "": false,
		"#000;background:url(x)": false, "'><script>": false,
	} {
		if got := ValidColor(in); got != want {
			t.Errorf("ValidColor(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestValidateText(t *testing.T) {
	if err := ValidateText("  \n ", 10); err == nil || err.Code != CodeEmptyText {
		t.Errorf("blank text: got %v, want %s", err, CodeEmptyText)
	}
	if err := ValidateText("ééééé", 4); err == nil || err.Code != CodeTextTooLong {
		t.Errorf("5 runes over 4: got %v, want %s", err, CodeTextTooLong)
	}
	if err := ValidateText("\u202E \u2066\u200F", 10); err == nil || err.Code != CodeEmptyText {
		t.Errorf("bidi controls only: got %v, want %s", err, CodeEmptyText)
	}
	if err := ValidateText("éééé", 4); err != nil {
		t.Errorf("4 runes within 4: got %v", err)
	}
}
