package chat

import (
	"bytes"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// SharedMessages implements engine.SharedMessages: the usual Pong, answered by every
// client to every Ping, reaches OnMessage without a copy per connection.
func (ch *Chat) SharedMessages() [][]byte { return [][]byte{protocol.PongJSON} }

// OnMessage handles one client frame: Pong, seed 001's heartbeat, a chat line, or one
// of chatd's actions. Anything else gets an Error to the sender only; nothing bad is
// ever broadcast.
func (ch *Chat) OnMessage(c *engine.Conn, m engine.Message) {
	u := userOf(c)
	if u == nil {
		ch.holdFrame(c, m) // a login waiting for its userId keeps it; a lost user's is dropped
		return
	}
	if !ch.admit(u, costCheap) {
		return
	}
	if !m.Binary && bytes.Equal(m.Data, protocol.PongJSON) {
		// Every client answers every Ping: the usual spelling skips the JSON decoder,
		// which was an idle server's main source of garbage.
		u.missed = 0
		ch.meters.received(inPong)
		return
	}
	if m.Binary {
		ch.meters.received(inBinary)
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBinaryFrame, Message: "send JSON in TEXT frames"})
		return
	}
	in, err := protocol.Decode(m.Data)
	if err != nil {
		ch.meters.received(inInvalid)
		ch.sendError(u, err)
		return
	}
	ch.meters.received(inboundOf(&in))
	if in.IsChat() && len(in.ClientMsgID) <= protocol.MaxClientMsgID {
		ch.lineID = in.ClientMsgID
		defer func() { ch.lineID = "" }()
	}
	if class := costOf(&in); class != costCheap && !ch.admit(u, class) {
		return
	}
	switch {
	case in.Action == protocol.ActionPong:
		u.missed = 0
	case in.IsHeartbeatPing():
		u.missed = 0 // proof of life too, so seed 001's clients are not dropped
		c.SendText(protocol.HeartbeatPongJSON)
	case in.Event != "" && in.Text == "":
		ch.sendError(u, &protocol.Error{Code: protocol.CodeUnknownAction, Message: "unknown event " + quote(in.Event)})
	case in.IsChat() && ch.heldBehind(u, &in, m.Data):
		// waits behind the sender's reply (reply.go)
	case in.IsChat() && hasReplyTo(m.Data):
		ch.handleReply(u, &in, m.Data)
	case in.IsChat():
		ch.chat(u, &in)
	case in.Action == protocol.ActionAck:
		ch.handleAck(u, &in)
	case in.Action == protocol.ActionJoinRoom:
		ch.handleJoin(u, &in)
	case in.Action == protocol.ActionLeaveRoom:
		ch.handleLeave(u, &in)
	case in.Action == protocol.ActionRooms:
		ch.handleRooms(u, &in)
	case in.Action == protocol.ActionUsers:
		ch.handleUsers(u, &in, m.Data)
	case in.Action == protocol.ActionHistory:
		ch.handleHistory(u, &in)
	case in.Action == protocol.ActionSetStatus:
		ch.handleSetStatus(u, &in, m.Data)
	case in.Action == protocol.ActionBuzz:
		ch.handleBuzz(u, &in)
	case in.Action == protocol.ActionTyping:
		ch.handleTyping(u, &in)
	case in.Action == protocol.ActionReact:
		ch.handleReact(u, &in, m.Data)
	case in.Action == protocol.ActionSearch:
		ch.handleSearch(u, &in, m.Data)
	case in.Action == protocol.ActionEdit:
		ch.handleEdit(u, &in)
	case in.Action == protocol.ActionDelete:
		ch.handleDelete(u, &in)
	case in.Action == protocol.ActionRead:
		ch.handleRead(u, &in)
	case in.Action == protocol.ActionDialogs:
		ch.handleDialogs(u, &in)
	default:
		ch.sendError(u, &protocol.Error{Code: protocol.CodeUnknownAction, Message: "unknown action " + quote(in.Action)})
	}
}

// admit charges a request to its class; a refused one gets rate_limited, and a client
// that keeps sending past its refusals is closed with 1008.
func (ch *Chat) admit(u *user, class costClass) bool {
	ok, kick := ch.charge(u, class)
	if ok {
		return true
	}
	ch.counters.rateLimited++
	ch.meters.refused(class)
	if kick {
		u.conn.Close(engine.ClosePolicy)
		return false
	}
	ch.sendError(u, &protocol.Error{Code: protocol.CodeRateLimited, Message: "too many messages; slow down"})
	return false
}

// chat accepts a chat line: to a room (the default one without roomId) when toUserId
// is 0, else to the dialog of the sender and the recipient. It gets its seq now, in the
// owner's order, and is delivered once the history has committed it.
func (ch *Chat) chat(u *user, in *protocol.Inbound) { ch.chatQuoting(u, in, replyQuote{}) }

// chatQuoting is chat for a line that quotes another (reply.go); a zero q quotes none.
func (ch *Chat) chatQuoting(u *user, in *protocol.Inbound, q replyQuote) {
	if err := protocol.ValidateText(in.Text, ch.cfg.MaxTextLength); err != nil && (in.FileID == "" || err.Code != protocol.CodeEmptyText) {
		ch.sendError(u, err) // a line with a file may have no text
		return
	}
	if len(in.ClientMsgID) > protocol.MaxClientMsgID {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBadClientMsgID, Message: "clientMsgId is longer than 64 bytes"})
		return
	}
	if in.ClientMsgID != "" && ch.answerRetry(u, in.ClientMsgID) {
		return
	}
	m := store.Message{
		TS:       ch.now().UnixMilli(),
		UserID:   u.info.ID,
		UserName: u.info.Name,
		Gender:   u.info.Gender,
		Color:    u.info.Color,
		Text:     protocol.FormatText(in.Text),
		ReplyTo:  q.json,
		ReplySeq: q.seq,
		Conn:     u.conn.ID(),
	}
	if in.ToUserID == 0 && isDialog(in.RoomID) { // a private line by its dialog's id
		to, ok := ch.dialogRecipient(u, in.RoomID)
		if !ok {
			return
		}
		in.ToUserID = to
	}
	if in.ToUserID == 0 {
		_, ms := ch.memberOf(u, in.RoomID)
		if ms == nil {
			return
		}
		m.Room, m.ClientMsgID = ms.room, in.ClientMsgID
		if in.FileID != "" && !ch.attachFile(u, &m, in.FileID) {
			return
		}
		if err := ch.append(m); err != nil {
			ch.storeUnavailable(u, err)
			return
		}
		ch.counters.public++
		return
	}
	if in.FileID != "" { // uploads go to rooms: a private line carries none
		ch.sendError(u, &protocol.Error{Code: protocol.CodeNoSuchFile, Message: "files are sent in rooms, not in private messages"})
		return
	}
	ch.chatPrivate(u, in, m) // dialogs.go
}

func (ch *Chat) sendError(u *user, e *protocol.Error) {
	if ch.lineID != "" && e.ClientMsgID == "" {
		tagged := *e // errors may be shared values: the id goes on a copy
		tagged.ClientMsgID = ch.lineID
		e = &tagged
	}
	ch.counters.errors++
	ch.meters.errorSent(e.Code)
	ch.payload = protocol.AppendError(ch.payload[:0], e)
	u.conn.SendText(ch.payload)
}

// quote shortens and quotes a client's string for an error message.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}
