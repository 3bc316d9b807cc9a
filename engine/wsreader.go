package engine

import (
	"encoding/binary"
	"slices"
)

// Opcodes of RFC 6455 §5.2 besides the ones a server sends (frame.go).
const (
	opContinuation = 0x0
	OpPing         = 0x9
	OpPong         = 0xA
)

// maxControlPayload is RFC 6455's cap on a control frame's payload (§5.5).
const maxControlPayload = 125

// frameSink gets what a frameReader parses, in the order it arrived.
type frameSink interface {
	// message gets a complete data message; payload is the sink's from here on.
	message(binary bool, payload []byte)
	// own turns the payload of a message that arrived whole in one read, unmasked
	// where it lies and valid during the call only, into one message can keep.
	own(payload []byte) []byte
	// ping and pong get a control frame's payload, valid during the call only.
	ping(payload []byte)
	pong(payload []byte)
	// closeFrame gets the peer's close frame: its code (1005 when it has none) and
	// reason, both checked already.
	closeFrame(code int, reason string)
}

// frameReader is one connection's RFC 6455 frame parser, fed the bytes as they
// arrive: a header is gathered across reads, payloads are unmasked as they come,
// TEXT is checked for UTF-8 byte by byte, and every limit is checked on the header,
// before a byte of the payload is buffered. It holds a few dozen bytes between
// messages; a message's buffer is allocated once its first frame announces its size.
type frameReader struct {
	maxMessage int32 // --max-message-bytes (at most maxMessageLimit)

	hdr    [14]byte // the frame header, gathered across reads
	hdrLen uint8
	inBody bool // the header is complete: payload bytes follow
	op     byte
	fin    bool
	msgOp  byte // the data message in progress (OpText or OpBinary); 0: none
	done   bool // a close frame or an error ended the stream
	text   utf8Stream
	key    [4]byte
	// A frame's length is at most maxMessage (data) or 125 (control) by the time
	// these are set, so int32 holds them.
	pos    int32 // payload bytes of this frame unmasked so far
	remain int32 // payload bytes of this frame still to come

	// pieces holds what a read could not finish: a message in fragments or split across
	// reads, a control frame split across reads. A frame that arrives whole, as nearly
	// every one does, never needs it, so between messages a connection holds no buffer
	// and only this pointer (two slices here made the session 176 bytes, not 128).
	pieces *pieces
	// The small fields sit together in 40 bytes: 48 in all, and the session 128.
}

// pieces is a frameReader's buffers for frames and messages that span reads.
type pieces struct {
	msg []byte // the data message's payload so far
	ctl []byte // the control frame's payload so far
}

// piecesOf returns r's pieces, made on first use.
func (r *frameReader) piecesOf() *pieces {
	if r.pieces == nil {
		r.pieces = &pieces{}
	}
	return r.pieces
}

// buffered is the message's payload held so far.
func (r *frameReader) buffered() int {
	if r.pieces == nil {
		return 0
	}
	return len(r.pieces.msg)
}

// dropEmptyPieces lets r's pieces go once nothing is held in them.
func (r *frameReader) dropEmptyPieces() {
	if p := r.pieces; p != nil && p.msg == nil && len(p.ctl) == 0 {
		r.pieces = nil
	}
}

// maxMessageLimit is the largest --max-message-bytes (the frame reader counts in
// int32s).
const maxMessageLimit = 1 << 30

// errProtocol is a close reason for a peer that broke RFC 6455.
func errProtocol(text string) *CloseReason { return &CloseReason{1002, text} }

var (
	errBadUTF8  = &CloseInvalidUTF8
	errTooBig   = &CloseTooBig
	errReserved = errProtocol("reserved bits set")
)

