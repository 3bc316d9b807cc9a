package enginetest

import (
	"encoding/binary"
	"io"
	"testing"
)

// Raw frames, for tests that speak WebSocket over a plain TCP socket byte by byte.

// ReadFrame reads one server frame from a raw socket and returns its opcode and
// payload, failing the test on a masked or short frame.
func ReadFrame(t testing.TB, r io.Reader) (byte, []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, _ = io.ReadFull(r, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, _ = io.ReadFull(r, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if h[1]&0x80 != 0 {
		t.Fatal("server frame is masked")
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return h[0] & 0x0f, p
}

// MaskedFrame is one complete client frame (masked, as RFC 6455 requires of clients).
func MaskedFrame(op byte, p []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{0x80 | op}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		f = append(f, 0x80|126, byte(len(p)>>8), byte(len(p)))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(len(p)))
	}
	f = append(f, key[:]...)
	for i, b := range p {
		f = append(f, b^key[i%4])
	}
	return f
}
