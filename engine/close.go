package engine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lesismal/nbio"
)

// CloseReason is why a connection closed: the WebSocket close code and a short text.
// The server sends it in its close frame; OnClose receives it whoever closed. The
// text doubles as the reason's name in /status.
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

// Close codes: who owns which (docs/PROTOCOL.md has the whole table).
//   - 1000–2999: RFC 6455's, the engine's alone.
//   - 4001 and 4900–4999: the engine's own (the transport's limits).
//   - 4000 and 4002–4899: the application's (the Handler's), named through
//     CloseReasons so /status counts them by name.
const (
	firstEngineCode = 4900
	lastEngineCode  = 4999
)

// The engine's close reasons.
var (
	// CloseNormal: the peer said goodbye (code 1000), or the handler closed normally.
	CloseNormal = CloseReason{1000, "normal closure"}
	// CloseGoingAway: the server is shutting down.
	CloseGoingAway = CloseReason{1001, "server shutting down"}
	// CloseProtocolError: the peer broke RFC 6455 (bad opcode, bad UTF-8, ...).
	CloseProtocolError = CloseReason{1002, "protocol error"}
	// CloseInvalidUTF8: a TEXT message (or a close reason) was not UTF-8.
	CloseInvalidUTF8 = CloseReason{1007, "invalid UTF-8 in a text message"}
	// CloseAbnormal: the connection dropped without a close frame (never sent on the wire).
	CloseAbnormal = CloseReason{1006, "connection lost"}
	// ClosePolicy: the peer broke a server policy, such as the message rate.
	ClosePolicy = CloseReason{1008, "policy violation"}
	// CloseTooBig: a message exceeded --max-message-bytes.
	CloseTooBig = CloseReason{1009, "message too big"}
	// CloseInternal: the server failed while handling this connection.
	CloseInternal = CloseReason{1011, "internal error"}
	// CloseTryAgainLater: the server cannot serve the connection now (a cluster node
	// cut off from NATS); the client retries, perhaps on another node.
	CloseTryAgainLater = CloseReason{1013, "try again later"}
	// CloseSlowConsumer: the client did not read and more than --max-write-buffer bytes
	// waited for it. The close frame cannot reach such a client; OnClose still gets it.
	CloseSlowConsumer = CloseReason{4001, "slow consumer: write buffer full"}
)

var engineReasons = []CloseReason{CloseNormal, CloseGoingAway, CloseProtocolError, CloseInvalidUTF8, CloseAbnormal,
	ClosePolicy, CloseTooBig, CloseInternal, CloseTryAgainLater, CloseSlowConsumer}

// CloseReasons is an optional Handler method: the application's own close reasons
// (codes 4000 and 4002–4899), so /status counts them by name.
type CloseReasons interface {
	CloseReasons() []CloseReason
}

// closeNames is the table of every known code's name: the engine's, then h's. A
// handler reason with a code outside the application's range is a programming error.
func closeNames(h Handler) map[int]string {
	names := make(map[int]string)
	for _, r := range engineReasons {
		names[r.Code] = r.Text
	}
	if cr, ok := h.(CloseReasons); ok {
		for _, r := range cr.CloseReasons() {
			if !ApplicationCode(r.Code) {
				panic(fmt.Sprintf("engine: close code %d of %q is not in the application's range (4000, 4002-4899)", r.Code, r.Text))
			}
			names[r.Code] = r.Text
		}
	}
	return names
}

// ApplicationCode reports whether code is one a Handler may define.
func ApplicationCode(code int) bool {
	return code == 4000 || code >= 4002 && code < firstEngineCode
}

// closeName is the name /status counts a close under: "other" for a code nobody
// defined (a peer may send any code it likes).
func (w *Worker) closeName(code int) string {
	if name, ok := w.closeNames[code]; ok {
		return name
	}
	return "other"
}

// countClose counts a close under its code and name, a code nobody defined under 0
// and "other".
func (w *Worker) countClose(code int) {
	if _, ok := w.closeNames[code]; !ok {
		code = 0
	}
	w.stats.countClose(code, w.closeName(code))
}

// closeReasonFor maps the error nbio closed a connection with to a CloseReason (the
// peer's own close frame, and the server's, take precedence over it).
func closeReasonFor(err error) CloseReason {
	switch {
	case err == nil:
		return CloseNormal
	case errors.Is(err, nbio.ErrOverflow):
		return CloseSlowConsumer
	default:
		return CloseAbnormal
	}
}
