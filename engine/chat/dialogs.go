package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Dialogs: the private lines between two users are one stream, protocol.DialogID
// ("@<lo>-<hi>"), stored once with gap-free seqs of its own and delivered to both
// participants (every device of each). They replaced the per-user inboxes ("@<id>",
// two copies of each line, one seq per reader), which History still reads.
//
// The owner keeps an index of who has which dialog, each user's newest first, built at
// start from the streams the store loaded and moved on every commit: Dialogs reads
// its first page and then the last line of each listed dialog through the reads pool.
// A connection's place in its dialogs (what it was sent, acks, replays) is in
// ch.connDialogs by connection, apart from u.rooms, so room fan-outs never scan dialogs
// and a connection without dialogs pays nothing for them; it is made on the
// first delivery (or by since=) and bounded, the least recently used dropped first.

// maxDialogMemberships bounds the dialogs one connection tracks at once.
const maxDialogMemberships = 256

// dialog is one dialog in the index.
type dialog struct {
	id     string
	lo, hi uint64
	lastTS int64 // unix ms of its last line, for newest-first order
}

func (d *dialog) other(userID uint64) uint64 {
	if userID == d.lo {
		return d.hi
	}
	return d.lo
}

// dialogIndex is every live dialog, by id and by participant (newest first).
type dialogIndex struct {
	byID   map[string]*dialog
	byUser map[uint64][]*dialog
}

// touch records a line of dialog id at ts: the dialog goes first in both lists.
// The lists are kept newest first by moving an entry to the front, so an active
// dialog is found near the front.
func (x *dialogIndex) touch(id string, lo, hi uint64, ts int64) {
	if x.byID == nil {
		x.byID = make(map[string]*dialog)
		x.byUser = make(map[uint64][]*dialog)
	}
	d := x.byID[id]
	if d == nil {
		d = &dialog{id: id, lo: lo, hi: hi}
		x.byID[id] = d
	}
	d.lastTS = max(d.lastTS, ts)
	x.toFront(lo, d)
	if hi != lo {
		x.toFront(hi, d)
	}
}

func (x *dialogIndex) toFront(userID uint64, d *dialog) {
	list := x.byUser[userID]
	i := slices.Index(list, d)
	if i < 0 {
		list = append(list, nil)
		i = len(list) - 1
	}
	copy(list[1:i+1], list[:i])
	list[0] = d
	x.byUser[userID] = list
}

// add indexes d, a dialog new to it, last in its participants' lists (loadDialogs
// sorts them after).
func (x *dialogIndex) add(d *dialog) {
	if x.byID == nil {
		x.byID = make(map[string]*dialog)
		x.byUser = make(map[uint64][]*dialog)
	}
	x.byID[d.id] = d
	x.byUser[d.lo] = append(x.byUser[d.lo], d)
	if d.hi != d.lo {
		x.byUser[d.hi] = append(x.byUser[d.hi], d)
	}
}

// drop forgets d in both participants' lists.
func (x *dialogIndex) drop(d *dialog) {
	delete(x.byID, d.id)
	for _, id := range []uint64{d.lo, d.hi} {
		list := x.byUser[id]
		if i := slices.Index(list, d); i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
		if len(list) == 0 {
			delete(x.byUser, id)
		} else {
			x.byUser[id] = list
		}
	}
}

// loadDialogs builds the index from the streams loaded at start, each with its last
// line's time (store.State.LastTS). OpenHistory calls it, before the worker starts.
func (ch *Chat) loadDialogs(state *store.State) {
	for id, seq := range state.LastSeq {
		lo, hi, ok := protocol.DialogUsers(id)
		if !ok || seq == 0 {
			continue
		}
		ch.dialogs.add(&dialog{id: id, lo: lo, hi: hi, lastTS: state.LastTS[id]})
	}
	for id, list := range ch.dialogs.byUser {
		slices.SortStableFunc(list, func(a, b *dialog) int { return int(b.lastTS - a.lastTS) })
		ch.dialogs.byUser[id] = list
	}
}

