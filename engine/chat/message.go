package chat

import (
	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// OnMessage handles one client frame: Pong, seed 001's heartbeat, or a chat line.
// Anything else gets an Error to the sender only; nothing bad is ever broadcast.
func (ch *Chat) OnMessage(c *engine.Conn, m engine.Message) {
	u := ch.users[c.ID()]
	if u == nil {
		return // lost or not logged in yet
	}
	if !u.limit.allow(ch.now(), ch.cfg.RateLimit, ch.cfg.RateBurst) {
		ch.counters.rateLimited++
		if u.limit.rejected > ch.cfg.RateBurst {
			c.Close(engine.ClosePolicy)
			return
		}
		ch.sendError(u, &protocol.Error{Code: protocol.CodeRateLimited, Message: "too many messages; slow down"})
		return
	}
	if m.Binary {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBinaryFrame, Message: "send JSON in TEXT frames"})
		return
	}
	in, err := protocol.Decode(m.Data)
	if err != nil {
		ch.sendError(u, err)
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
	case in.IsChat():
		ch.chat(u, &in)
	default:
		ch.sendError(u, &protocol.Error{Code: protocol.CodeUnknownAction, Message: "unknown action " + quote(in.Action)})
	}
}

// chat sends a chat line: to everyone when toUserId is 0, else to the recipient and
// back to the sender (once, if they are the same user).
func (ch *Chat) chat(u *user, in *protocol.Inbound) {
	if err := protocol.ValidateText(in.Text, ch.cfg.MaxTextLength); err != nil {
		ch.sendError(u, err)
		return
	}
	text := protocol.FormatText(in.Text)
	if in.ToUserID == 0 {
		ch.counters.public++
		ch.broadcast(protocol.AppendChat(ch.payload[:0], protocol.ActionPublicMessage, u.fields, text, 0))
		return
	}
	to := ch.users[in.ToUserID]
	if to == nil {
		ch.counters.undelivered++
		// The seed's answer, which the Qt client shows, then chatd's machine-readable one.
		ch.payload = protocol.AppendChat(ch.payload[:0], protocol.ActionPrivateMessage, u.fields, protocol.NotDeliveredText, in.ToUserID)
		u.conn.SendText(ch.payload)
		ch.sendError(u, &protocol.Error{Code: protocol.CodeRecipientOffline, Message: "no user with that userId is online"})
		return
	}
	ch.counters.private++
	ch.payload = protocol.AppendChat(ch.payload[:0], protocol.ActionPrivateMessage, u.fields, text, in.ToUserID)
	ch.frame = engine.AppendFrame(ch.frame[:0], engine.OpText, ch.payload)
	to.conn.SendFrame(ch.frame)
	if to != u {
		u.conn.SendFrame(ch.frame)
	}
}

func (ch *Chat) sendError(u *user, e *protocol.Error) {
	ch.counters.errors++
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
