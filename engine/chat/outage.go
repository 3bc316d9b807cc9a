package chat

import (
	"errors"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// A cluster node cut off from NATS (docs/CLUSTER.md, "NATS outage and healing"):
// its journal refuses with store.ErrClusterUnavailable; connected clients stay, lines
// get cluster_unavailable (storeUnavailable), and new logins are refused until NATS is
// back, since no name can be reserved cluster-wide meanwhile.

// clusterUnavailable refuses a login while the journal cannot reach its cluster: no
// name or identity can be reserved cluster-wide, so the client gets Error
// cluster_unavailable and close 1013, and tries again (perhaps on another node). A
// single node's store in trouble refuses lines, not logins.
func (ch *Chat) clusterUnavailable(c *engine.Conn) bool {
	if ch.writer == nil || !errors.Is(ch.writer.Refusal(), store.ErrClusterUnavailable) {
		return false
	}
	ch.refuseClusterLogin(c)
	return true
}

// refuseClusterLogin sends Error cluster_unavailable and closes 1013: the login
// cannot reserve its name or identity in the cluster now (NATS unreachable, or too
// many logins waiting for it).
func (ch *Chat) refuseClusterLogin(c *engine.Conn) {
	c.SendText(protocol.AppendError(nil, &protocol.Error{Code: protocol.CodeClusterUnavailable, Message: "this node cannot reach the cluster now; try again later"}))
	c.Close(engine.CloseTryAgainLater)
}