// reachable reports whether a private line to userID is kept for it: it is online,
// an anonymous identity that can still resume, or an account.
func (ch *Chat) reachable(userID uint64) bool {
	return ch.users[userID] != nil || ch.ids[userID] != nil || ch.isAccount(userID) || ch.onOtherNode(userID)
}

// onOtherNode reports whether userID is online on another node of the cluster: every
// user is a member of the default room, which presence shares across nodes.
func (ch *Chat) onOtherNode(userID uint64) bool {
	if ch.link == nil {
		return false
	}
	_, ok := ch.link.RemoteFields(ch.defaultRoom.id, userID)
	return ok
}

// isAccount reports whether userID is a registered account, online or not.
func (ch *Chat) isAccount(userID uint64) bool {
	if u := ch.users[userID]; u != nil && u.account {
		return true
	}
	if ch.acct.svc == nil {
		return false
	}
	_, ok := ch.acct.svc.Account(userID)
	return ok
}

// nameOf is the name userID goes by now, "" if the chat knows none.
func (ch *Chat) nameOf(userID uint64) string {
	if u := ch.users[userID]; u != nil {
		return u.info.Name
	}
	if id := ch.ids[userID]; id != nil {
		return id.info.Name
	}
	if ch.acct.svc != nil {
		if a, ok := ch.acct.svc.Account(userID); ok {
			return a.Name
		}
	}
	return ""
}

// isDialog reports whether roomID is a dialog's id.
func isDialog(roomID string) bool {
	_, _, ok := protocol.DialogUsers(roomID)
	return ok
}

// inDialog reports whether roomID is a dialog that userID takes part in.
func inDialog(roomID string, userID uint64) bool {
	_, ok := protocol.DialogOther(roomID, userID)
	return ok
}

// dialogAccess is for requests naming a roomId: dialog says whether it is a dialog's
// id, ok whether u takes part in it (if not, u got not_in_room).
func (ch *Chat) dialogAccess(u *user, roomID string) (dialog, ok bool) {
	if !isDialog(roomID) {
		return false, false
	}
	if !inDialog(roomID, u.info.ID) {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeNotInRoom, Message: "not in dialog " + quote(roomID)})
		return true, false
	}
	return true, true
}

// inStream reports whether u may read roomID now: a room it is in, or a dialog of its.
func (ch *Chat) inStream(u *user, roomID string) bool {
	if isDialog(roomID) {
		return inDialog(roomID, u.info.ID)
	}
	return u.rooms.get(roomID) != nil
}

// membershipOf is u's membership of a room or a dialog, nil if none.
func (ch *Chat) membershipOf(u *user, roomID string) *membership {
	if ms := u.rooms.get(roomID); ms != nil {
		return ms
	}
	return ch.dialogsOf(u).get(roomID)
}

// dialogsOf is the dialogs connection u tracks; nil if none.
func (ch *Chat) dialogsOf(u *user) memberships {
	if p := ch.connDialogs[u.conn.ID()]; p != nil {
		return *p
	}
	return nil
}

// touchDialog is u's membership of dialog room, made (and the least recently used
// dropped past maxDialogMemberships) if u tracks none, and now the newest.
func (ch *Chat) touchDialog(u *user, room string) *membership {
	p := ch.connDialogs[u.conn.ID()]
	if p == nil {
		if ch.connDialogs == nil {
			ch.connDialogs = make(map[uint64]*memberships)
		}
		p = new(memberships)
		ch.connDialogs[u.conn.ID()] = p
	}
	return p.touch(room)
}

// touch is the membership of dialog room, made if u has none, moved to the end (the
// most recently used); past maxDialogMemberships the least recently used goes.
func (s *memberships) touch(room string) *membership {
	list := *s
	for i, ms := range list {
		if ms.room == room {
			copy(list[i:], list[i+1:])
			list[len(list)-1] = ms
			return ms
		}
	}
	if len(list) >= maxDialogMemberships {
		copy(list, list[1:])
		list = list[:len(list)-1]
	}
	ms := &membership{room: room}
	*s = append(list, ms)
	return ms
}

