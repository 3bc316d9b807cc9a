package protocol

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxSkipDepth bounds the nesting the scanner skips in unknown keys by recursion;
// deeper values go to decodeStd (encoding/json allows 10,000 levels).
const maxSkipDepth = 32

// stringToken reads the JSON string at s.pos and returns what is between its quotes.
// plain means that raw is the value as is: no escapes and valid UTF-8. ok is false if
// the string breaks the JSON grammar (a control byte, a bad escape, no closing quote).
func (s *scanner) stringToken() (raw []byte, plain, ok bool) {
	s.pos++ // the opening quote
	start := s.pos
	plain, ascii := true, true
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; {
		case c == '"':
			raw = s.data[start:s.pos]
			s.pos++
			if plain && !ascii {
				plain = utf8.Valid(raw)
			}
			return raw, plain, true
		case c == '\\':
			plain = false
			if !s.skipEscape() {
				return nil, false, false
			}
			continue
		case c < ' ':
			return nil, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.pos++
	}
	return nil, false, false
}

// skipEscape steps over one escape sequence the JSON grammar allows.
func (s *scanner) skipEscape() bool {
	if s.pos+1 >= len(s.data) {
		return false
	}
	switch s.data[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return true
	case 'u':
		if s.pos+6 > len(s.data) || hex4(s.data[s.pos+2:s.pos+6]) < 0 {
			return false
		}
		s.pos += 6
		return true
	}
	return false
}

// hex4 is the value of four hex digits, or -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// unquoteJSON decodes the inside of a string stringToken accepted, with
// encoding/json's rules: invalid UTF-8 bytes and lone surrogates become U+FFFD.
func unquoteJSON(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == '\\':
			i = writeEscape(&b, raw, i)
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			b.WriteRune(r) // utf8.RuneError for an invalid byte, as encoding/json does
			i += size
		}
	}
	return b.String()
}

// writeEscape writes the escape at raw[i] (validated by skipEscape) and returns the
// index after it. A surrogate pair is one rune; a surrogate without its pair is U+FFFD
// and the escape after it is read on its own.
func writeEscape(b *strings.Builder, raw []byte, i int) int {
	switch raw[i+1] {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r := hex4(raw[i+2:])
		i += 6
		if utf16.IsSurrogate(r) {
			if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
				if pair := utf16.DecodeRune(r, hex4(raw[i+2:])); pair != unicode.ReplacementChar {
					b.WriteRune(pair)
					return i + 6
				}
			}
			r = unicode.ReplacementChar
		}
		b.WriteRune(r)
		return i
	default: // '"', '\\', '/'
		b.WriteByte(raw[i+1])
	}
	return i + 2
}

// literal steps over true, false or null.
func (s *scanner) literal(word string) bool {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return false
	}
	s.pos += len(word)
	return true
}

// skipValue steps over one JSON value of a key the protocol does not define,
// checking its grammar as encoding/json does (the whole frame must be valid JSON).
func (s *scanner) skipValue(depth int) bool {
	switch c := s.peek(); {
	case c == '"':
		_, _, ok := s.stringToken()
		return ok
	case c == '{':
		return depth < maxSkipDepth && s.skipObject(depth+1)
	case c == '[':
		return depth < maxSkipDepth && s.skipArray(depth+1)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		return s.skipNumber()
	}
	return false
}

func (s *scanner) skipObject(depth int) bool {
	s.pos++ // '{'
	s.skipSpace()
	if s.consume('}') {
		return true
	}
	for {
		if s.peek() != '"' {
			return false
		}
		if _, _, ok := s.stringToken(); !ok {
			return false
		}
		s.skipSpace()
		if !s.consume(':') {
			return false
		}
		s.skipSpace()
		if !s.skipValue(depth) {
			return false
		}
		s.skipSpace()
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
		s.skipSpace()
	}
}

func (s *scanner) skipArray(depth int) bool {
	s.pos++ // '['
	s.skipSpace()
	if s.consume(']') {
		return true
	}
	for {
		if !s.skipValue(depth) {
			return false
		}
		s.skipSpace()
		if s.consume(']') {
			return true
		}
		if !s.consume(',') {
			return false
		}
		s.skipSpace()
	}
}

// skipNumber steps over -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) skipNumber() bool {
	s.consume('-')
	// A digit after a leading 0 is left for the caller to reject.
	if !s.consume('0') && !s.digits() {
		return false
	}
	if s.consume('.') && !s.digits() {
		return false
	}
	if s.consume('e') || s.consume('E') {
		if !s.consume('+') {
			s.consume('-')
		}
		return s.digits()
	}
	return true
}

// digits steps over one or more digits.
func (s *scanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
		s.pos++
	}
	return s.pos > start
}
