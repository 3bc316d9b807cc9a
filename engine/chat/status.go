package chat

import (
	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// userStatus is what a user set with SetStatus. Only users who set one have an entry
// (Chat.statuses); it goes when they log out, and a reconnecting client sets it again.
type userStatus struct {
	status, text string
	fields       []byte // AppendStatusFields, spliced into member pages
	dirty        bool   // in Chat.statusDirty: its Status goes out at the next tick
}

// defaultStatusFields are the status fields of a user who never set a status.
var defaultStatusFields = protocol.AppendStatusFields(nil, protocol.StatusOnline, "")

// handleSetStatus records u's status; its Status frame goes out at the next presence
// tick (flushStatuses), so however often u changes it, its rooms hear of it at most
// once a tick. SetStatus is charged to the costly class (limit.go).
func (ch *Chat) handleSetStatus(u *user, in *protocol.Inbound, data []byte) {
	status, err := protocol.DecodeStatus(data)
	if err != nil {
		ch.sendError(u, err)
		return
	}
	text, err := protocol.FormatStatusText(in.Text)
	if err != nil {
		ch.sendError(u, err)
		return
	}
	st := ch.statuses[u.info.ID]
	if st == nil {
		st = &userStatus{status: protocol.StatusOnline}
		ch.statuses[u.info.ID] = st
	}
	if st.status == status && st.text == text {
		return
	}
	st.status, st.text = status, text
	st.fields = protocol.AppendStatusFields(nil, status, text)
	if !st.dirty {
		st.dirty = true
		ch.statusDirty = append(ch.statusDirty, u.info.ID)
	}
}

// statusFields are u's status fields for a member page.
func (ch *Chat) statusFields(u *user) []byte {
	if st := ch.statuses[u.info.ID]; st != nil {
		return st.fields
	}
	return defaultStatusFields
}

// flushStatuses sends each changed status of the tick once to every opted-in member
// of the user's rooms (each member once, however many rooms they share) and to the
// user. Rooms above --presence-full-limit are skipped, as compact presence sends only
// counts there: their members read statuses from Users pages. A tick therefore costs
// at most (--max-rooms-per-user + 1) × --presence-full-limit sends per changed user.
func (ch *Chat) flushStatuses() {
	if len(ch.statusDirty) == 0 {
		return
	}
	for _, id := range ch.statusDirty {
		u, st := ch.users[id], ch.statuses[id]
		if u == nil || st == nil || !st.dirty {
			continue // logged out since
		}
		st.dirty = false
		ch.fanOutStatus(u, st)
		ch.publishStatus(id, st.fields) // for this node's presence snapshots (remotestatuses.go)
	}
	ch.statusDirty = ch.statusDirty[:0]
	if len(ch.statusSeen) > 4096 {
		ch.statusSeen = nil // a map keeps its size when cleared: a big tick's is not kept
	}
}

func (ch *Chat) fanOutStatus(u *user, st *userStatus) {
	payload := protocol.AppendStatus(nil, u.info.ID, st.status, st.text)
	frame := engine.AppendFrame(nil, engine.OpText, payload) // shared, never modified
	if ch.statusSeen == nil {
		ch.statusSeen = make(map[uint64]struct{})
	}
	seen := ch.statusSeen
	clear(seen)
	send := func(m *user) {
		if _, dup := seen[m.info.ID]; dup {
			return
		}
		seen[m.info.ID] = struct{}{}
		ch.sendOptIn(m, frame)
	}
	send(u)
	var remote []string // rooms with members on other nodes, for the signal
	for _, ms := range u.rooms {
		r := ch.rooms[ms.room]
		if !ms.public || r == nil || len(r.members) > ch.cfg.PresenceFullLimit {
			continue
		}
		for _, m := range r.members {
			send(m)
		}
		if ch.hasRemoteMembers(r.id) {
			remote = append(remote, r.id)
		}
	}
	if len(remote) > 0 {
		ch.signal(Signal{Kind: signalStatus, Rooms: remote, From: u.info.ID, Payload: payload, Status: st.status, Text: st.text})
	}
}
