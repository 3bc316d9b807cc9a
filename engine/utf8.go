package engine

import "encoding/binary"

// utf8Stream validates UTF-8 incrementally, across frame and read boundaries, so an
// invalid byte fails the message the moment it arrives (RFC 6455 §8.1: "fail fast")
// instead of once the whole message is buffered. The ranges are Unicode's table 3-7
// of well-formed byte sequences: no overlong forms, no surrogates, nothing past
// U+10FFFF.
type utf8Stream struct {
	need   uint8 // continuation bytes still expected
	lo, hi byte  // the range the next continuation byte must be in
}

// feed checks p, the next bytes of the stream; false at the first invalid byte.
func (s *utf8Stream) feed(p []byte) bool {
	for i := 0; i < len(p); i++ {
		if s.need == 0 { // skip ASCII eight bytes at a time
			for i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 == 0 {
				i += 8
			}
			if i == len(p) {
				break
			}
		}
		b := p[i]
		if s.need > 0 {
			if b < s.lo || b > s.hi {
				return false
			}
			s.need--
			s.lo, s.hi = 0x80, 0xBF
			continue
		}
		if b < 0x80 {
			continue
		}
		if !s.lead(b) {
			return false
		}
	}
	return true
}

// lead starts a multi-byte sequence at b.
func (s *utf8Stream) lead(b byte) bool {
	s.lo, s.hi = 0x80, 0xBF
	switch {
	case b >= 0xC2 && b <= 0xDF:
		s.need = 1
	case b == 0xE0:
		s.need, s.lo = 2, 0xA0 // no overlong 3-byte forms
	case b == 0xED:
		s.need, s.hi = 2, 0x9F // no surrogates
	case b >= 0xE1 && b <= 0xEF:
		s.need = 2
	case b == 0xF0:
		s.need, s.lo = 3, 0x90 // no overlong 4-byte forms
	case b >= 0xF1 && b <= 0xF3:
		s.need = 3
	case b == 0xF4:
		s.need, s.hi = 3, 0x8F // nothing past U+10FFFF
	default:
		return false
	}
	return true
}

// complete reports whether the stream ends on a character boundary.
func (s *utf8Stream) complete() bool { return s.need == 0 }