// feed parses data, handing every complete message and control frame to sink. It
// returns the reason to close with at the first violation; what came before it was
// delivered. After a close frame or an error it ignores the rest. A frame that
// arrives whole is unmasked in data itself: data is the caller's to spend.
func (r *frameReader) feed(data []byte, sink frameSink) *CloseReason {
	for len(data) > 0 && !r.done {
		var err *CloseReason
		var whole []byte
		if !r.inBody {
			data, err = r.readHeader(data)
		} else {
			data, whole, err = r.readPayload(data)
		}
		if err == nil && r.inBody && r.remain == 0 {
			err = r.endFrame(sink, whole)
		}
		if err != nil {
			r.done = true
			return err
		}
	}
	return nil
}

// headerSize is how long the header that starts with b0, b1 is: 2 bytes, the
// extended length, the masking key.
func headerSize(b1 byte) int {
	switch b1 & 0x7f {
	case 126:
		return 2 + 2 + 4
	case 127:
		return 2 + 8 + 4
	default:
		return 2 + 4
	}
}

func (r *frameReader) readHeader(data []byte) ([]byte, *CloseReason) {
	for r.hdrLen < 2 && len(data) > 0 {
		r.hdr[r.hdrLen] = data[0]
		r.hdrLen++
		data = data[1:]
	}
	if r.hdrLen < 2 {
		return data, nil
	}
	if r.hdrLen == 2 { // checked as soon as they are known, before any waiting
		if err := r.checkFirstBytes(); err != nil {
			return data, err
		}
	}
	size := headerSize(r.hdr[1])
	n := copy(r.hdr[r.hdrLen:size], data)
	r.hdrLen += uint8(n)
	data = data[n:]
	if int(r.hdrLen) < size {
		return data, nil
	}
	return data, r.startFrame(size)
}

// checkFirstBytes applies every rule the first two header bytes decide.
func (r *frameReader) checkFirstBytes() *CloseReason {
	b0, b1 := r.hdr[0], r.hdr[1]
	op := b0 & 0x0f
	switch {
	case b0&0x70 != 0:
		return errReserved
	case b1&0x80 == 0:
		return errProtocol("client frames must be masked")
	case op >= 0x8 && op != OpClose && op != OpPing && op != OpPong, op >= 0x3 && op <= 0x7:
		return errProtocol("reserved opcode")
	case op >= 0x8 && b0&0x80 == 0:
		return errProtocol("fragmented control frame")
	case op >= 0x8 && b1&0x7f > maxControlPayload:
		return errProtocol("control frame payload over 125 bytes")
	case op == opContinuation && r.msgOp == 0:
		return errProtocol("continuation frame without a message")
	case (op == OpText || op == OpBinary) && r.msgOp != 0:
		return errProtocol("new message inside a fragmented one")
	}
	return nil
}

// startFrame reads the length and key of a complete header and checks the size.
func (r *frameReader) startFrame(size int) *CloseReason {
	r.op, r.fin = r.hdr[0]&0x0f, r.hdr[0]&0x80 != 0
	var length uint64
	switch size {
	case 2 + 4:
		length = uint64(r.hdr[1] & 0x7f)
	case 2 + 2 + 4:
		length = uint64(binary.BigEndian.Uint16(r.hdr[2:]))
	default:
		length = binary.BigEndian.Uint64(r.hdr[2:])
		if length>>63 != 0 {
			return errProtocol("payload length has its high bit set")
		}
	}
	copy(r.key[:], r.hdr[size-4:size])
	r.hdrLen, r.inBody, r.pos = 0, true, 0
	if r.op >= 0x8 {
		r.remain = int32(length) // at most 125 (checkFirstBytes)
		return nil
	}
	if length > uint64(int(r.maxMessage)-r.buffered()) {
		return errTooBig
	}
	r.remain = int32(length)
	if r.op != opContinuation {
		r.msgOp, r.text = r.op, utf8Stream{} // checkFirstBytes: no message is in pieces
	}
	return nil
}

