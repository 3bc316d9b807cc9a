package protocol

import "strconv"

// Dialogs: one conversation per pair of users, with one stream both sides use.
const (
	ActionDialogs = "Dialogs" // client: list my dialogs; server: the answer, newest first
	// DialogsMaxLimit is the most dialogs one Dialogs answer lists (and its default).
	DialogsMaxLimit = 100
)

// DialogID is the stream of the dialog between users a and b: "@<lo>-<hi>", the two
// userIds in decimal, the smaller first ("@7-7": a user's notes to itself). Room ids
// cannot hold '@', so a dialog is never a room; an old inbox id "@<userId>" has no '-'.
func DialogID(a, b uint64) string {
	lo, hi := min(a, b), max(a, b)
	dst := make([]byte, 0, 42)
	dst = append(dst, InboxPrefix...)
	dst = strconv.AppendUint(dst, lo, 10)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, hi, 10)
	return string(dst)
}

// DialogUsers parses a DialogID: its two userIds, the smaller first. Only the
// canonical spelling is one (no sign, no leading zero, lo ≤ hi, both above 0), so
// every dialog has exactly one id.
func DialogUsers(id string) (lo, hi uint64, ok bool) {
	if len(id) < 4 || id[0] != '@' {
		return 0, 0, false
	}
	rest := id[1:]
	dash := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == '-' {
			dash = i
			break
		}
	}
	if dash < 0 {
		return 0, 0, false
	}
	lo, okLo := canonicalUint(rest[:dash])
	hi, okHi := canonicalUint(rest[dash+1:])
	if !okLo || !okHi || lo > hi {
		return 0, 0, false
	}
	return lo, hi, true
}

// canonicalUint parses a positive decimal without leading zeros.
func canonicalUint(s string) (uint64, bool) {
	if s == "" || s[0] == '0' || len(s) > 20 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// DialogOther is the participant of dialog id who is not userID, or false if userID
// is not one of its two. In a note to oneself the other is oneself.
func DialogOther(id string, userID uint64) (uint64, bool) {
	lo, hi, ok := DialogUsers(id)
	switch {
	case !ok:
		return 0, false
	case userID == lo:
		return hi, true
	case userID == hi:
		return lo, true
	}
	return 0, false
}

// DialogEntry is one dialog of a Dialogs answer, as its reader sees it.
type DialogEntry struct {
	RoomID   string // the DialogID
	UserID   uint64 // the other participant
	UserName string
	LastSeq  uint64
	Unread   int    // the other's lines after the reader's read position; NoUnread (-1): an anonymous reader
	Last     []byte // the last line as its PrivateMessage object (AppendStored); nil: none
}

// AppendDialogs writes the answer to Dialogs.
func AppendDialogs(dst []byte, ds []DialogEntry) []byte {
	dst = append(dst, `{"action":"Dialogs","dialogs":[`...)
	for i := range ds {
		d := &ds[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"roomId":`...)
		dst = AppendString(dst, d.RoomID)
		dst = append(dst, `,"userId":`...)
		dst = strconv.AppendUint(dst, d.UserID, 10)
		dst = append(dst, `,"userName":`...)
		dst = AppendString(dst, d.UserName)
		dst = append(dst, `,"lastSeq":`...)
		dst = strconv.AppendUint(dst, d.LastSeq, 10)
		dst = append(dst, `,"unread":`...)
		dst = strconv.AppendInt(dst, int64(d.Unread), 10)
		if d.Last != nil {
			dst = append(dst, `,"last":`...)
			dst = append(dst, d.Last...)
		}
		dst = append(dst, '}')
	}
	return append(dst, `]}`...)
}
