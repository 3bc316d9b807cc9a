package chat

import (
	"context"
	"time"

	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// searchTimeout bounds one search: past it SQLite is interrupted and the client told.
const searchTimeout = 3 * time.Second

// handleSearch answers Search: the newest messages, at most limit, of one room u is
// in (or its own inbox), or of every room u is in and its inbox when roomId is
// absent, whose text has every word of the query. It costs a costly token, runs on
// the reads pool as a History page does (one at a time per user, busy past the
// pool's queue) and never on the owner.
func (ch *Chat) handleSearch(u *user, in *protocol.Inbound, data []byte) {
	query, terms, perr := protocol.DecodeSearchQuery(data)
	if perr != nil {
		ch.sendError(u, perr)
		return
	}
	roomID := in.RoomID
	var rooms []string
	switch {
	case roomID == "":
		for _, ms := range u.rooms {
			rooms = append(rooms, ms.room)
		}
	case roomID == protocol.InboxID(u.info.ID):
		rooms = []string{roomID} // the old inbox, from before dialogs
	case isDialog(roomID):
		if _, ok := ch.dialogAccess(u, roomID); !ok {
			return
		}
		rooms = []string{roomID}
	default:
		_, ms := ch.memberOf(u, roomID)
		if ms == nil {
			return
		}
		rooms = []string{ms.room}
	}
	limit := int(min(in.Limit, protocol.SearchMaxLimit))
	if limit == 0 {
		limit = protocol.SearchDefaultLimit
	}
	if ch.store == nil {
		u.conn.SendText(protocol.AppendSearchTail(protocol.AppendSearchHead(nil, roomID, query)))
		return
	}
	ch.readHistory(u, func(ctx context.Context, st store.Store) func() {
		ctx, cancel := context.WithTimeout(ctx, searchTimeout)
		msgs, err := st.Search(ctx, rooms, terms, limit)
		cancel()
		b := protocol.AppendSearchHead(nil, roomID, query)
		for i := range msgs {
			if i > 0 {
				b = append(b, ',')
			}
			b = encodeStored(b, &msgs[i])
		}
		b = protocol.AppendSearchTail(b)
		return func() {
			if !u.online() {
				return
			}
			u.historyInFlight = false
			if err != nil {
				ch.log.Warn("search failed", "userId", u.info.ID, "err", err)
				ch.sendError(u, &protocol.Error{Code: protocol.CodeHistoryUnavailable, Message: "could not search the history in time; try more specific words"})
				return
			}
			u.conn.SendText(b)
		}
	})
}
