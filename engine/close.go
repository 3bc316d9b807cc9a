package engine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// CloseReason is why a connection closed: the WebSocket close code and a short text.
// The server sends it in its close frame; OnClose receives it whoever closed.
type CloseReason struct {
	Code int
	Text string
}

func (r CloseReason) String() string { return fmt.Sprintf("%d %s", r.Code, r.Text) }

func (r CloseReason) payload() []byte {
	p := make([]byte, 2, 2+len(r.Text))
	binary.BigEndian.PutUint16(p, uint16(r.Code))
	return append(p, r.Text...)
}

// Close reasons. Codes below 4000 are RFC 6455's; 4000 and up are chatd's own.
var (
	// CloseNormal: the peer said goodbye (code 1000), or the handler closed normally.
	CloseNormal = CloseReason{1000, "normal closure"}
	// CloseGoingAway: the server is shutting down.
	CloseGoingAway = CloseReason{1001, "server shutting down"}
	// CloseProtocolError: the peer broke RFC 6455 (bad opcode, bad UTF-8, ...).
	CloseProtocolError = CloseReason{1002, "protocol error"}
	// CloseAbnormal: the connection dropped without a close frame (never sent on the wire).
	CloseAbnormal = CloseReason{1006, "connection lost"}
	// ClosePolicy: the peer broke a server policy, such as the message rate.
	ClosePolicy = CloseReason{1008, "policy violation"}
	// CloseTooBig: a message exceeded --max-message-bytes.
	CloseTooBig = CloseReason{1009, "message too big"}
	// CloseInternal: the server failed while handling this connection.
	CloseInternal = CloseReason{1011, "internal error"}
	// ClosePingTimeout: the client left --ping-max-missed Pings unanswered.
	ClosePingTimeout = CloseReason{4000, "ping timeout"}
	// CloseSlowConsumer: the client did not read and more than --max-write-buffer bytes
	// waited for it. The close frame cannot reach such a client; OnClose still gets it.
	CloseSlowConsumer = CloseReason{4001, "slow consumer: write buffer full"}
)

// closeReasonFor maps the error nbio closed a connection with to a CloseReason.
func closeReasonFor(err error) CloseReason {
	var ce *websocket.CloseError
	switch {
	case err == nil:
		return CloseNormal
	case errors.As(err, &ce):
		return CloseReason{ce.Code, ce.Reason}
	case errors.Is(err, nbio.ErrOverflow):
		return CloseSlowConsumer
	case errors.Is(err, websocket.ErrMessageTooLarge), errors.Is(err, websocket.ErrControlMessageTooBig):
		return CloseTooBig
	case errors.Is(err, websocket.ErrInvalidUtf8), errors.Is(err, websocket.ErrInvalidCloseCode),
		errors.Is(err, websocket.ErrInvalidFragmentMessage), errors.Is(err, websocket.ErrReserveBitSet),
		errors.Is(err, websocket.ErrInvalidControlFrame), errors.Is(err, websocket.ErrControlMessageFragmented):
		return CloseProtocolError
	default:
		return CloseAbnormal
	}
}
