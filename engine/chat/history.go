package chat

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

const (
	historyDefaultLimit = 50
	historyMaxLimit     = 100
)

// handleHistory answers History: up to limit messages of a room the user is in (or of
// its own inbox) with seq < before, oldest first, in one frame. The read runs off the
// owner; the answer comes back through the owner's queue.
func (ch *Chat) handleHistory(u *user, in *protocol.Inbound) {
	roomID := in.RoomID
	if dialog, ok := ch.dialogAccess(u, roomID); dialog && !ok {
		return
	} else if !dialog && roomID != protocol.InboxID(u.info.ID) {
		if _, ms := ch.memberOf(u, roomID); ms == nil {
			return
		}
		if roomID == "" {
			roomID = ch.defaultRoom.id
		}
	}
	limit := int(min(in.Limit, historyMaxLimit))
	if limit == 0 {
		limit = historyDefaultLimit
	}
	if ch.store == nil {
		u.conn.SendText(protocol.AppendHistoryTail(protocol.AppendHistoryHead(nil, roomID), false))
		return
	}
	before := in.Before
	ch.readHistory(u, func(ctx context.Context, st store.Store) func() {
		msgs, more, err := st.History(ctx, roomID, before, limit)
		var rx map[uint64][]store.ReactionCount
		if err == nil {
			rx, err = reactionsOf(ctx, st, roomID, msgs)
		}
		b := protocol.AppendHistoryHead(nil, roomID)
		for i := range msgs {
			if i > 0 {
				b = append(b, ',')
			}
			if msgs[i].Deleted { // History's shape of a deleted message (edit.go)
				b = protocol.AppendDeletedStored(b, &protocol.Stored{Seq: msgs[i].Seq, UserID: msgs[i].UserID, TS: msgs[i].TS}, false)
				continue
			}
			b = encodeStored(b, &msgs[i])
			b = withReactions(b, rx[msgs[i].Seq])
		}
		b = protocol.AppendHistoryTail(b, more)
		return func() {
			if !u.online() {
				return
			}
			u.historyInFlight = false
			if err != nil {
				ch.log.Error("history read failed", "room", roomID, "err", err)
				ch.sendError(u, &protocol.Error{Code: protocol.CodeHistoryUnavailable, Message: "could not read the history of " + quote(roomID)})
				return
			}
			u.conn.SendText(b)
		}
	})
}

// dedupWindow is how long clientMsgIds are remembered: longer than any resume.
func (ch *Chat) dedupWindow() time.Duration { return max(2*ch.cfg.ResumeGrace, 5*time.Minute) }

// OpenHistory makes st the chat's history and loads from it what the owner needs
// before the first connection: the resume key, each room's last seq, the highest
// userId (and reserves the first block above it), resumable identities, recent clientMsgIds; then starts the writer. Call it
// once, before the Worker starts: it blocks on the disk. Close closes st.
func (ch *Chat) OpenHistory(st store.Store) error { return ch.OpenHistoryWith(st, nil) }

// JournalOpener makes the journal of a chat whose history is st: a cluster node's
// (engine/cluster), which consumes the cluster's lines after applied, the stream seq
// st has committed up to. onCommit is the chat's commit callback.
type JournalOpener func(st store.Store, applied uint64, onCommit func(*store.Batch, error)) (Journal, error)

// OpenHistoryWith is OpenHistory with a journal of open's making instead of the
// single-node store writer (nil: that writer).
func (ch *Chat) OpenHistoryWith(st store.Store, open JournalOpener) error {
	key, err := st.ResumeKey()
	if err != nil {
		return fmt.Errorf("resume key: %w", err)
	}
	now := ch.now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	state, err := st.Load(ctx, now.Add(-ch.dedupWindow()))
	if err != nil {
		return fmt.Errorf("load history: %w", err)
	}
	ch.key, ch.store = key, st
	ch.startReaders(st)
	for room, seq := range state.LastSeq {
		ch.streams[room] = &stream{assigned: seq, committed: seq}
	}
	ch.loadDialogs(state)
	// New ids start above every id reserved before, so none handed out before a crash
	// comes back; the first block is reserved now, while blocking is allowed.
	block := ch.userIDs.block
	if err := st.Write(ctx, &store.Batch{UserIDsUpTo: state.MaxUserID + block}); err != nil {
		return fmt.Errorf("reserve userIds: %w", err)
	}
	ch.userIDs = userIDs{next: state.MaxUserID + 1, reserved: state.MaxUserID + block, requested: state.MaxUserID + block, block: block}
	ch.restoreIdentities(state.Sessions, now)
	ch.acct.rooms, ch.acct.reads = state.AccountRooms, state.AccountReads
	for i := len(state.ClientMsgs) - 1; i >= 0; i-- { // oldest first
		m := &state.ClientMsgs[i]
		ch.clientMsgs.add(clientMsgKey{m.UserID, m.ClientMsgID}, clientMsg{room: m.Room, seq: m.Seq, ts: m.TS, committed: true, at: time.UnixMilli(m.TS).UnixNano()})
	}
	limits := store.Limits{MaxQueueBytes: store.DefaultMaxQueueBytes, Timeout: ch.cfg.StoreTimeout}
	if open == nil {
		ch.writer = store.NewLimitedWriter(st, ch.cfg.HistoryFlushInterval, limits, ch.onCommit, ch.log)
	} else if ch.writer, err = open(st, state.AppliedStreamSeq, ch.onCommit); err != nil {
		return fmt.Errorf("open journal: %w", err)
	} else if err = ch.joinClusterOf(ctx, ch.writer, ch.userIDs.reserved); err != nil {
		ch.writer.Close()
		return err
	}
	// A cluster node's journal also carries presence to and from the other nodes;
	// the single-node writer does not, and then nothing of remote.go runs.
	ch.link, _ = ch.writer.(PresenceLink)
	ch.sig, _ = ch.writer.(SignalLink)
	ch.log.Info("history opened", "rooms", len(state.LastSeq), "sessions", len(state.Sessions), "clientMsgIds", len(state.ClientMsgs))
	return nil
}

// restoreIdentities makes the stored sessions resumable again, each for the rest of
// its grace.
func (ch *Chat) restoreIdentities(sessions []store.Session, now time.Time) {
	slices.SortFunc(sessions, func(a, b store.Session) int { return int(a.LastSeen - b.LastSeen) })
	for _, s := range sessions {
		if len(s.Secret) != secretBytes {
			continue // stored before resume secrets: its token cannot be told from another's
		}
		// A session online at the last stop (a crash) gets its grace from now.
		left := now
		if !s.Online {
			left = time.UnixMilli(s.LastSeen)
		}
		ch.ids[s.UserID] = offlineIdentity(s, left)
		ch.takeName(s.Name, s.UserID)
		ch.departed = append(ch.departed, departure{s.UserID, left})
	}
	slices.SortStableFunc(ch.departed, func(a, b departure) int { return a.at.Compare(b.at) })
}

func cut(s string, sep byte) (before, after string, found bool) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func cutLast(s string, sep byte) (before, after string, found bool) {
	if i := strings.LastIndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func parseUint(s string) (uint64, error) { return strconv.ParseUint(strings.TrimSpace(s), 10, 64) }
