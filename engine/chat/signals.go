package chat

import (
	"encoding/json"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// Signals are the live events the chat never stores, for users on other nodes of a
// cluster: Typing to a room, a Status to the rooms of its user, a Buzz to one user.
// The sender's node checks and rate-limits them as for its own users and encodes
// them once; each other node delivers them to its local audience by the same rules.
// A node's SignalLink (engine/cluster) carries them on core NATS.

// Signal kinds.
const (
	signalTyping = "typing"
	signalStatus = "status"
	signalBuzz   = "buzz"
)

// Signal is one live event for the other nodes.
type Signal struct {
	Kind    string          `json:"kind"`
	Rooms   []string        `json:"rooms,omitempty"` // typing: its room; status: its user's public rooms
	From    uint64          `json:"from"`
	To      uint64          `json:"to,omitempty"`   // buzz: the recipient
	Payload json.RawMessage `json:"payload"`        // the frame an opted-in client gets
	Seed    json.RawMessage `json:"seed,omitempty"` // buzz: the seed's client's PrivateMessage
	// Status and Text are a status signal's status, kept for the member pages.
	Status string `json:"status,omitempty"`
	Text   string `json:"text,omitempty"`
}

// SignalLink is a cluster node's exchange of signals (engine/cluster implements it).
// PublishSignal never blocks; apply runs on the owner.
type SignalLink interface {
	StartSignals(post func(func()), apply func(Signal))
	PublishSignal(s Signal)
}

// signal sends s to the other nodes, if this is a cluster node.
func (ch *Chat) signal(s Signal) {
	if ch.sig != nil {
		ch.sig.PublishSignal(s)
	}
}

// hasRemoteMembers reports whether room has members on other nodes, to whom its
// signals must go.
func (ch *Chat) hasRemoteMembers(room string) bool {
	// Any member, one also here included (an account online here and there): its
	// devices there hear the room too. RemoteCount counts such a one here only.
	return ch.link != nil && len(ch.link.RemoteNodeCounts(room)) > 0
}

// applySignal delivers another node's signal to the local users it is for.
func (ch *Chat) applySignal(s Signal) {
	frame := engine.AppendFrame(nil, engine.OpText, s.Payload) // shared, never modified
	switch s.Kind {
	case signalTyping, signalStatus:
		if s.Kind == signalStatus {
			ch.noteRemoteStatus(s)
		}
		var seen map[uint64]struct{} // members of several of the rooms get it once
		if len(s.Rooms) > 1 {
			seen = make(map[uint64]struct{})
		}
		for _, id := range s.Rooms {
			r := ch.rooms[id]
			if r == nil || ch.count(r) > ch.cfg.PresenceFullLimit { // as for its own users
				continue
			}
			for _, m := range r.members {
				if _, dup := seen[m.info.ID]; dup || m.info.ID == s.From {
					continue
				}
				if seen != nil {
					seen[m.info.ID] = struct{}{}
				}
				ch.sendOptIn(m, frame)
			}
		}
	case signalBuzz:
		to := ch.users[s.To]
		if to == nil {
			return
		}
		seed := engine.AppendFrame(nil, engine.OpText, s.Seed)
		for _, d := range ch.devicesOf(to) {
			if d.optIn {
				d.conn.SendFrame(frame)
			} else {
				d.conn.SendFrame(seed)
			}
		}
	}
}

// noteRemoteStatus keeps a user of another node's status for member pages while it is
// in the default room there; the default status keeps no entry.
func (ch *Chat) noteRemoteStatus(s Signal) {
	if s.Status == protocol.StatusOnline && s.Text == "" {
		delete(ch.remoteStatuses, s.From)
		return
	}
	if _, ok := ch.link.RemoteFields(ch.defaultRoom.id, s.From); !ok {
		return // not (or no longer) online there
	}
	if ch.remoteStatuses == nil {
		ch.remoteStatuses = make(map[uint64][]byte)
	}
	ch.remoteStatuses[s.From] = protocol.AppendStatusFields(nil, s.Status, s.Text)
}

// remoteStatusFields are a remote member's status fields for a member page.
func (ch *Chat) remoteStatusFields(userID uint64) []byte {
	if f, ok := ch.remoteStatuses[userID]; ok {
		return f
	}
	return defaultStatusFields
}

// buzzOtherNode sends u's buzz to a user online on another node; false: none is.
func (ch *Chat) buzzOtherNode(u *user, to uint64) bool {
	if !ch.onOtherNode(to) {
		return false
	}
	if !ch.takeBuzz(u.info.ID, to) {
		ch.counters.rateLimited++
		ch.sendError(u, &protocol.Error{Code: protocol.CodeRateLimited, Message: "one buzz per --buzz-interval to each user, at most 8 users at a time"})
		return true
	}
	ch.signal(Signal{Kind: signalBuzz, From: u.info.ID, To: to,
		Payload: protocol.AppendBuzz(nil, u.encoded()),
		Seed:    protocol.AppendChat(nil, protocol.ActionPrivateMessage, u.encoded(), protocol.BuzzText, to)})
	return true
}