// chatPrivate stores a private line (m filled but for its room) in the dialog of u
// and in.ToUserID. A recipient nobody can reach later gets the seed's answer.
func (ch *Chat) chatPrivate(u *user, in *protocol.Inbound, m store.Message) {
	if !ch.reachable(in.ToUserID) {
		ch.counters.undelivered++
		// The seed's answer, which the Qt client shows, then chatd's machine-readable one.
		ch.payload = protocol.AppendChat(ch.payload[:0], protocol.ActionPrivateMessage, u.encoded(), protocol.NotDeliveredText, in.ToUserID)
		u.conn.SendText(ch.payload)
		ch.sendError(u, &protocol.Error{Code: protocol.CodeRecipientOffline, Message: "no user with that userId is online"})
		return
	}
	m.Room, m.ToUserID, m.ClientMsgID = protocol.DialogID(u.info.ID, in.ToUserID), in.ToUserID, in.ClientMsgID
	if err := ch.append(m); err != nil {
		ch.storeUnavailable(u, err)
		return
	}
	ch.counters.private++
}

// dialogRecipient is the other participant of the dialog a line names by roomId, or
// false after an Error.
func (ch *Chat) dialogRecipient(u *user, roomID string) (uint64, bool) {
	if _, ok := ch.dialogAccess(u, roomID); !ok {
		return 0, false
	}
	to, _ := protocol.DialogOther(roomID, u.info.ID)
	return to, true
}

// deliverDialog sends a committed line of dialog lo-hi to every device of both, and
// reports whether any kept frame (see deliverCommitted).
func (ch *Chat) deliverDialog(m *store.Message, lo, hi uint64, frame []byte) (kept bool) {
	ch.dialogs.touch(m.Room, lo, hi, m.TS)
	for i, id := range [2]uint64{lo, hi} {
		if i == 1 && hi == lo {
			break // a note to oneself comes once
		}
		u := ch.users[id]
		if u == nil {
			continue // stored: Dialogs and History give it at the next login
		}
		if ch.deliverDialogTo(u, m, frame) {
			kept = true
		}
		for _, d := range ch.otherDevices(u) {
			if ch.deliverDialogTo(d, m, frame) {
				kept = true
			}
		}
	}
	return kept
}

// deliverDialogTo sends a dialog's line to one connection: the seed's client as a
// plain PrivateMessage, an opt-in one (or one replaying the dialog from since=)
// through its membership (acks, replays).
func (ch *Chat) deliverDialogTo(u *user, m *store.Message, frame []byte) bool {
	if !u.optIn && ch.dialogsOf(u).get(m.Room) == nil {
		ch.meters.delivered++
		return u.conn.SendFrame(frame)
	}
	return ch.deliver(u, ch.touchDialog(u, m.Room), m.Seq, frame)
}

// sendToOptedIn sends frame to the opted-in connections of a room's members or of a
// dialog's two participants (Edited, Deleted, Reactions: the seed's client knows none
// of them); a room without members gets nothing.
func (ch *Chat) sendToOptedIn(room string, frame []byte) {
	if r := ch.rooms[room]; r != nil {
		for _, m := range r.members {
			ch.sendOptIn(m, frame)
		}
		return
	}
	lo, hi, ok := protocol.DialogUsers(room)
	if !ok {
		return
	}
	for i, id := range [2]uint64{lo, hi} {
		if u := ch.users[id]; u != nil && (i == 0 || hi != lo) {
			ch.sendOptIn(u, frame)
		}
	}
}

// restoreDialog starts the replay of dialog roomID, named in since=, for u; false if
// roomID is no dialog (the caller goes on with it).
func (ch *Chat) restoreDialog(u *user, roomID string, from since) bool {
	if !isDialog(roomID) {
		return false
	}
	if inDialog(roomID, u.info.ID) && ch.dialogsOf(u).get(roomID) == nil {
		ch.startSync(u, ch.touchDialog(u, roomID), from, roomID)
	}
	// Another identity's dialog (the one a failed resume left behind) is skipped,
	// as its old inbox is.
	return true
}

