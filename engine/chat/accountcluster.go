package chat

import (
	"context"

	"github.com/chatd/chatd/engine/accounts"
	"github.com/chatd/chatd/protocol"
)

// A JWT account on a cluster node (docs/CLUSTER.md, "Accounts"): its display name is
// de-duplicated cluster-wide, as a nickname is (clusterlogin.go), so it can pass
// neither for a registered name nor for a user online on another node. The name is
// reserved in KV by an identity worker while the login waits, its frames held, and
// left when the account's last device here leaves (remove, freeName): the account
// may be online on other nodes too, and the name is held from each of them
// (cluster.ShareName) until the last one leaves. A password
// account's name needs no round trip: the cluster holds it for good.

// jwtNameFromCluster reserves a display name for the first device here of a JWT
// account whose token was verified; wl stays waiting meanwhile.
func (ch *Chat) jwtNameFromCluster(wl *waitingLogin, a accounts.Account) {
	base := protocol.FilterName(a.Name, ch.cfg.MaxNameLength)
	if base == "" {
		base = ch.cfg.DefaultName
	}
	candidate, link := ch.uniqueName(base), ch.cl.link
	queued := ch.identityJob(func(ctx context.Context) func() {
		name, revs, err := reserveClusterName(ctx, link, base, candidate, a.UserID, true)
		return func() { ch.jwtNameReserved(wl, a, name, revs, err) }
	})
	if !queued {
		delete(ch.waitingBy, wl.conn.ID())
		ch.refuseClusterLogin(wl.conn)
	}
}

// jwtNameReserved goes on with a JWT login whose display name the cluster reserved.
// Another device of the account may have logged in here meanwhile: this one joins it
// as a further device, and a name it reserved apart from the first's is freed.
func (ch *Chat) jwtNameReserved(wl *waitingLogin, a accounts.Account, name string, revs [2]uint64, err error) {
	waiting := ch.stillWaiting(wl)
	if err != nil {
		ch.log.Warn("cluster login: reserve a JWT account's name", "userId", a.UserID, "err", err)
		if waiting {
			delete(ch.waitingBy, wl.conn.ID())
			ch.refuseClusterLogin(wl.conn)
		}
		return
	}
	first := ch.users[a.UserID]
	if first == nil || first.info.Name != name {
		if first != nil || !waiting {
			ch.leaveKeys(name, a.UserID) // not the name the account goes by here
		}
	}
	if !waiting {
		return
	}
	if first != nil {
		delete(ch.waitingBy, wl.conn.ID())
		ch.loginAccount(wl.conn, wl.req, a) // one more device of the account
		ch.replayHeld(wl)
		return
	}
	ch.cl.revs[a.UserID], ch.cl.shared[a.UserID] = revs, true
	u := newUser(wl.conn, a.UserID, wl.req, &ch.cfg)
	u.account, u.info.Name = true, name
	ch.enterAccount(u, wl.req)
	ch.replayHeld(wl)
}

// AccountRoomsFromCluster is a cluster's record of an account's rooms (besides the
// default one) and read positions, whichever node changed them last
// (engine/cluster/accountrooms.go): the next login of the account here rejoins them
// and counts what is unread from them. It replaces what this node kept; a change of
// this node's not yet in the cluster comes back with its next record. Safe from any
// goroutine; rooms and reads are the chat's from now on.
func (ch *Chat) AccountRoomsFromCluster(userID uint64, rooms []string, reads map[string]uint64) {
	ch.postCommit(func() {
		if ch.acct.rooms == nil {
			ch.acct.rooms = make(map[uint64][]string)
		}
		if ch.acct.reads == nil {
			ch.acct.reads = make(map[uint64]map[string]uint64)
		}
		setOrDelete(ch.acct.rooms, userID, rooms, len(rooms))
		setOrDelete(ch.acct.reads, userID, reads, len(reads))
	})
}

func setOrDelete[V any](m map[uint64]V, key uint64, v V, n int) {
	if n == 0 {
		delete(m, key)
		return
	}
	m[key] = v
}
