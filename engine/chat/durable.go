package chat

import "github.com/chatd/chatd/engine/store"

// Journal is where the owner hands what must be durable before anyone is told of it:
// chat lines, resumable sessions and userId reservations. It never blocks the owner
// and answers through the commit callback it was made with (Chat.onCommit), from its
// own goroutine. The single-node one is *store.Writer, the node's SQLite with group
// commit. A cluster's (docs/CLUSTER.md, not built yet) will publish to NATS JetStream:
// it may give a line a later seq than the one append assigned (another node's line
// took it) and will hand other nodes' lines to the callback too.
type Journal interface {
	// AddMessages queues lines, all or none; an error wraps store.ErrUnavailable.
	AddMessages(ms ...store.Message) error
	// AddEdit queues an edit or delete of a committed line; an error wraps
	// store.ErrUnavailable.
	AddEdit(e store.Edit) error
	// AddSession queues a resumable identity's state.
	AddSession(s store.Session)
	// AddAccountRoom queues an account's join or leave of a room.
	AddAccountRoom(r store.AccountRoom)
	// ReserveUserIDs queues the reservation of every userId up to upto.
	ReserveUserIDs(upto uint64)
	// Refusal is the error AddMessages would answer now, nil if it would take lines.
	Refusal() error
	// Queued is how many records wait for a commit (for metrics).
	Queued() int
	// AddReaction queues a reaction toggle (react.go), refused as AddMessages is.
	AddReaction(r store.Reaction) error
	// Close commits what is queued and stops.
	Close()
}

var _ Journal = (*store.Writer)(nil)
