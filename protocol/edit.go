package protocol

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Edit, delete and reply (chatd's additions, docs/PROTOCOL.md#edit-delete-and-reply).
const (
	ActionEdit    = "Edit"    // client: replace the text of one's own message
	ActionEdited  = "Edited"  // server: a message's new text (opt-in clients only)
	ActionDelete  = "Delete"  // client: delete one's own message
	ActionDeleted = "Deleted" // server: a message was deleted (opt-in clients only)
)

// Error codes of Edit and Delete; a seq that names no message (or, for Edit and
// Delete, a deleted one) is CodeNoSuchMessage, as for React (reaction.go).
const (
	CodeNotAuthor      Code = "not_author"       // Edit or Delete of someone else's message
	CodeEditWindowOver Code = "edit_window_over" // Edit of a message older than --edit-window
)

// MaxExcerpt is how many code points of the original's text a reply quotes.
const MaxExcerpt = 140

// DecodeReplyTo reads a chat line's "replyTo" seq (kept out of Inbound, like userIds,
// so the hot path's decoder stays as it is); 0 means none.
func DecodeReplyTo(data []byte) (uint64, *Error) {
	var w struct {
		ReplyTo *uint64 `json:"replyTo"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return 0, errorf(CodeBadField, "replyTo must be a message's seq")
	}
	if w.ReplyTo == nil {
		return 0, nil
	}
	if *w.ReplyTo == 0 {
		return 0, errorf(CodeNoSuchMessage, "replyTo names no message")
	}
	return *w.ReplyTo, nil
}

// UnformatText recovers the text a client sent from FormatText's output (bidi
// controls excepted): every literal < was escaped, so each <b>…</b> is a mention.
func UnformatText(s string) string { return textUnformatter.Replace(s) }

var textUnformatter = strings.NewReplacer("<b>", "{", "</b>", "}", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", "\"", "&#039;", "'")

// Excerpt is a reply's quote of raw text: its first MaxExcerpt code points, then
// escaped (no mentions), as the issue fixes it.
func Excerpt(raw string) string {
	n := 0
	for i := range raw {
		if n == MaxExcerpt {
			raw = raw[:i]
			break
		}
		n++
	}
	return htmlEscaper.Replace(raw)
}

// AppendReplyQuote writes the "replyTo" object a reply carries; a deleted original is
// {"seq":N,"deleted":true}.
func AppendReplyQuote(dst []byte, seq, userID uint64, userName, excerpt string, deleted bool) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	if deleted {
		return append(dst, `,"deleted":true}`...)
	}
	dst = append(dst, `,"userId":`...)
	dst = strconv.AppendUint(dst, userID, 10)
	dst = append(dst, `,"userName":`...)
	dst = AppendString(dst, userName)
	dst = append(dst, `,"text":`...)
	dst = AppendString(dst, excerpt)
	return append(dst, '}')
}

// AppendEdited writes Edited: seq of roomID now reads text (formatted), since editedAt.
func AppendEdited(dst []byte, roomID string, seq uint64, text string, editedAt int64) []byte {
	dst = append(dst, `{"action":"Edited","roomId":`...)
	dst = AppendString(dst, roomID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"text":`...)
	dst = AppendString(dst, text)
	dst = append(dst, `,"editedAt":`...)
	dst = strconv.AppendInt(dst, editedAt, 10)
	return append(dst, '}')
}

// AppendDeleted writes Deleted: seq of roomID is gone.
func AppendDeleted(dst []byte, roomID string, seq uint64) []byte {
	dst = append(dst, `{"action":"Deleted","roomId":`...)
	dst = AppendString(dst, roomID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, '}')
}

// AppendDeletedStored writes a deleted message where History (and a replay) would
// have it, so seqs stay gap-free: {"seq":N,"deleted":true,"userId":U,"ts":T}, then,
// for a replay frame only (withAction), its action and roomId so a client can route it.
func AppendDeletedStored(dst []byte, m *Stored, withAction bool) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, m.Seq, 10)
	dst = append(dst, `,"deleted":true,"userId":`...)
	dst = strconv.AppendUint(dst, m.UserID, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, m.TS, 10)
	if withAction {
		action := ActionPublicMessage
		if m.ToUserID != 0 {
			action = ActionPrivateMessage
		}
		dst = append(dst, `,"action":`...)
		dst = AppendString(dst, action)
		dst = append(dst, `,"roomId":`...)
		dst = AppendString(dst, m.RoomID)
	}
	return append(dst, '}')
}
