package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// recordSink keeps what a frameReader delivers, as text, for comparing runs.
type recordSink struct{ events []string }

func (s *recordSink) message(binary bool, p []byte) {
	s.events = append(s.events, fmt.Sprintf("msg %v %q", binary, p))
}
func (s *recordSink) own(p []byte) []byte { return append([]byte(nil), p...) }
func (s *recordSink) ping(p []byte)       { s.events = append(s.events, fmt.Sprintf("ping %q", p)) }
func (s *recordSink) pong(p []byte)       { s.events = append(s.events, fmt.Sprintf("pong %q", p)) }
func (s *recordSink) closeFrame(code int, reason string) {
	s.events = append(s.events, fmt.Sprintf("close %d %q", code, reason))
}

// clientFrame is a masked frame (the mask is not zero, so unmasking is exercised).
func clientFrame(fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		f = binary.BigEndian.AppendUint16(append(f, 0x80|126), uint16(len(p)))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(len(p)))
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	f = append(f, key[:]...)
	for i, c := range p {
		f = append(f, c^key[i%4])
	}
	return f
}

// run feeds stream to a fresh reader in chunks of size (0: all at once).
func run(stream []byte, size, maxMessage int) ([]string, *CloseReason) {
	stream = bytes.Clone(stream) // feed unmasks whole frames in place
	r := &frameReader{maxMessage: int32(maxMessage)}
	sink := &recordSink{}
	var err *CloseReason
	for len(stream) > 0 && err == nil {
		n := len(stream)
		if size > 0 {
			n = min(size, n)
		}
		err, stream = r.feed(stream[:n], sink), stream[n:]
	}
	return sink.events, err
}

func TestFrameReaderEvents(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		events []string
		code   int // 0: no error
	}{
		{"text", clientFrame(true, OpText, []byte("hi")), []string{`msg false "hi"`}, 0},
		{"empty binary", clientFrame(true, OpBinary, nil), []string{`msg true ""`}, 0},
		{"ping pong close", bytes.Join([][]byte{clientFrame(true, OpPing, []byte("p")), clientFrame(true, OpPong, nil),
			clientFrame(true, OpClose, []byte{3, 232, 'o', 'k'}), clientFrame(true, OpText, []byte("ignored"))}, nil),
			[]string{`ping "p"`, `pong ""`, `close 1000 "ok"`}, 0},
		{"fragments", bytes.Join([][]byte{clientFrame(false, OpText, []byte("ab")), clientFrame(true, OpPing, nil), clientFrame(true, 0, []byte("c"))}, nil),
			[]string{`ping ""`, `msg false "abc"`}, 0},
		{"bad UTF-8 after a good message", bytes.Join([][]byte{clientFrame(true, OpText, []byte("ok")), clientFrame(true, OpText, []byte{0xc0, 0x80})}, nil),
			[]string{`msg false "ok"`}, 1007},
		{"too big", clientFrame(true, OpBinary, make([]byte, 11)), nil, 1009},
		{"unmasked", []byte{0x81, 0x00}, nil, 1002},
	}
	for _, tt := range tests {
		for _, size := range []int{0, 1, 3} {
			events, err := run(tt.stream, size, 10)
			code := 0
			if err != nil {
				code = err.Code
			}
			if fmt.Sprint(events) != fmt.Sprint(tt.events) || code != tt.code {
				t.Errorf("%s in chunks of %d: %v, close %d; want %v, close %d", tt.name, size, events, code, tt.events, tt.code)
			}
		}
	}
}

// FuzzFrameReader: whatever the bytes, the reader never panics, never buffers a
// message past its cap, and delivers the same events and error however the stream
// is split into reads.
func FuzzFrameReader(f *testing.F) {
	for _, seed := range [][]byte{
		clientFrame(true, OpText, []byte("hello")),
		bytes.Join([][]byte{clientFrame(false, OpText, []byte("frag")), clientFrame(true, OpPing, []byte("x")), clientFrame(true, 0, []byte("ment"))}, nil),
		clientFrame(true, OpText, []byte{0xce, 0xba, 0xe1, 0xbd}),
		clientFrame(true, OpClose, []byte{0x03, 0xe7}),
		clientFrame(true, OpClose, []byte{0x03, 0xe8, 0xff}),
		append(clientFrame(true, OpPing, make([]byte, 125)), clientFrame(true, OpPing, make([]byte, 126))...),
		{0xc1, 0x80, 1, 2, 3, 4},             // a reserved bit
		{0x83, 0x80, 1, 2, 3, 4},             // a reserved opcode
		{0x09, 0x80, 1, 2, 3, 4},             // a fragmented ping
		{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0}, // a length with its high bit set
		{0x82, 0xfe, 0xff, 0xff, 1, 2, 3, 4}, // past the cap
	} {
		f.Add(seed, uint8(1))
	}
	const maxMessage = 1 << 10
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		whole, errWhole := run(stream, 0, maxMessage)
		split, errSplit := run(stream, int(chunk%16)+1, maxMessage)
		if fmt.Sprint(whole) != fmt.Sprint(split) || fmt.Sprint(errWhole) != fmt.Sprint(errSplit) {
			t.Fatalf("whole: %v %v; in chunks of %d: %v %v", whole, errWhole, chunk%16+1, split, errSplit)
		}
		r := &frameReader{maxMessage: int32(maxMessage)}
		for i := range stream {
			_ = r.feed(stream[i:i+1], &recordSink{})
			if p := r.pieces; p != nil && (len(p.msg) > maxMessage || len(p.ctl) > maxControlPayload) {
				t.Fatalf("buffered %d message and %d control bytes", len(p.msg), len(p.ctl))
			}
		}
	})
}

