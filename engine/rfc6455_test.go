package engine_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// RFC 6455 conformance, case class by case class as the Autobahn|Testsuite groups
// them (1 framing, 2 pings, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8,
// 7 close, 9 limits), against the echo worker over a real socket with frames written
// by hand: what a real client library would never send.

// want is one server frame a case expects; close cases give the code.
type want struct {
	op      byte
	payload string
}

func text(s string) want { return want{engine.OpText, s} }
func pong(s string) want { return want{engine.OpPong, s} }
func closed(code int) want {
	return want{engine.OpClose, string(binary.BigEndian.AppendUint16(nil, uint16(code)))}
}

// frame builds a masked client frame with explicit FIN and opcode bits.
func frame(fin bool, op byte, p []byte) []byte {
	b := enginetest.MaskedFrame(op, p)
	if !fin {
		b[0] &^= 0x80
	}
	return b
}

func msg(op byte, s string) []byte { return frame(true, op, []byte(s)) }

// withBits sets header bits (reserved bits, say) of a frame.
func withBits(b []byte, bits byte) []byte { b[0] |= bits; return b }

// closeFrame is a client close frame with code and reason.
func closeFrame(code int, reason string) []byte {
	return msg(engine.OpClose, string(binary.BigEndian.AppendUint16(nil, uint16(code)))+reason)
}

func startEchoWith(t *testing.T, maxMessage int) *engine.Worker {
	t.Helper()
	return startEchoConfig(t, func(c *engine.Config) { c.MaxMessageBytes = maxMessage })
}

const upgradeRequest = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// dialWS opens a raw socket to w and upgrades it; first is written right after the
// request, in the same write.
func dialWS(t *testing.T, w *engine.Worker, first []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", w.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(append([]byte(upgradeRequest), first...)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	status, err := r.ReadString('\n')
	if err != nil || status != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Fatalf("handshake: %q %v", status, err)
	}
	for line := ""; line != "\r\n"; {
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatalf("handshake: %v", err)
		}
	}
	return conn, r
}

// expectFrames reads the frames a case wants, in order; after a close it wants the
// server to close the socket too.
func expectFrames(t *testing.T, r *bufio.Reader, wants []want) {
	t.Helper()
	for i, wt := range wants {
		op, p := enginetest.ReadFrame(t, r)
		if wt.op == engine.OpClose && op == engine.OpClose && len(p) >= 2 && len(wt.payload) == 2 {
			p = p[:2] // the reason text is the server's to choose
		}
		if op != wt.op || string(p) != wt.payload {
			t.Fatalf("frame %d: got op %#x %q, want op %#x %q", i, op, short(p), wt.op, short([]byte(wt.payload)))
		}
		if op == engine.OpClose {
			// Closed: EOF, or a reset when the server closed with our bytes unread.
			if _, err := r.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("after the close frame: %v, want the socket closed", err)
			}
			return
		}
	}
}

func short(p []byte) string {
	if len(p) > 40 {
		return string(p[:40]) + "..."
	}
	return string(p)
}

type rfcCase struct {
	name  string
	send  [][]byte // written one after another (each its own write)
	wants []want
}

func runCases(t *testing.T, w *engine.Worker, cases []rfcCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, r := dialWS(t, w, nil)
			for _, b := range tc.send {
				if _, err := conn.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			expectFrames(t, r, tc.wants)
		})
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestRFC6455Framing(t *testing.T) {
	w := startEchoWith(t, 16<<20)
	var cases []rfcCase
	for _, n := range []int{0, 125, 126, 127, 128, 65535, 65536, 1 << 20} {
		p := strings.Repeat("*", n)
		cases = append(cases,
			rfcCase{"text " + itoa(n), [][]byte{msg(engine.OpText, p)}, []want{text(p)}},
			rfcCase{"binary " + itoa(n), [][]byte{msg(engine.OpBinary, p)}, []want{{engine.OpBinary, p}}})
	}
	one := msg(engine.OpText, "sent a byte at a time")
	var bytewise [][]byte
	for i := range one {
		bytewise = append(bytewise, one[i:i+1])
	}
	cases = append(cases,
		rfcCase{"one byte per write", bytewise, []want{text("sent a byte at a time")}},
		rfcCase{"1000 empty messages", [][]byte{bytes.Repeat(msg(engine.OpText, ""), 1000), msg(engine.OpText, "end")},
			append(repeatWant(text(""), 1000), text("end"))},
		rfcCase{"unmasked frame", [][]byte{{0x81, 0x02, 'h', 'i'}}, []want{closed(1002)}},
		rfcCase{"valid message then a bad frame in one write", [][]byte{cat(msg(engine.OpText, "kept"), msg(3, "x"))},
			[]want{text("kept"), closed(1002)}},
	)
	runCases(t, w, cases)
}

func TestRFC6455Pings(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	p125 := strings.Repeat("p", 125)
	runCases(t, w, []rfcCase{
		{"empty ping", [][]byte{msg(engine.OpPing, "")}, []want{pong("")}},
		{"ping with 125 bytes", [][]byte{msg(engine.OpPing, p125)}, []want{pong(p125)}},
		{"binary ping payload", [][]byte{msg(engine.OpPing, "\x00\xff\xfe")}, []want{pong("\x00\xff\xfe")}},
		{"ping with 126 bytes", [][]byte{msg(engine.OpPing, p125+"p")}, []want{closed(1002)}},
		{"unsolicited pong is ignored", [][]byte{msg(engine.OpPong, "x"), msg(engine.OpText, "after")}, []want{text("after")}},
		{"ten pings", [][]byte{bytes.Repeat(msg(engine.OpPing, "n"), 10)}, repeatWant(pong("n"), 10)},
	})
}

