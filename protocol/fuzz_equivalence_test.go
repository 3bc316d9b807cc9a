package protocol

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// equivalenceSeeds are the frames where a hand-written decoder and encoding/json most
// easily part ways: escapes, odd numbers, duplicate and case-folded keys, nesting in
// unknown keys, whitespace, invalid UTF-8 and truncation.
var equivalenceSeeds = []string{
	// escapes
	`{"text":"a\u0000b"}`, `{"text":"\ud83d\ude00"}`, `{"text":"\ud83d"}`, `{"text":"\ude00\ud83d"}`,
	`{"text":"\ud83d\u0041"}`, `{"text":"\ud83dx"}`, `{"text":"\ud83d\ud83d\ude00"}`,
	`{"text":"\"\\\/\b\f\n\r\t"}`, `{"text":"\'"}`, `{"text":"\x"}`, `{"text":"\u12"}`, `{"text":"\u12G4"}`,
	`{"text":"\u00e9\u00E9"}`, `{"action":"P\u006fng"}`, `{"roomId":"lob\u0062y"}`, `{"text":"\uFFFD"}`,
	// numbers in odd forms
	`{"toUserId":1e2}`, `{"toUserId":-0}`, `{"toUserId":18446744073709551616}`,
	`{"toUserId":18446744073709551615}`, `{"toUserId":99999999999999999999}`, `{"seq":"18446744073709551616"}`,
	`{"seq":"007"}`, `{"seq":007}`, `{"seq":0}`, `{"seq":0.0}`, `{"seq":1E+2}`, `{"seq":""}`, `{"seq":"\u0031"}`,
	`{"seq":"+1"}`, `{"seq":" 1"}`, `{"seq":"-1"}`, `{"seq":true}`, `{"limit":[]}`, `{"offset":{}}`, `{"before":null}`,
	`{"seq":1.5}`, `{"seq":-1}`, `{"seq":1e400}`, `{"toUserId":"null"}`, `{"toUserId":[1]}`,
	// duplicate and case-folded keys: encoding/json takes the last, and null keeps a string
	`{"text":"a","text":"b"}`, `{"text":"a","text":null}`, `{"toUserId":5,"toUserId":null}`,
	`{"text":"a","TEXT":"b"}`, `{"Text":"a"}`, `{"ACTION":"Pong"}`, `{"clientmsgid":"x"}`, `{"ToUserID":3}`,
	`{"ſeq":1}`, `{"offſet":1}`, `{"\u0074ext":"x"}`, `{"lİmit":3}`, `{"lımit":3}`, `{"text\u0000":"x"}`,
	`{"text":"a","text":5}`, `{"toUserId":1,"toUserId":"x"}`,
	// unknown keys with nested values
	`{"x":{"a":[1,2,{"b":null}],"c":"d"},"text":"hi"}`, `{"x":[[[[[[[[]]]]]]]],"text":"y"}`,
	`{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,"text":"deep"}`,
	`{"x":[1,],"text":"y"}`, `{"x":{"a"},"text":"y"}`, `{"x":{"a":1,}}`, `{"x":tru}`, `{"x":nul}`, `{"x":-}`,
	`{"x":1.}`, `{"x":.5}`, `{"x":1e}`, `{"x":01}`, `{"x":-01}`, `{"x":-0.0e-0}`, `{"x":1E+}`, `{"x":true,"y":false}`,
	`{"x":"\ud800"}`, `{"x":{"\u0000":"\u0000"}}`, `{"userName":"spoof","text":"x"}`, `{"x":[}`, `{"x":{]}`,
	// whitespace
	" \t\r\n{ \"text\" : \"x\" , \"toUserId\" : 0 } \n", "{\"text\":\"x\"}\x00", "{\"text\":\"x\"}\f",
	"\ufeff{\"text\":\"x\"}", "{\n\"action\"\n:\n\"Pong\"\n}", "{\"text\":\"x\"\t,\t\"seq\"\t:\t1\t}",
	// invalid UTF-8
	"{\"text\":\"\xff\xfe\"}", "{\"text\":\"a\xc3\"}", "{\"\xff\":1}", "{\"text\":\"\xed\xa0\x80\"}",
	"{\"text\":\"\xf4\x90\x80\x80\"}", "{\"x\":\"\xff\",\"text\":\"ok\"}", "{\"text\":\"\xe2\x82\"}",
	// truncated and trailing
	`{"text":"hi","toUserId":`, `{"text":"hi`, `{"text"`, `{"text":"hi"`, `{"text":"hi",`, `{"text":"a\`,
	`{"text":"x"}{}`, `{"text":"x"} x`, `{"text":"x"}]`, `{"text":"x",}`, `{,"text":"x"}`, `{"text""x"}`,
	// raw control bytes, type errors in combination, shapes that are valid but unusual
	"{\"text\":\"a\tb\"}", `{"text":5,"toUserId":"abc"}`, `{"toUserId":"abc","text":5}`, `{"text":5,"action":true}`,
	`{"text":{"a":1}}`, `{"text":[1]}`, `{"action":"Nope"}`, `{}`, `{ }`, `[]`, `""`, `  `, "\n", `{"text":""}`,
	`{"event":"heartBeat","content":"ping","text":"x"}`, `{"action":"History","roomId":"r","before":9,"limit":50}`,
	`{"action":"Users","roomId":"r","offset":"10","limit":"20","userIds":[1,"2"]}`, `{"action":"JoinRoom","roomId":"lobby"}`,
}

// FuzzDecodeEquivalence: Decode (the scanner, falling back to encoding/json) and
// decodeReference (the decoder it replaced) agree on every input: the same Inbound, or
// errors with the same code and message.
func FuzzDecodeEquivalence(f *testing.F) {
	for _, line := range decodeBenchLines {
		f.Add(line.data)
	}
	for _, s := range equivalenceSeeds {
		f.Add([]byte(s))
	}
	for _, data := range fuzzDecodeCorpus(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		requireSameAsReference(t, data)
	})
}

func requireSameAsReference(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := Decode(data)
	want, wantErr := decodeReference(data)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("Decode(%q) = %+v, %v; the reference gives %+v, %v", data, got, gotErr, want, wantErr)
	case gotErr != nil && *gotErr != *wantErr:
		t.Fatalf("Decode(%q) error %v; the reference's is %v", data, gotErr, wantErr)
	case got != want:
		t.Fatalf("Decode(%q) = %+v; the reference gives %+v", data, got, want)
	}
}

// fuzzDecodeCorpus reads FuzzDecode's committed corpus, so both targets start from it.
func fuzzDecodeCorpus(f *testing.F) [][]byte {
	paths, err := filepath.Glob("testdata/fuzz/FuzzDecode/*")
	if err != nil {
		f.Fatalf("FuzzDecode corpus: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		file, err := os.ReadFile(p)
		if err != nil {
			f.Fatalf("FuzzDecode corpus: %v", err)
		}
		_, body, _ := strings.Cut(strings.TrimSpace(string(file)), "\n")
		quoted, ok := strings.CutPrefix(body, "[]byte(")
		if !ok {
			f.Fatalf("FuzzDecode corpus %s: not a []byte entry", p)
		}
		data, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			f.Fatalf("FuzzDecode corpus %s: %v", p, err)
		}
		out = append(out, []byte(data))
	}
	return out
}
