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
	ch.reply(u, in, seq)
}

// reply is handleReply with replyTo decoded (seq 0: a plain line).
func (ch *Chat) reply(u *user, in *protocol.Inbound, seq uint64) {
	if seq == 0 {
		ch.chat(u, in)
		return
	}
	if in.ToUserID != 0 || isDialog(in.RoomID) {
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
	ch.holdLines(u)
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
	}, func() { ch.releaseLines(u) })
}

// A reply takes its seq once its quote has been read, so the lines its sender sends
// after it wait behind it (held), in order: a user's lines keep the order they were
// sent in. At most maxHeldLines wait; past that a line gets busy.
type heldLine struct {
	in      protocol.Inbound
	replyTo uint64
}

const maxHeldLines = 16

// holdLines starts holding u's next chat lines while a reply of u's is being looked up.
func (ch *Chat) holdLines(u *user) {
	if ch.held == nil {
		ch.held = make(map[uint64][]heldLine)
	}
	if _, ok := ch.held[u.conn.ID()]; !ok {
		ch.held[u.conn.ID()] = nil
	}
}

// heldBehind queues u's chat line in if a reply of u's is in flight (true: taken).
func (ch *Chat) heldBehind(u *user, in *protocol.Inbound, data []byte) bool {
	queue, holding := ch.held[u.conn.ID()]
	if !holding {
		return false
	}
	if len(queue) >= maxHeldLines {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBusy, Message: "too many lines wait behind your reply; retry in a moment"})
		return true
	}
	l := heldLine{in: *in}
	if hasReplyTo(data) {
		seq, perr := protocol.DecodeReplyTo(data)
		if perr != nil {
			ch.sendError(u, perr)
			return true
		}
		l.replyTo = seq
	}
	ch.held[u.conn.ID()] = append(queue, l)
	return true
}

// releaseLines runs, in order, the lines held behind u's reply, until one of them is a
// reply again (which holds the rest behind it).
func (ch *Chat) releaseLines(u *user) {
	queue := ch.held[u.conn.ID()]
	delete(ch.held, u.conn.ID())
	for i := range queue {
		if _, holding := ch.held[u.conn.ID()]; holding {
			ch.held[u.conn.ID()] = append(ch.held[u.conn.ID()], queue[i:]...)
			return
		}
		l := &queue[i]
		ch.lineID = l.in.ClientMsgID
		ch.reply(u, &l.in, l.replyTo)
		ch.lineID = ""
	}
}

// hasReplyTo reports whether a chat line's frame may carry replyTo.
func hasReplyTo(data []byte) bool { return bytes.Contains(data, replyKey) }
