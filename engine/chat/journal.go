package chat

import (
	"errors"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// stream is the seq counter of one room or inbox. Seqs are assigned on the owner, so
// the history's order is the order the owner accepted messages in; committed trails
// assigned by what the writer has not yet made durable.
type stream struct {
	assigned  uint64
	committed uint64
}

func (ch *Chat) stream(id string) *stream {
	s := ch.streams[id]
	if s == nil {
		s = &stream{}
		ch.streams[id] = s
	}
	return s
}

// committedSeq is the last durable seq of a room or inbox, 0 if it has none; unlike
// stream, it makes no entry, which an idle user's inbox would keep for nothing.
func (ch *Chat) committedSeq(id string) uint64 {
	if s := ch.streams[id]; s != nil {
		return s.committed
	}
	return 0
}

// append gives each of ms the next seq of its room and hands them to the writer, all
// or none. Nobody sees them before they are durable: a message delivered and then
// lost in a crash would leave its seq to be reused by another message, which clients
// would drop as a duplicate. While the store is in trouble the writer refuses them:
// the seqs are given back (nothing else ran on the owner meanwhile) and the error
// wraps store.ErrUnavailable.
func (ch *Chat) append(ms ...store.Message) error {
	for i := range ms {
		s := ch.stream(ms[i].Room)
		s.assigned++
		ms[i].Seq = s.assigned
	}
	if ch.writer == nil {
		ch.rememberClientMsgs(ms)
		ch.committed(ms, nil)
		return nil
	}
	if err := ch.writer.AddMessages(ms...); err != nil {
		for i := len(ms) - 1; i >= 0; i-- {
			ch.streams[ms[i].Room].assigned--
		}
		return err
	}
	ch.rememberClientMsgs(ms)
	return nil
}

// rememberClientMsgs notes the clientMsgIds of accepted messages, so a retry is
// recognized.
func (ch *Chat) rememberClientMsgs(ms []store.Message) {
	for i := range ms {
		if m := &ms[i]; m.ClientMsgID != "" {
			ch.clientMsgs.add(clientMsgKey{m.UserID, m.ClientMsgID}, clientMsg{room: m.Room, seq: m.Seq, ts: m.TS, at: ch.now().UnixNano()})
		}
	}
}

// rememberRemote notes the clientMsgId of a line another cluster node accepted, so
// that its sender, resuming here after that node died before its Sent, gets Sent for
// the stored line when it retries instead of storing it twice.
func (ch *Chat) rememberRemote(m *store.Message) {
	k := clientMsgKey{m.UserID, m.ClientMsgID}
	if ch.clientMsgs.get(k) == nil {
		ch.clientMsgs.add(k, clientMsg{room: m.Room, seq: m.Seq, ts: m.TS, committed: true, at: ch.now().UnixNano()})
	}
}

// onCommit runs on the writer's goroutine: it only hands the batch to the owner.
func (ch *Chat) onCommit(b *store.Batch, err error) {
	if len(b.Messages) == 0 && b.UserIDsUpTo == 0 && len(b.Reactions) == 0 && len(b.Edits) == 0 && err == nil {
		return
	}
	ch.postCommit(func() {
		ch.dropChangedReplays(b)
		if b.UserIDsUpTo > 0 && err == nil {
			ch.userIDsReserved(b.UserIDsUpTo)
		}
		if len(b.Messages) > 0 || err != nil {
			ch.committed(b.Messages, err)
		}
		if len(b.Reactions) > 0 {
			ch.reactionsCommitted(b.Reactions, err)
		}
		if len(b.Edits) > 0 && err == nil {
			ch.editsCommitted(b.Edits)
		}
	})
}

// postCommit runs fn on the owner. A cluster journal may commit lines of other nodes
// before the worker has started (its consumer catches up from the start): those wait
// in early and run first thing in OnWorkerStart, in commit order.
func (ch *Chat) postCommit(fn func()) {
	ch.earlyMu.Lock()
	defer ch.earlyMu.Unlock()
	if ch.w == nil {
		ch.early = append(ch.early, fn)
		return
	}
	ch.w.Post(fn)
}

// startCommits sets the worker commits are posted to and runs the early ones; on the
// owner, in OnWorkerStart.
func (ch *Chat) startCommits(w *engine.Worker) {
	ch.earlyMu.Lock()
	defer ch.earlyMu.Unlock()
	ch.w = w
	for _, fn := range ch.early {
		fn()
	}
	ch.early = nil
}

// committed runs on the owner once msgs are durable: each goes to its room's members
// (or its inbox's owner), then Sent to its sender if it carried a clientMsgId. The
// sender's echo and its Sent are pending together, so they leave in one write.
func (ch *Chat) committed(msgs []store.Message, err error) {
	if err != nil {
		ch.counters.commitErrors++
		ch.log.Error("history commit lost messages", "messages", len(msgs), "err", err)
		return
	}
	ch.counters.commits++
	for i := range msgs {
		m := &msgs[i]
		s := ch.stream(m.Room)
		s.committed = m.Seq
		s.assigned = max(s.assigned, m.Seq) // a cluster node commits lines other nodes numbered
		sender := ch.users[m.UserID]
		frame := ch.storedFrame(m, sender)
		if ch.deliverCommitted(m, frame) {
			ch.frame = nil // a recipient keeps it: the next message gets a buffer of its own
		} else {
			ch.frame = frame[:0]
		}
		if m.ClientMsgID != "" && m.Conn != 0 { // 0: sent through another cluster node, which answers Sent
			ch.sentCommitted(m, ch.sendingDevice(sender, m.Conn))
		} else if m.ClientMsgID != "" {
			ch.rememberRemote(m)
		}
		if sender != nil && sender.account {
			ch.markRead(sender, m.Room, m.Seq) // an account's own line is never unread
		}
	}
	ch.meters.deliveries.Store(ch.meters.delivered)
}

// storedFrame frames m as every reader gets it, in the reusable ch.frame. The sender's
// fields are the ones its user keeps encoded while it is online as the same identity;
// only an offline sender's are encoded again, into scratch.
func (ch *Chat) storedFrame(m *store.Message, sender *user) []byte {
	info := protocol.User{ID: m.UserID, Name: m.UserName, Gender: m.Gender, Color: m.Color}
	var fields []byte
	if sender != nil && sender.info == info {
		fields = sender.encoded()
	} else {
		ch.fields = protocol.AppendUserFields(ch.fields[:0], info)
		fields = ch.fields
	}
	ch.payload = appendStored(ch.payload[:0], m, fields)
	return engine.AppendFrame(ch.frame, engine.OpText, ch.payload)
}

// deliverCommitted sends frame to m's room or dialog and reports whether any
// recipient kept it (parked, or tracked for resends), so that it must not be reused.
func (ch *Chat) deliverCommitted(m *store.Message, frame []byte) (kept bool) {
	if lo, hi, ok := protocol.DialogUsers(m.Room); ok {
		return ch.deliverDialog(m, lo, hi, frame)
	}
	if r := ch.rooms[m.Room]; r != nil {
		var seed []byte // a reply as the seed's client gets it: without its quote
		for _, u := range r.members {
			kept = ch.deliverToMember(u, m, frame, &seed) || kept
			for _, d := range ch.otherDevices(u) {
				kept = ch.deliverToMember(d, m, frame, &seed) || kept
			}
		}
	}
	return kept
}

// deliverToMember is deliverCommitted for one member's connection; seed is the
// seed-client frame of a reply, made on first use.
func (ch *Chat) deliverToMember(u *user, m *store.Message, frame []byte, seed *[]byte) (kept bool) {
	if m.ReplyTo != "" && !u.optIn {
		if *seed == nil {
			*seed = engine.AppendFrame(nil, engine.OpText, encodeStoredFor(nil, m, false))
		}
		ch.deliver(u, u.rooms.get(m.Room), m.Seq, *seed) // a frame of its own, never reused
		return false
	}
	return ch.deliver(u, u.rooms.get(m.Room), m.Seq, frame)
}

// sendingDevice is the connection of sender's account that sent a line: conn, if it
// is still online; sender itself for a user on one connection (which may be a resumed
// identity's new one).
func (ch *Chat) sendingDevice(sender *user, conn uint64) *user {
	if sender == nil {
		return nil
	}
	others := ch.otherDevices(sender)
	if len(others) == 0 {
		return sender
	}
	for _, d := range append([]*user{sender}, others...) {
		if d.conn.ID() == conn {
			return d
		}
	}
	return nil // that device has left: its retry gets Sent (answerRetry)
}

// sentCommitted marks m's clientMsgId committed and answers Sent to its sender.
func (ch *Chat) sentCommitted(m *store.Message, sender *user) {
	ch.clientMsgs.commit(clientMsgKey{m.UserID, m.ClientMsgID}, m.Room, m.Seq)
	if sender != nil {
		sender.conn.SendText(protocol.AppendSent(ch.payload[:0], m.Room, m.Seq, m.TS, m.ClientMsgID))
	}
}

// deliver sends one committed message to one member, unless a replay is running (the
// replay reads it from the history) or the member has it already. It reports whether
// the member keeps frame (see deliverCommitted).
func (ch *Chat) deliver(u *user, ms *membership, seq uint64, frame []byte) (kept bool) {
	if ms == nil || ms.syncing || seq <= ms.delivered {
		return false
	}
	kept = u.conn.SendFrame(frame)
	ch.meters.delivered++
	ms.delivered = seq
	return ch.track(u, ms, seq, frame) || kept
}

// encodeStored writes m as the PublicMessage or PrivateMessage every reader gets.
func encodeStored(dst []byte, m *store.Message) []byte { return encodeStoredFor(dst, m, true) }

// encodeStoredFor is encodeStored for a client that opted in or not: the seed's client
// gets neither editedAt nor a quote (a deleted message it gets as nothing: nil).
func encodeStoredFor(dst []byte, m *store.Message, optIn bool) []byte {
	if m.Deleted && !optIn {
		return nil
	}
	sender := protocol.AppendUserFields(nil, protocol.User{ID: m.UserID, Name: m.UserName, Gender: m.Gender, Color: m.Color})
	if !optIn {
		seed := *m
		seed.EditedAt, seed.ReplyTo = 0, ""
		return appendStored(dst, &seed, sender)
	}
	return appendStored(dst, m, sender)
}

// appendStored is encodeStored with the sender's fields encoded already.
func appendStored(dst []byte, m *store.Message, sender []byte) []byte {
	s := protocol.Stored{
		RoomID: m.Room, Seq: m.Seq, TS: m.TS, Sender: sender, Text: m.Text, ToUserID: m.ToUserID, ClientMsgID: m.ClientMsgID,
		File:   protocol.ParseFileRef(m.File),
		UserID: m.UserID, EditedAt: m.EditedAt, ReplyTo: m.ReplyTo,
	}
	if m.Deleted {
		return protocol.AppendDeletedStored(dst, &s, true)
	}
	return protocol.AppendStored(dst, &s)
}

// answerRetry handles a chat line whose clientMsgId this user has used before: it is not
// stored or delivered again; Sent is repeated with the original seq once committed
// (if the original is still being committed, its commit answers).
func (ch *Chat) answerRetry(u *user, clientMsgID string) bool {
	e := ch.clientMsgs.get(clientMsgKey{u.info.ID, clientMsgID})
	if e == nil {
		return false
	}
	ch.counters.duplicates++
	if e.committed {
		u.conn.SendText(protocol.AppendSent(ch.payload[:0], e.room, e.seq, e.ts, clientMsgID))
	} else if err := ch.writer.Refusal(); err != nil {
		// Still queued behind a failing disk: say so now; Sent follows its commit.
		ch.storeUnavailable(u, err)
	}
	return true
}

// storeUnavailable tells u its line was not taken (or, for a retry, is still not
// durable) because the store is in trouble; the client retries with its clientMsgId.
func (ch *Chat) storeUnavailable(u *user, err error) {
	ch.counters.storeRefused++
	if errors.Is(err, store.ErrClusterUnavailable) {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeClusterUnavailable, Message: "this node cannot reach the cluster now; retry later"})
	} else {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeStoreUnavailable, Message: "the history cannot take messages now; retry later"})
	}
	ch.log.Debug("chat line refused", "userId", u.info.ID, "err", err)
}
