package protocol

import "fmt"

// Code is the machine-readable reason in an Error action. Codes are stable: clients may
// switch on them. The message next to a code is for people and may change.
type Code string

// Error codes. Each is documented in docs/PROTOCOL.md.
const (
	CodeBadJSON          Code = "bad_json"          // the frame is not valid JSON
	CodeNotObject        Code = "not_object"        // valid JSON, but not an object
	CodeBadField         Code = "bad_field"         // a known key has the wrong type
	CodeUnknownAction    Code = "unknown_action"    // "action" names nothing the server accepts
	CodeEmptyText        Code = "empty_text"        // a chat line with no text (after trimming)
	CodeTextTooLong      Code = "text_too_long"     // text over the server's limit
	CodeRecipientOffline Code = "recipient_offline" // toUserId names no online user
	CodeNoSuchFile       Code = "no_such_file"      // a line's fileId names no upload to its room within 24 hours
	CodeBinaryFrame      Code = "binary_frame"      // chat frames must be TEXT frames
	CodeRateLimited      Code = "rate_limited"      // the client sends faster than allowed

	// Rooms, history, acknowledgements and resume (chatd's additions).
	CodeBadRoomID          Code = "bad_room_id"         // roomId breaks the room-id rule (ValidRoomID)
	CodeTooManyRooms       Code = "too_many_rooms"      // the user is in --max-rooms-per-user rooms already
	CodeRoomFull           Code = "room_full"           // the room has --max-room-members members
	CodeNotInRoom          Code = "not_in_room"         // the action names a room the user has not joined
	CodeDefaultRoom        Code = "default_room"        // the default room cannot be left
	CodeBadClientMsgID     Code = "bad_client_msg_id"   // clientMsgId longer than MaxClientMsgID bytes
	CodeResumeFailed       Code = "resume_failed"       // the resume token is invalid or its grace has passed
	CodeHistoryUnavailable Code = "history_unavailable" // the history store failed to answer
	CodeBusy               Code = "busy"                // a store read is in flight for this client, or the server's read queue is full; retry later
	CodeStoreUnavailable   Code = "store_unavailable"   // the history store cannot take the line now (full queue, failing disk); retry later
	CodeClusterUnavailable Code = "cluster_unavailable" // the node cannot reach the cluster (NATS) now: the line was not taken, or a login cannot be served (close 1013); retry later

	// Status and buzz.
	CodeBadStatus Code = "bad_status" // SetStatus without status, or one that is not online, away or busy

	// Accounts.
	CodeBadToken        Code = "bad_token"        // the login's token is invalid, revoked or expired; close 4004 follows
	CodeAccountRequired Code = "account_required" // --allow-anonymous=false and the login has no token; close 4006 follows
)

// Error is a decoding or validation failure that becomes an Error action for the client.
type Error struct {
	Code    Code
	Message string
	// ClientMsgID is the clientMsgId of the chat line the Error answers, so a client
	// can tell which of its pending lines failed; "" for anything else.
	ClientMsgID string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