func TestUTF8StreamMatchesTheStandardLibrary(t *testing.T) {
	for _, s := range []string{"", "abc", "κόσμε", "𝄞", "\xed\x9f\xbf", "\xed\xa0\x80", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xe0\x9f\xbf", "\xc1\xbf", "\xff"} {
		var u utf8Stream
		got := u.feed([]byte(s)) && u.complete()
		if want := validUTF8(s); got != want {
			t.Errorf("%q: stream says %v, utf8.ValidString %v", s, got, want)
		}
	}
}

type discardSink struct{ n int }

func (s *discardSink) message(bool, []byte)   { s.n++ }
func (s *discardSink) own(p []byte) []byte    { return append([]byte(nil), p...) }
func (s *discardSink) ping([]byte)            {}
func (s *discardSink) pong([]byte)            {}
func (s *discardSink) closeFrame(int, string) {}

// BenchmarkFrameReader: parse, unmask and UTF-8-check client frames as they arrive
// in one read (a chat line, and a 16 KiB message of Cyrillic text). Each round copies
// the frame into the read buffer first, as the reader unmasks where the bytes lie.
func BenchmarkFrameReader(b *testing.B) {
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"chatline", []byte(`{"text":"Привет, {Вася}! How are you <3","toUserId":0}`)},
		{"16KiB", bytes.Repeat([]byte("съешь же ещё этих мягких французских булок "), 16<<10/80)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := clientFrame(true, OpText, tc.payload)
			r := &frameReader{maxMessage: 1 << 20}
			sink := &discardSink{}
			read := make([]byte, len(f))
			b.ReportAllocs()
			b.SetBytes(int64(len(f)))
			for b.Loop() {
				copy(read, f)
				if err := r.feed(read, sink); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAnnouncedSizeIsNotAllocated: a frame header that announces a big payload costs
// only what arrives.
func TestAnnouncedSizeIsNotAllocated(t *testing.T) {
	r := &frameReader{maxMessage: 1 << 20}
	header := clientFrame(true, OpBinary, make([]byte, 1<<20))[:14]
	if err := r.feed(header, &recordSink{}); err != nil {
		t.Fatal(err)
	}
	if r.pieces != nil {
		t.Fatalf("a header announcing 1 MiB took buffers: %d bytes", cap(r.pieces.msg))
	}
	if err := r.feed(make([]byte, 100), &recordSink{}); err != nil { // 100 of the 1 MiB
		t.Fatal(err)
	}
	if c := cap(r.pieces.msg); c > 4096 {
		t.Fatalf("100 bytes of a 1 MiB frame took a %d-byte buffer", c)
	}
}

// TestPiecesOnlyWhileAFrameSpansReads: frames that arrive whole leave the reader with
// no buffer at all; a message in fragments and a ping split across reads are held
// until they complete, and then the buffers go.
func TestPiecesOnlyWhileAFrameSpansReads(t *testing.T) {
	r := &frameReader{maxMessage: 1 << 10}
	sink := &recordSink{}
	feed := func(b []byte) {
		t.Helper()
		if err := r.feed(b, sink); err != nil {
			t.Fatal(err)
		}
	}
	feed(bytes.Join([][]byte{clientFrame(true, OpText, []byte("hi")), clientFrame(true, OpPing, []byte("p"))}, nil))
	if r.pieces != nil {
		t.Fatal("whole frames left buffers behind")
	}
	ping := clientFrame(true, OpPing, []byte("split"))
	feed(clientFrame(false, OpText, []byte("frag")))
	feed(ping[:len(ping)-2])
	if r.pieces == nil || len(r.pieces.msg) != 4 || len(r.pieces.ctl) != 3 {
		t.Fatalf("pieces = %+v, want the fragment and 3 bytes of the ping", r.pieces)
	}
	feed(ping[len(ping)-2:])
	feed(clientFrame(true, opContinuation, []byte("ment")))
	if r.pieces != nil {
		t.Fatalf("pieces = %+v after the message completed", r.pieces)
	}
	want := []string{`msg false "hi"`, `ping "p"`, `ping "split"`, `msg false "fragment"`}
	if fmt.Sprint(sink.events) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", sink.events, want)
	}
}
