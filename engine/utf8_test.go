package engine

import (
	"testing"
	"unicode/utf8"
)

func validUTF8(s string) bool { return utf8.ValidString(s) }

// FuzzUTF8Stream: split anywhere, the stream agrees with the standard library.
func FuzzUTF8Stream(f *testing.F) {
	f.Add([]byte("κόσμε 𝄞"), uint8(3))
	f.Add([]byte("\xed\xa0\x80"), uint8(1))
	f.Fuzz(func(t *testing.T, p []byte, cut uint8) {
		i := int(cut) % (len(p) + 1)
		var u utf8Stream
		got := u.feed(p[:i]) && u.feed(p[i:]) && u.complete()
		if got != utf8.Valid(p) {
			t.Fatalf("%q split at %d: stream %v, utf8.Valid %v", p, i, got, !got)
		}
	})
}