// dialogUnread is how many lines of dialog room account u has not read (its own
// lines mark the dialog read, so they never count); NoUnread for anonymous users.
func (ch *Chat) dialogUnread(u *user, room string) int {
	if !u.account {
		return protocol.NoUnread
	}
	read := ch.acct.reads[u.info.ID][room] // none: it has read nothing of it
	if last := ch.committedSeq(room); last > read {
		return int(last - read)
	}
	return 0
}

// live reports whether d is still listed: between accounts a dialog is kept; with an
// anonymous user, as long as that identity is online or can resume.
func (ch *Chat) live(d *dialog) bool {
	return ch.reachable(d.lo) && ch.reachable(d.hi)
}

// pruneDialogs drops the dialogs loaded at start whose anonymous participant can no
// longer resume; OnWorkerStart calls it, once identities and accounts are known.
func (ch *Chat) pruneDialogs() {
	for _, d := range ch.dialogs.byID {
		if !ch.live(d) {
			ch.dialogs.drop(d)
		}
	}
}

// dropDialogsOf forgets the dialogs of an anonymous user gone for good.
func (ch *Chat) dropDialogsOf(userID uint64) {
	if ch.isAccount(userID) {
		return
	}
	for _, d := range slices.Clone(ch.dialogs.byUser[userID]) {
		ch.dialogs.drop(d)
	}
}

// handleDialogs answers Dialogs: the first limit live dialogs of u, newest first,
// each with the last line, which one read through the reads pool fetches.
func (ch *Chat) handleDialogs(u *user, in *protocol.Inbound) {
	limit := int(min(in.Limit, protocol.DialogsMaxLimit))
	if limit == 0 {
		limit = protocol.DialogsMaxLimit
	}
	var entries []protocol.DialogEntry
	var gone []*dialog
	for _, d := range ch.dialogs.byUser[u.info.ID] {
		if len(entries) == limit {
			break
		}
		if !ch.live(d) {
			gone = append(gone, d)
			continue
		}
		other := d.other(u.info.ID)
		entries = append(entries, protocol.DialogEntry{
			RoomID: d.id, UserID: other, UserName: ch.nameOf(other),
			LastSeq: ch.committedSeq(d.id), Unread: ch.dialogUnread(u, d.id),
		})
	}
	for _, d := range gone {
		ch.dialogs.drop(d)
	}
	if ch.store == nil || len(entries) == 0 {
		u.conn.SendText(protocol.AppendDialogs(nil, entries))
		return
	}
	ch.readHistory(u, func(ctx context.Context, st store.Store) func() {
		err := readLastLines(ctx, st, entries)
		b := protocol.AppendDialogs(nil, entries)
		return func() {
			if !u.online() {
				return
			}
			u.historyInFlight = false
			if err != nil {
				ch.log.Error("dialogs read failed", "userId", u.info.ID, "err", err)
				ch.sendError(u, &protocol.Error{Code: protocol.CodeHistoryUnavailable, Message: "could not read the last lines of the dialogs"})
				return
			}
			u.conn.SendText(b)
		}
	})
}

// readLastLines reads, off the owner, the last line of each entry's dialog into its
// Last (a deleted one in History's shape), and a name the chat did not know from it.
func readLastLines(ctx context.Context, st store.Store, entries []protocol.DialogEntry) error {
	for i := range entries {
		e := &entries[i]
		msgs, err := st.Range(ctx, e.RoomID, e.LastSeq-1, e.LastSeq, 1)
		if err != nil {
			return fmt.Errorf("last line of %s: %w", e.RoomID, err)
		}
		if len(msgs) != 1 {
			continue
		}
		m := &msgs[0]
		if e.UserName == "" && m.UserID == e.UserID {
			e.UserName = m.UserName
		}
		if m.Deleted {
			e.Last = protocol.AppendDeletedStored(nil, &protocol.Stored{Seq: m.Seq, UserID: m.UserID, TS: m.TS}, false)
			continue
		}
		e.Last = encodeStored(nil, m)
	}
	return nil
}

// isOldInbox reports whether room is a pre-dialog inbox id ("@<userId>"), which
// holds no read positions.
func isOldInbox(room string) bool {
	return strings.HasPrefix(room, protocol.InboxPrefix) && !isDialog(room)
}
