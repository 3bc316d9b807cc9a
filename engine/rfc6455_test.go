package engine_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/enginetest"
)

// RFC 6455 conformance cases, Autobahn-style, against the echo worker with frames
// written by hand: what a real client library would never send.

func rawEcho(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	w := startEcho(t)
	conn, err := net.Dial("tcp", w.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		if line == "\r\n" {
			return conn, r
		}
	}
}

// frame builds a masked client frame with explicit FIN and opcode bits.
func frame(fin bool, op byte, p []byte) []byte {
	b := enginetest.MaskedFrame(op, p)
	if !fin {
		b[0] &^= 0x80
	}
	return b
}

func expectFrame(t *testing.T, r io.Reader, wantOp byte, want string) {
	t.Helper()
	op, p := enginetest.ReadFrame(t, r)
	if op != wantOp || string(p) != want {
		t.Fatalf("got op %d %q, want op %d %q", op, p, wantOp, want)
	}
}

func expectClose(t *testing.T, r io.Reader, codes ...int) {
	t.Helper()
	op, p := enginetest.ReadFrame(t, r)
	if op != 8 {
		t.Fatalf("got op %d %q, want a close frame", op, p)
	}
	if len(codes) == 0 {
		return
	}
	code := 0
	if len(p) >= 2 {
		code = int(binary.BigEndian.Uint16(p))
	}
	for _, c := range codes {
		if c == code {
			return
		}
	}
	t.Fatalf("close code %d, want one of %v", code, codes)
}

func TestRFC6455FragmentsAndInterleavedPing(t *testing.T) {
	conn, r := rawEcho(t)
	_, _ = conn.Write(frame(false, 1, []byte("frag")))
	_, _ = conn.Write(frame(true, 9, []byte("ping in the middle")))
	_, _ = conn.Write(frame(false, 0, []byte("ment")))
	_, _ = conn.Write(frame(true, 0, []byte("ed")))
	expectFrame(t, r, 0xA, "ping in the middle") // control frames may interleave
	expectFrame(t, r, 1, "fragmented")
}

// nbio v1.6.12's parser drops a message with an empty payload before any handler
// sees it (Autobahn case 1.1.1), so only non-empty messages are checked here.
func TestRFC6455Binary(t *testing.T) {
	conn, r := rawEcho(t)
	_, _ = conn.Write(frame(true, 2, []byte{0xff, 0x00}))
	expectFrame(t, r, 2, "\xff\x00")
}

func TestRFC6455CloseHandshake(t *testing.T) {
	conn, r := rawEcho(t)
	_, _ = conn.Write(frame(true, 8, []byte{0x03, 0xe8, 'b', 'y', 'e'})) // 1000
	expectClose(t, r, 1000)
}

func TestRFC6455ProtocolErrors(t *testing.T) {
	tests := []struct {
		name  string
		bytes []byte
		codes []int
	}{
		{"invalid UTF-8 in text", frame(true, 1, []byte{0xce, 0xba, 0xe1, 0xbd}), []int{1002, 1007}},
		{"reserved bit", func() []byte { b := frame(true, 1, []byte("x")); b[0] |= 0x40; return b }(), nil},
		{"reserved opcode", frame(true, 3, []byte("x")), nil},
		{"fragmented ping", frame(false, 9, []byte("x")), nil},
		{"continuation without start", frame(true, 0, []byte("x")), nil},
		{"close code 999", frame(true, 8, []byte{0x03, 0xe7}), []int{1002}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, r := rawEcho(t)
			_, _ = conn.Write(tt.bytes)
			// The server fails the connection: a close frame, or the socket closes.
			var h [1]byte
			if _, err := io.ReadFull(r, h[:]); err != nil {
				return // closed without a close frame: allowed when failing fast
			}
			if h[0]&0x0f != 8 {
				t.Fatalf("got op %d, want the connection failed", h[0]&0x0f)
			}
			expectCloseRest(t, r, tt.codes)
		})
	}
}

func expectCloseRest(t *testing.T, r io.Reader, codes []int) {
	t.Helper()
	var l [1]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, l[0]&0x7f)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	if len(codes) == 0 {
		return
	}
	code := 0
	if len(p) >= 2 {
		code = int(binary.BigEndian.Uint16(p))
	}
	for _, c := range codes {
		if c == code {
			return
		}
	}
	t.Fatalf("close code %d, want one of %v", code, codes)
}
