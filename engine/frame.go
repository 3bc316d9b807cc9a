package engine

import "encoding/binary"

// WebSocket opcodes a server sends.
const (
	OpText   = 0x1
	OpBinary = 0x2
	OpClose  = 0x8
)

// AppendFrame appends one unfragmented, unmasked (server-to-client) WebSocket frame.
func AppendFrame(dst []byte, opcode byte, payload []byte) []byte {
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, 0x80|opcode, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x80|opcode, 126, 0, 0)
		binary.BigEndian.PutUint16(dst[len(dst)-2:], uint16(n))
	default:
		dst = append(dst, 0x80|opcode, 127, 0, 0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint64(dst[len(dst)-8:], uint64(n))
	}
	return append(dst, payload...)
}
