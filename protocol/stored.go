package protocol

import "strconv"

// Stored is a chat message as the history keeps it: the sender's fields as they were,
// the formatted text, and the server-assigned place in its room.
type Stored struct {
	RoomID      string   // a public room, or the InboxID of a private message's reader
	Seq         uint64   // per room, from 1, without gaps
	TS          int64    // unix milliseconds, server time
	Sender      []byte   // AppendUserFields of the sender
	Text        string   // already formatted (FormatText)
	ToUserID    uint64   // 0: public
	ClientMsgID string   // the sender's id, echoed so it can match its own message
	File        *FileRef // the file the line carries; then Text is its caption

	// Edit, delete and reply (edit.go): left out for a client that did not opt in.
	UserID   uint64 // the sender's id, for a deleted message's shape (AppendDeletedStored)
	EditedAt int64  // unix milliseconds of the last edit; 0: never edited
	ReplyTo  string // the reply's quote, AppendReplyQuote's JSON; "": not a reply
}

// AppendStored writes a stored message as PublicMessage (ToUserID 0) or
// PrivateMessage: the seed's keys first, so the Qt client reads it as it always did,
// then roomId, seq, ts and clientMsgId (and a file's caption and file).
func AppendStored(dst []byte, m *Stored) []byte {
	action := ActionPublicMessage
	if m.ToUserID != 0 {
		action = ActionPrivateMessage
	}
	text := m.Text
	if m.File != nil {
		text = seedText(m.Text, m.File)
	}
	dst = AppendChat(dst, action, m.Sender, text, m.ToUserID)
	dst = dst[:len(dst)-1] // reopen the object
	dst = append(dst, `,"roomId":`...)
	dst = AppendString(dst, m.RoomID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, m.Seq, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, m.TS, 10)
	if m.ClientMsgID != "" {
		dst = append(dst, `,"clientMsgId":`...)
		dst = AppendString(dst, m.ClientMsgID)
	}
	if m.File != nil { // the caption alone, and the file, for clients that show files
		dst = append(dst, `,"caption":`...)
		dst = AppendString(dst, m.Text)
		dst = append(dst, `,"file":`...)
		dst = appendFileRef(dst, m.File)
	}
	if m.EditedAt != 0 {
		dst = append(dst, `,"editedAt":`...)
		dst = strconv.AppendInt(dst, m.EditedAt, 10)
	}
	if m.ReplyTo != "" {
		dst = append(dst, `,"replyTo":`...)
		dst = append(dst, m.ReplyTo...)
	}
	return append(dst, '}')
}

// AppendSent writes Sent: the message the sender tagged with clientMsgID is durably
// stored as seq in roomID.
func AppendSent(dst []byte, roomID string, seq uint64, ts int64, clientMsgID string) []byte {
	dst = append(dst, `{"action":"Sent","roomId":`...)
	dst = AppendString(dst, roomID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"clientMsgId":`...)
	dst = AppendString(dst, clientMsgID)
	return append(dst, '}')
}

// AppendHistoryHead starts a History answer; add messages with AppendStored separated
// by commas, then finish with AppendHistoryTail.
func AppendHistoryHead(dst []byte, roomID string) []byte {
	dst = append(dst, `{"action":"History","roomId":`...)
	dst = AppendString(dst, roomID)
	return append(dst, `,"messages":[`...)
}

// AppendHistoryTail ends a History answer; more says older messages exist.
func AppendHistoryTail(dst []byte, more bool) []byte {
	dst = append(dst, `],"more":`...)
	dst = strconv.AppendBool(dst, more)
	return append(dst, '}')
}
