package chat

import (
	"bytes"

	"github.com/chatd/chatd/protocol"
)

// replyQuote is what a reply stores: the seq it quotes and the quote's JSON.
type replyQuote struct {
	seq  uint64
	json string
}

// replyKey marks a chat line that may quote another: only those are decoded again.
var replyKey = []byte(`"replyTo"`)

// handleReply takes a chat line with replyTo: the original (same room) is read through
// the reads pool (lookup.go), and the line is then accepted as any other, carrying the
// quote as it is now: the first protocol.MaxExcerpt code points of the original's text
// as its author sent it, escaped; a deleted original is quoted as deleted. A replyTo to
// no message gets no_such_message and the line is not taken.
func (ch *Chat) handleReply(u *user, in *protocol.Inbound, data []byte) {
	seq, perr := protocol.DecodeReplyTo(data)
	if perr != nil {
		ch.sendError(u, perr)
		return
	}
	if seq == 0 {
		ch.chat(u, in)
		return
	}
	if in.ToUserID != 0 {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBadField, Message: "replyTo quotes a message of the room the line goes to; private lines cannot quote"})
		return
	}
	if err := protocol.ValidateText(in.Text, ch.cfg.MaxTextLength); err != nil && (in.FileID == "" || err.Code != protocol.CodeEmptyText) {
		ch.sendError(u, err) // a line with a file may have no text
		return
	}
	r, ms := ch.memberOf(u, in.RoomID)
	if ms == nil {
		return
	}
	line := *in // in lives on OnMessage's stack
	ch.lookup(u, r.id, seq, func(res lookupResult) {
		ch.lineID = line.ClientMsgID // the answer comes later: its Errors name the line too
		defer func() { ch.lineID = "" }()
		if !res.found {
			ch.sendError(u, noSuchMessage(r.id, seq))
			return
		}
		m := &res.msg
		q := protocol.AppendReplyQuote(nil, seq, m.UserID, m.UserName, protocol.Excerpt(protocol.UnformatText(m.Text)), m.Deleted)
		ch.chatQuoting(u, &line, replyQuote{seq: seq, json: string(q)})
	})
}

// hasReplyTo reports whether a chat line's frame may carry replyTo.
func hasReplyTo(data []byte) bool { return bytes.Contains(data, replyKey) }
