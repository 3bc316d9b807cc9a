package chat

import (
	"slices"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// handleEdit replaces the text of u's own message seq in a room, within
// --edit-window of its sending. The text follows a chat line's rules (length,
// escaping, mentions). The edit goes through the writer like a line, and Edited goes
// to the room's opted-in members once it is durable (editsCommitted).
func (ch *Chat) handleEdit(u *user, in *protocol.Inbound) {
	roomID, ok := ch.editRoom(u, in.RoomID)
	if !ok {
		return
	}
	if err := protocol.ValidateText(in.Text, ch.cfg.MaxTextLength); err != nil {
		ch.sendError(u, err)
		return
	}
	text, seq := protocol.FormatText(in.Text), in.Seq
	ch.lookup(u, roomID, seq, func(res lookupResult) {
		if !ch.mayChange(u, roomID, seq, res, false) {
			return
		}
		now := ch.now()
		if now.Sub(time.UnixMilli(res.msg.TS)) > ch.cfg.EditWindow {
			ch.sendError(u, &protocol.Error{Code: protocol.CodeEditWindowOver, Message: "messages can be edited for " + ch.cfg.EditWindow.String() + " after sending"})
			return
		}
		ch.queueEdit(u, store.Edit{Room: roomID, Seq: seq, Text: text, EditedAt: now.UnixMilli()})
	}, nil)
}

// handleDelete deletes u's own message seq in a room: its text is overwritten in the
// store, and History shows it as deleted in its place. Deleted goes to the room's
// opted-in members once the delete is durable.
func (ch *Chat) handleDelete(u *user, in *protocol.Inbound) {
	roomID, ok := ch.editRoom(u, in.RoomID)
	if !ok {
		return
	}
	seq := in.Seq
	ch.lookup(u, roomID, seq, func(res lookupResult) {
		if ch.mayChange(u, roomID, seq, res, true) {
			deleted := string(protocol.AppendReplyQuote(nil, seq, 0, "", "", true))
			ch.queueEdit(u, store.Edit{Room: roomID, Seq: seq, EditedAt: ch.now().UnixMilli(), Delete: true, DeletedQuote: deleted})
		}
	}, nil)
}

// editRoom is the public room u names for an Edit or Delete ("" is the default room),
// or false after an Error.
func (ch *Chat) editRoom(u *user, roomID string) (string, bool) {
	if dialog, ok := ch.dialogAccess(u, roomID); dialog {
		return roomID, ok
	}
	r, ms := ch.memberOf(u, roomID)
	if ms == nil {
		return "", false
	}
	return r.id, true
}

// mayChange reports whether u may edit (or, with del, delete) the message res found,
// else answers the Error: its author may do either, a moderator (--moderators) may
// delete any message. This is the one place that decides.
func (ch *Chat) mayChange(u *user, roomID string, seq uint64, res lookupResult, del bool) bool {
	switch {
	case !res.found || res.msg.Deleted:
		ch.sendError(u, noSuchMessage(roomID, seq))
		return false
	case res.msg.UserID != u.info.ID && !(del && ch.isModerator(u)):
		ch.sendError(u, &protocol.Error{Code: protocol.CodeNotAuthor, Message: "only its author may change a message"})
		return false
	}
	return true
}

// queueEdit hands e to the writer; while the store is in trouble u is told so.
func (ch *Chat) queueEdit(u *user, e store.Edit) {
	if ch.writer == nil {
		ch.editsCommitted([]store.Edit{{Room: e.Room, Seq: e.Seq, Text: e.Text, EditedAt: e.EditedAt, Delete: e.Delete, Applied: true}})
		return
	}
	if err := ch.writer.AddEdit(e); err != nil {
		ch.storeUnavailable(u, err)
	}
}

// editsCommitted runs on the owner once edits are durable: each one that applied goes
// out as Edited or Deleted to its room's members that opted in (the seed's client
// does not know these actions, and gets nothing).
func (ch *Chat) editsCommitted(edits []store.Edit) {
	for i := range edits {
		e := &edits[i]
		if !e.Applied {
			continue
		}
		var payload []byte
		if e.Delete {
			payload = protocol.AppendDeleted(nil, e.Room, e.Seq)
		} else {
			payload = protocol.AppendEdited(nil, e.Room, e.Seq, e.Text, e.EditedAt)
		}
		ch.sendToOptedIn(e.Room, engine.AppendFrame(nil, engine.OpText, payload)) // shared, never modified
	}
}

// isModerator reports whether u is logged in as an account that --moderators names.
// Anonymous users never are, whatever their name: a registered name is reserved, so an
// anonymous "Mod" is "Mod (2)", and an account is needed to be one.
func (ch *Chat) isModerator(u *user) bool {
	return u.account && slices.Contains(ch.cfg.Moderators, u.info.Name)
}
