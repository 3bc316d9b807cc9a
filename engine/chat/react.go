package chat

import (
	"context"
	"strconv"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// reactKey is one message, for the reactions kept without a store.
type reactKey struct {
	room string
	seq  uint64
}

// maxMemReactions bounds the messages whose reactions a chat without a store keeps
// (it keeps no history either): past it they are forgotten, all at once.
const maxMemReactions = 4096

// handleReact toggles u's reaction on a committed message of a room u is in. The
// toggle is applied by the store's commit, which knows the message's state, so the
// owner never reads it; reactionsCommitted tells the room afterwards.
func (ch *Chat) handleReact(u *user, in *protocol.Inbound, data []byte) {
	emoji, perr := protocol.DecodeEmoji(data)
	if perr != nil {
		ch.sendError(u, perr)
		return
	}
	roomID := in.RoomID
	if dialog, ok := ch.dialogAccess(u, roomID); dialog && !ok {
		return
	} else if !dialog {
		_, ms := ch.memberOf(u, in.RoomID)
		if ms == nil {
			return
		}
		roomID = ms.room
	}
	if in.Seq == 0 || in.Seq > ch.committedSeq(roomID) {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeNoSuchMessage, Message: "no message " + quote(roomID) + " seq " + strconv.FormatUint(in.Seq, 10)})
		return
	}
	r := store.Reaction{Room: roomID, Seq: in.Seq, UserID: u.info.ID, Emoji: emoji, At: ch.now().UnixNano()}
	if ch.writer == nil {
		ch.reactInMemory(&r)
		ch.reactionsCommitted([]store.Reaction{r}, nil)
		return
	}
	if err := ch.writer.AddReaction(r); err != nil {
		ch.storeUnavailable(u, err)
	}
}

// reactInMemory applies r without a store.
func (ch *Chat) reactInMemory(r *store.Reaction) {
	if ch.memReactions == nil || len(ch.memReactions) >= maxMemReactions {
		ch.memReactions = make(map[reactKey][]store.ReactionCount)
	}
	key := reactKey{r.Room, r.Seq}
	r.State, _, r.Refused = store.ToggleReaction(ch.memReactions[key], r.Emoji, r.UserID)
	ch.memReactions[key] = r.State
}

// reactionsCommitted runs on the owner once rs are durable: a refused toggle gets its
// sender too_many_reactions; each message toggled gets one Reactions with its state
// after the batch, to the room's opted-in members (the seed's client never).
func (ch *Chat) reactionsCommitted(rs []store.Reaction, err error) {
	if err != nil {
		ch.log.Error("history commit lost reactions", "reactions", len(rs), "err", err)
		return
	}
	last := make(map[reactKey]int, len(rs))
	for i := range rs {
		last[reactKey{rs[i].Room, rs[i].Seq}] = i
	}
	for i := range rs {
		r := &rs[i]
		if r.Refused || r.Gone {
			if u := ch.users[r.UserID]; u != nil && r.Gone {
				ch.sendError(u, noSuchMessage(r.Room, r.Seq)) // deleted before the toggle committed
			} else if u != nil {
				ch.sendError(u, &protocol.Error{Code: protocol.CodeTooManyReactions, Message: "a message carries at most 20 different emoji"})
			}
			continue
		}
		if last[reactKey{r.Room, r.Seq}] != i || ch.rooms[r.Room] == nil && !isDialog(r.Room) {
			continue
		}
		payload := protocol.AppendReactions(nil, r.Room, r.Seq, reactionCounts(r.State))
		ch.sendToOptedIn(r.Room, engine.AppendFrame(nil, engine.OpText, payload)) // shared, never modified
	}
}

// reactionCounts converts the store's reaction state to the protocol's.
func reactionCounts(rs []store.ReactionCount) []protocol.ReactionCount {
	out := make([]protocol.ReactionCount, len(rs))
	for i, r := range rs {
		out[i] = protocol.ReactionCount(r)
	}
	return out
}

// reactionsOf reads the reactions of msgs (one room's, oldest first), for History and
// replays; nil without messages.
func reactionsOf(ctx context.Context, st store.Store, room string, msgs []store.Message) (map[uint64][]store.ReactionCount, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Without cancellation: modernc.org/sqlite starts a goroutine per statement to
	// interrupt it when a cancellable context ends, and this second statement of every
	// History page and replay page doubled that: 100 clients flooding History peaked at
	// 146–173 goroutines above the baseline instead of under 64. The query reads one
	// page's seq range of one room, through its index: short whatever it finds.
	return st.Reactions(context.WithoutCancel(ctx), room, msgs[0].Seq, msgs[len(msgs)-1].Seq)
}

// withReactions adds "reactions" to the encoded message that ends b, if it has any.
func withReactions(b []byte, rs []store.ReactionCount) []byte {
	if len(rs) == 0 {
		return b
	}
	return protocol.WithReactions(b, reactionCounts(rs))
}
