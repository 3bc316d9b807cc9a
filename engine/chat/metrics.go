package chat

import (
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/chatd/chatd/protocol"
)

// meters are the chat's figures for metrics. The owner writes them; a scrape reads
// them from its own goroutine through Meters, without a call to the owner, so they
// are atomics (and one small locked table) and cost one atomic add where they count.
type meters struct {
	logins      atomic.Uint64
	deliveries  atomic.Uint64
	delivered   uint64 // owner-only: counted per recipient, published to deliveries once per commit
	in          [numInbound]atomic.Uint64
	rateLimited [numCostClasses + 1]atomic.Uint64 // by costClass; the last: a class this file does not name

	mu     sync.Mutex
	errors map[protocol.Code]uint64 // Errors sent, by code: the server's own codes, never a client's string
}

// inbound is what a client's frame asked for, as metrics count it.
type inbound uint8

const (
	inPong inbound = iota
	inHeartbeat
	inPublic
	inPrivate
	inAck
	inJoinRoom
	inLeaveRoom
	inRooms
	inUsers
	inHistory
	inSetStatus
	inBuzz
	inTyping
	inReact
	inSearch
	inEdit
	inDelete
	inRead
	inDialogs
	inUnknown // an action or event chatd does not know
	inInvalid // not a request: bad JSON, not an object, a field of the wrong type
	inBinary
	numInbound
)

var inboundNames = [numInbound]string{"Pong", "Heartbeat", "PublicMessage", "PrivateMessage", "Ack",
	"JoinRoom", "LeaveRoom", "Rooms", "Users", "History", "SetStatus", "Buzz", "Typing", "React", "Search", "Edit", "Delete", "Read", "Dialogs", "unknown", "invalid", "binary"}

const numCostClasses = 3

var costClassNames = [numCostClasses + 1]string{costLine: "line", costCheap: "cheap", costCostly: "costly", numCostClasses: "other"}

// limitCodes are the Errors that report a chat limit, by the kind metrics name it.
var limitCodes = []struct {
	kind string
	code protocol.Code
}{
	{"text_length", protocol.CodeTextTooLong},
	{"rooms_per_user", protocol.CodeTooManyRooms},
	{"room_members", protocol.CodeRoomFull},
}

// inboundOf classes a decoded request the way OnMessage dispatches it.
func inboundOf(in *protocol.Inbound) inbound {
	switch {
	case in.Action == protocol.ActionPong:
		return inPong
	case in.IsHeartbeatPing():
		return inHeartbeat
	case in.Event != "" && in.Text == "":
		return inUnknown
	case in.IsChat() && (in.ToUserID != 0 || strings.HasPrefix(in.RoomID, protocol.InboxPrefix)):
		return inPrivate // a dialog's line names its recipient or its dialog
	case in.IsChat():
		return inPublic
	}
	switch in.Action {
	case protocol.ActionAck:
		return inAck
	case protocol.ActionJoinRoom:
		return inJoinRoom
	case protocol.ActionLeaveRoom:
		return inLeaveRoom
	case protocol.ActionRooms:
		return inRooms
	case protocol.ActionUsers:
		return inUsers
	case protocol.ActionHistory:
		return inHistory
	case protocol.ActionSetStatus:
		return inSetStatus
	case protocol.ActionBuzz:
		return inBuzz
	case protocol.ActionTyping:
		return inTyping
	case protocol.ActionReact:
		return inReact
	case protocol.ActionSearch:
		return inSearch
	case protocol.ActionEdit:
		return inEdit
	case protocol.ActionDelete:
		return inDelete
	case protocol.ActionRead:
		return inRead
	case protocol.ActionDialogs:
		return inDialogs
	}
	return inUnknown
}

func (m *meters) received(k inbound) { m.in[k].Add(1) }

func (m *meters) refused(class costClass) {
	m.rateLimited[min(int(class), numCostClasses)].Add(1)
}

func (m *meters) errorSent(code protocol.Code) {
	m.mu.Lock()
	if m.errors == nil {
		m.errors = make(map[protocol.Code]uint64)
	}
	m.errors[code]++
	m.mu.Unlock()
}

// Meters is the chat's side of /metrics. Its methods are safe from any goroutine.
type Meters struct{ ch *Chat }

// Meters reads the chat's figures for metrics; call it before the Worker starts (it
// keeps the history's writer, which OpenHistory sets).
func (ch *Chat) Meters() Meters { return Meters{ch} }

// Logins counts users that logged in (a resume is a login too).
func (m Meters) Logins() uint64 { return m.ch.meters.logins.Load() }

// Deliveries counts chat messages handed to a recipient live: one per recipient.
func (m Meters) Deliveries() uint64 { return m.ch.meters.deliveries.Load() }

// MessagesIn counts the frames clients sent, by what they asked for (inboundNames).
// Frames refused by the cheap budget before they were read are not among them.
func (m Meters) MessagesIn() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		for k := range numInbound {
			if !yield(inboundNames[k], m.ch.meters.in[k].Load()) {
				return
			}
		}
	}
}

// RateLimited counts requests refused for their cost class's budget, by class.
func (m Meters) RateLimited() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		for i := range m.ch.meters.rateLimited {
			n := m.ch.meters.rateLimited[i].Load()
			if (i < numCostClasses || n > 0) && !yield(costClassNames[i], n) {
				return
			}
		}
	}
}

// ErrorsSent counts the Errors sent to clients, by code.
func (m Meters) ErrorsSent() iter.Seq2[string, uint64] {
	errs := m.errors()
	return func(yield func(string, uint64) bool) {
		for _, code := range slices.Sorted(maps.Keys(errs)) {
			if !yield(string(code), errs[code]) {
				return
			}
		}
	}
}

// LimitsHit counts the chat's limits hit, by kind: "rate" (every cost class) and the
// Errors of limitCodes.
func (m Meters) LimitsHit() iter.Seq2[string, uint64] {
	errs := m.errors()
	return func(yield func(string, uint64) bool) {
		var rate uint64
		for i := range m.ch.meters.rateLimited {
			rate += m.ch.meters.rateLimited[i].Load()
		}
		if !yield("rate", rate) {
			return
		}
		for _, l := range limitCodes {
			if !yield(l.kind, errs[l.code]) {
				return
			}
		}
	}
}

// StoreQueued is how many records wait for the history's next commit (0 without one).
func (m Meters) StoreQueued() int {
	if m.ch.writer == nil {
		return 0
	}
	return m.ch.writer.Queued()
}

func (m Meters) errors() map[protocol.Code]uint64 {
	m.ch.meters.mu.Lock()
	defer m.ch.meters.mu.Unlock()
	return maps.Clone(m.ch.meters.errors)
}