// readPayload unmasks the next payload bytes: a frame that is all in data and is a
// whole message or a control frame is unmasked where it lies and returned as whole;
// anything else goes to r's pieces.
func (r *frameReader) readPayload(data []byte) (rest, whole []byte, err *CloseReason) {
	n := min(int(r.remain), len(data))
	all := r.pos == 0 && n == int(r.remain)
	var dst []byte
	switch {
	case r.op >= 0x8 && all:
		dst = data[:n]
		whole = dst
	case r.op >= 0x8:
		p := r.piecesOf()
		p.ctl = append(p.ctl, data[:n]...)
		dst = p.ctl[len(p.ctl)-n:]
		if r.remain == int32(n) {
			whole = p.ctl
		}
	case all && r.fin && r.op != opContinuation:
		dst = data[:n] // endFrame has the sink own it
		whole = dst
	default:
		// Room for what arrived, never for what the header announced: a header that
		// promises 64 KiB and sends nothing must not cost 64 KiB.
		p := r.piecesOf()
		if cap(p.msg)-len(p.msg) < n {
			p.msg = slices.Grow(p.msg, n)
		}
		p.msg = append(p.msg, data[:n]...)
		dst = p.msg[len(p.msg)-n:]
	}
	unmask(dst, r.key, int(r.pos))
	r.pos += int32(n)
	r.remain -= int32(n)
	if r.op < 0x8 && r.msgOp == OpText && !r.text.feed(dst) {
		return data[n:], nil, errBadUTF8
	}
	return data[n:], whole, nil
}

// unmask XORs p, which starts at payload offset pos, with the masking key: eight
// bytes at a time, then the rest byte by byte.
func unmask(p []byte, key [4]byte, pos int) {
	var k [8]byte
	for i := range k {
		k[i] = key[(pos+i)&3]
	}
	k8 := binary.LittleEndian.Uint64(k[:])
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k8)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[(pos+i)&3]
	}
}

// endFrame acts on a frame whose payload is complete; whole is its payload when
// readPayload had it all (nil for an empty frame or a message in pieces).
func (r *frameReader) endFrame(sink frameSink, whole []byte) *CloseReason {
	r.inBody = false
	defer r.dropEmptyPieces()
	switch r.op {
	case OpPing:
		sink.ping(whole)
	case OpPong:
		sink.pong(whole)
	case OpClose:
		code, reason, err := parseClose(whole)
		if err != nil {
			return err
		}
		r.done = true
		sink.closeFrame(code, reason)
	default:
		if !r.fin {
			return nil
		}
		if r.msgOp == OpText && !r.text.complete() {
			return errBadUTF8
		}
		var msg []byte
		if p := r.pieces; p != nil && p.msg != nil {
			msg, p.msg = p.msg, nil
		} else if whole != nil {
			msg = sink.own(whole)
		}
		if msg == nil {
			msg = []byte{} // an empty message is a message
		}
		binary := r.msgOp == OpBinary
		r.msgOp = 0
		sink.message(binary, msg)
	}
	if r.pieces != nil {
		r.pieces.ctl = r.pieces.ctl[:0]
	}
	return nil
}

// parseClose checks a close frame's payload (RFC 6455 §5.5.1, §7.4).
func parseClose(p []byte) (int, string, *CloseReason) {
	switch {
	case len(p) == 0:
		return 1005, "", nil
	case len(p) == 1:
		return 0, "", errProtocol("close payload of one byte")
	}
	code := int(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return 0, "", errProtocol("invalid close code")
	}
	var s utf8Stream
	if !s.feed(p[2:]) || !s.complete() {
		return 0, "", errBadUTF8
	}
	return code, string(p[2:]), nil
}

// validCloseCode: the codes a peer may send (RFC 6455 §7.4.1 and IANA's registry);
// 1004–1006 and 1015 are reserved, and so is everything below 1000 or from 5000.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	default:
		return code >= 3000 && code <= 4999
	}
}
