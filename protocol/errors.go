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
	CodeBinaryFrame      Code = "binary_frame"      // chat frames must be TEXT frames
	CodeRateLimited      Code = "rate_limited"      // the client sends faster than allowed
)

// Error is a decoding or validation failure that becomes an Error action for the client.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
