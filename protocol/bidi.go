package protocol

import "strings"

// Bidi controls are removed from chat texts (and never survive FilterName in names):
// an override, embedding or isolate left open in a text reorders everything after it
// on the line the client shows, the sender's name and the time included, and a
// right-to-left override reverses how the text itself reads, even when it is closed.
// Removing them, not closing or isolating them, is what every client can rely on (the
// seed's Qt client shows the text as HTML and cannot be changed), and a text without
// them still shows its letters in the direction the Unicode bidi algorithm gives them.
//
// The set: ALM U+061C, LRM U+200E, RLM U+200F, LRE RLE PDF LRO RLO U+202A-U+202E, LRI
// RLI FSI PDI U+2066-U+2069.
func isBidiControl(r rune) bool {
	switch {
	case r == '\u061C', r == '\u200E', r == '\u200F':
		return true
	case '\u202A' <= r && r <= '\u202E', '\u2066' <= r && r <= '\u2069':
		return true
	}
	return false
}

// StripBidiControls returns s without its bidi controls (s itself when it has none).
func StripBidiControls(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}