func TestRFC6455ReservedBitsAndOpcodes(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	var cases []rfcCase
	for _, bit := range []byte{0x40, 0x20, 0x10} {
		cases = append(cases,
			rfcCase{"reserved bit on text " + itoa(int(bit)), [][]byte{cat(msg(engine.OpText, "before"), withBits(msg(engine.OpText, "x"), bit), msg(engine.OpPing, ""))},
				[]want{text("before"), closed(1002)}},
			rfcCase{"reserved bit on ping " + itoa(int(bit)), [][]byte{withBits(msg(engine.OpPing, ""), bit)}, []want{closed(1002)}})
	}
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		cases = append(cases, rfcCase{"reserved opcode " + itoa(int(op)),
			[][]byte{cat(msg(engine.OpText, "before"), msg(op, ""), msg(engine.OpPing, ""))}, []want{text("before"), closed(1002)}})
	}
	runCases(t, w, cases)
}

func TestRFC6455Fragmentation(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	runCases(t, w, []rfcCase{
		{"fragments with a ping between", [][]byte{frame(false, 1, []byte("frag")), msg(engine.OpPing, "mid"), frame(false, 0, []byte("ment")), frame(true, 0, []byte("ed"))},
			[]want{pong("mid"), text("fragmented")}},
		{"one-byte fragments", [][]byte{frame(false, 1, []byte("a")), frame(false, 0, []byte("b")), frame(true, 0, []byte("c"))}, []want{text("abc")}},
		{"empty fragments", [][]byte{frame(false, 1, nil), frame(false, 0, nil), frame(true, 0, nil)}, []want{text("")}},
		{"fragmented binary", [][]byte{frame(false, 2, []byte{1}), frame(true, 0, []byte{2})}, []want{{engine.OpBinary, "\x01\x02"}}},
		{"fragmented ping", [][]byte{frame(false, engine.OpPing, []byte("x"))}, []want{closed(1002)}},
		{"continuation without a message", [][]byte{frame(true, 0, []byte("x"))}, []want{closed(1002)}},
		{"new message inside a fragmented one", [][]byte{frame(false, 1, []byte("a")), frame(true, 1, []byte("b"))}, []want{closed(1002)}},
	})
}

func TestRFC6455UTF8(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	hello := "κόσμε 𝄞 Привет"
	var cases []rfcCase
	for _, bad := range []string{
		"\xce\xba\xe1\xbd", // truncated at the end
		"\xc0\xaf",         // overlong
		"\xed\xa0\x80",     // a surrogate
		"\xf4\x90\x80\x80", // past U+10FFFF
		"\xff",
	} {
		cases = append(cases, rfcCase{"invalid " + hexOf(bad), [][]byte{msg(engine.OpText, bad)}, []want{closed(1007)}})
	}
	cases = append(cases,
		rfcCase{"valid, split inside characters", [][]byte{frame(false, 1, []byte(hello[:1])), frame(false, 0, []byte(hello[1:9])), frame(true, 0, []byte(hello[9:]))}, []want{text(hello)}},
		// Fail fast: the first fragment is invalid and the rest is never sent.
		rfcCase{"invalid in the first fragment", [][]byte{frame(false, 1, []byte("ok \xf8 not"))}, []want{closed(1007)}},
		rfcCase{"binary is not checked", [][]byte{msg(engine.OpBinary, "\xff")}, []want{{engine.OpBinary, "\xff"}}},
	)
	runCases(t, w, cases)
}

func TestRFC6455Close(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	cases := []rfcCase{
		{"empty close", [][]byte{msg(engine.OpClose, "")}, []want{closed(1000)}},
		{"one-byte close payload", [][]byte{msg(engine.OpClose, "x")}, []want{closed(1002)}},
		{"close reason of 123 bytes", [][]byte{closeFrame(1000, strings.Repeat("r", 123))}, []want{closed(1000)}},
		{"close reason with invalid UTF-8", [][]byte{closeFrame(1000, "\xce\xba\xe1\xbd")}, []want{closed(1007)}},
		{"data after close is ignored", [][]byte{cat(closeFrame(1000, ""), msg(engine.OpText, "late"))}, []want{closed(1000)}},
	}
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cases = append(cases, rfcCase{"valid code " + itoa(code), [][]byte{closeFrame(code, "")}, []want{closed(code)}})
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, rfcCase{"invalid code " + itoa(code), [][]byte{closeFrame(code, "")}, []want{closed(1002)}})
	}
	runCases(t, w, cases)
}

func TestRFC6455Limits(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	// Only the header of an oversized frame is sent: the limit holds before a payload
	// byte is buffered.
	huge := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3, 4}
	runCases(t, w, []rfcCase{
		{"a frame over the cap", [][]byte{huge}, []want{closed(1009)}},
		{"fragments adding up past the cap", [][]byte{frame(false, 2, make([]byte, 40<<10)), frame(true, 0, make([]byte, 40<<10))}, []want{closed(1009)}},
		{"exactly the cap", [][]byte{msg(engine.OpBinary, strings.Repeat("c", 64<<10))}, []want{{engine.OpBinary, strings.Repeat("c", 64<<10)}}},
	})
}

func TestRFC6455PingFloodIsCut(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	conn, r := dialWS(t, w, nil)
	if _, err := conn.Write(bytes.Repeat(msg(engine.OpPing, "f"), 50)); err != nil {
		t.Fatal(err)
	}
	for {
		op, p := enginetest.ReadFrame(t, r)
		if op == engine.OpPong {
			continue
		}
		if op != engine.OpClose || binary.BigEndian.Uint16(p) != 1008 {
			t.Fatalf("got op %#x %q, want pongs then close 1008", op, p)
		}
		return
	}
}

func repeatWant(x want, n int) []want {
	out := make([]want, n)
	for i := range out {
		out[i] = x
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }
