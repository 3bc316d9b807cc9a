package protocol

import (
	"strconv"
	"unicode/utf8"
)

// User is what every user-related message carries. ID and Gender are JSON numbers: the
// Qt client reads a string as 0, and 0 means "public".
type User struct {
	ID     uint64
	Name   string
	Gender int
	Color  string
}

// AppendUserFields writes the four user keys without braces, so they can be cached per
// user and spliced into every message about that user without encoding them again.
func AppendUserFields(dst []byte, u User) []byte {
	dst = append(dst, `"userId":`...)
	dst = strconv.AppendUint(dst, u.ID, 10)
	dst = append(dst, `,"userName":`...)
	dst = AppendString(dst, u.Name)
	dst = append(dst, `,"gender":`...)
	dst = strconv.AppendInt(dst, int64(u.Gender), 10)
	dst = append(dst, `,"userColor":`...)
	return AppendString(dst, u.Color)
}

// AppendRosterEntry adds one user (fields from AppendUserFields) to a roster: the
// comma-separated list of user objects that AppendAuthorizedRoster wraps.
func AppendRosterEntry(roster, user []byte) []byte {
	if len(roster) > 0 {
		roster = append(roster, ',')
	}
	roster = append(roster, '{')
	roster = append(roster, user...)
	return append(roster, '}')
}

// AppendAuthorizedRoster writes the seed's Authorized: the newcomer's own fields and
// every online user (including itself) in join order, from a roster built with
// AppendRosterEntry, so a server can keep the list encoded between logins.
func AppendAuthorizedRoster(dst, self, roster []byte) []byte {
	dst = append(dst, `{"action":"Authorized",`...)
	dst = append(dst, self...)
	dst = append(dst, `,"users":[`...)
	dst = append(dst, roster...)
	return append(dst, "]}"...)
}

// AppendUserEvent writes Connected, Disconnected or ConnectionLost.
func AppendUserEvent(dst []byte, action string, user []byte) []byte {
	dst = append(dst, `{"action":`...)
	dst = AppendString(dst, action)
	dst = append(dst, ',')
	dst = append(dst, user...)
	return append(dst, '}')
}

// AppendChat writes a PublicMessage or PrivateMessage: the sender's fields (taken from
// its connection, never from the client), the formatted text and toUserId.
func AppendChat(dst []byte, action string, sender []byte, text string, toUserID uint64) []byte {
	dst = append(dst, `{"action":`...)
	dst = AppendString(dst, action)
	dst = append(dst, ',')
	dst = append(dst, sender...)
	dst = append(dst, `,"text":`...)
	dst = AppendString(dst, text)
	dst = append(dst, `,"toUserId":`...)
	dst = strconv.AppendUint(dst, toUserID, 10)
	return append(dst, '}')
}

// AppendError writes an Error action.
func AppendError(dst []byte, e *Error) []byte {
	dst = append(dst, `{"action":"Error","code":`...)
	dst = AppendString(dst, string(e.Code))
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, e.Message)
	if e.ClientMsgID != "" {
		dst = append(dst, `,"clientMsgId":`...)
		dst = AppendString(dst, e.ClientMsgID)
	}
	return append(dst, '}')
}

// Fixed frames, encoded once.
var (
	PingJSON          = []byte(`{"action":"Ping"}`)
	PongJSON          = []byte(`{"action":"Pong"}`)
	HeartbeatPongJSON = []byte(`{"event":"heartBeat","content":"pong"}`)
)

const hexDigits = "0123456789abcdef"

// AppendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, and U+2028 and
// U+2029 are escaped so the output is also valid JavaScript.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
