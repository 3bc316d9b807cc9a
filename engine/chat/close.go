package chat

import "github.com/chatd/chatd/engine"

// The chat's close reasons: codes 4000 and 4002–4899, the application's range (the
// engine owns RFC 6455's codes, 4001 and 4900–4999; see engine's close.go and
// docs/PROTOCOL.md). New codes take the next free number; a code's meaning never
// changes once a client has seen it.
var (
	// ClosePingTimeout: the client left --ping-max-missed Pings unanswered.
	ClosePingTimeout = engine.CloseReason{Code: 4000, Text: "ping timeout"}
	// CloseReplaced: the same identity resumed on a new connection, which takes over.
	CloseReplaced = engine.CloseReason{Code: 4002, Text: "replaced by a resumed connection"}
	// CloseUnacked: an ack=1 client left more than maxUnacked messages of a room
	// unacknowledged.
	CloseUnacked = engine.CloseReason{Code: 4003, Text: "too many unacknowledged messages"}
	// CloseNoUserID: no userId could be reserved durably in time for this login (the
	// store is not committing, or too many logins wait); the client may try again.
	CloseNoUserID = engine.CloseReason{Code: 4005, Text: "no userId available, try again"}
	// CloseBadToken: the login's token (token=, Authorization: Bearer, the login
	// cookie) is invalid, revoked or expired (after Error bad_token).
	CloseBadToken = engine.CloseReason{Code: 4004, Text: "bad or expired token"}
	// CloseAccountRequired: --allow-anonymous=false and the login has no token.
	CloseAccountRequired = engine.CloseReason{Code: 4006, Text: "an account is required"}
)

// CloseReasons names the chat's close codes for the engine's /status counts.
func (ch *Chat) CloseReasons() []engine.CloseReason {
	return []engine.CloseReason{ClosePingTimeout, CloseReplaced, CloseUnacked, CloseNoUserID, CloseBadToken, CloseAccountRequired}
}
