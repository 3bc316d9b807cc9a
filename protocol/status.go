package protocol

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Status, buzz and typing (chatd's additions, docs/PROTOCOL.md#status-and-buzz).
const (
	ActionSetStatus = "SetStatus" // client: set one's own status and status text
	ActionStatus    = "Status"    // server: a user's status changed (opt-in clients only)
	ActionBuzz      = "Buzz"      // both: the client names toUserId; the recipient gets the sender
)

// The statuses a user may set. A user who never set one is StatusOnline.
const (
	StatusOnline = "online"
	StatusAway   = "away"
	StatusBusy   = "busy"
)

// MaxStatusText is the longest status text accepted, in characters, before escaping.
const MaxStatusText = 80

// BuzzText is what a client that did not opt in (the Qt client) gets for a buzz: a
// private line from the sender, which it shows like any other.
const BuzzText = "** BUZZ! **"

// ValidStatus reports whether s is one of the statuses a user may set.
func ValidStatus(s string) bool {
	return s == StatusOnline || s == StatusAway || s == StatusBusy
}

// DecodeStatus reads the "status" of a SetStatus request (kept out of Inbound, like
// userIds, so the hot path's decoder stays as it is). Call it after Decode accepted
// data; a missing or unknown status is a bad_status.
func DecodeStatus(data []byte) (string, *Error) {
	var w struct {
		Status *string `json:"status"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return "", errorf(CodeBadField, "status must be a string")
	}
	if w.Status == nil || !ValidStatus(*w.Status) {
		return "", errorf(CodeBadStatus, "status must be %s, %s or %s", StatusOnline, StatusAway, StatusBusy)
	}
	return *w.Status, nil
}

// FormatStatusText checks and escapes a status text as chat text is (bidi controls
// removed, & < > " ' escaped), but with no mentions, surrounding spaces trimmed, and
// at most MaxStatusText characters. An empty text is allowed: it clears the text.
func FormatStatusText(text string) (string, *Error) {
	s := strings.TrimSpace(StripBidiControls(text))
	if utf8.RuneCountInString(s) > MaxStatusText {
		return "", errorf(CodeTextTooLong, "status text is longer than %d characters", MaxStatusText)
	}
	return htmlEscaper.Replace(s), nil
}

// AppendStatusFields writes ,"status":..,"statusText":.. for a user object of a member
// page (MemberPage.Statuses).
func AppendStatusFields(dst []byte, status, text string) []byte {
	dst = append(dst, `,"status":`...)
	dst = AppendString(dst, status)
	dst = append(dst, `,"statusText":`...)
	return AppendString(dst, text)
}

// AppendStatus writes the Status action: userId and its status fields.
func AppendStatus(dst []byte, userID uint64, status, text string) []byte {
	dst = append(dst, `{"action":"Status","userId":`...)
	dst = strconv.AppendUint(dst, userID, 10)
	dst = AppendStatusFields(dst, status, text)
	return append(dst, '}')
}

// AppendBuzz writes the Buzz a recipient gets: the sender's fields (AppendUserFields).
func AppendBuzz(dst, sender []byte) []byte {
	dst = append(dst, `{"action":"Buzz",`...)
	dst = append(dst, sender...)
	return append(dst, '}')
}

// ActionTyping is both the client's "I am typing in roomId" and what the room's other
// members get, with the typist's fields.
const ActionTyping = "Typing"

// AppendTyping writes the Typing a room's members get: the room and the typist's
// fields (AppendUserFields).
func AppendTyping(dst []byte, roomID string, user []byte) []byte {
	dst = append(dst, `{"action":"Typing","roomId":`...)
	dst = AppendString(dst, roomID)
	dst = append(dst, ',')
	dst = append(dst, user...)
	return append(dst, '}')
}
