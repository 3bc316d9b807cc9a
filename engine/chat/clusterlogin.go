package chat

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
)

// A login on a cluster node (docs/CLUSTER.md, "Names, userIds, sessions, resume"):
// Authorized goes out only once the name is reserved cluster-wide, or the identity a
// resume token names is taken over from whichever node had it. Both are KV round
// trips, made by the identity workers (clusterids.go) while the login waits, its
// frames held as for a login waiting for a userId.

// clusterLogin is login on a cluster node. An identity this node holds resumes at
// once, as on a single node.
func (ch *Chat) clusterLogin(c *engine.Conn, r *engine.Request) {
	u := newUser(c, 0, r, &ch.cfg)
	tok := r.Query.Get("resume")
	if tok != "" {
		if online, off := ch.resumeIdentity(tok); online != nil || off != nil {
			ch.takeIdentity(u, online, off)
			ch.enter(u, r, true, false)
			return
		}
	}
	wl := ch.holdLogin(c, r)
	if wl == nil {
		return
	}
	if userID, mac, ok := parseToken(tok); ok {
		ch.resumeFromCluster(u, wl, userID, mac)
		return
	}
	ch.nameFromCluster(u, wl, tok != "")
}

// holdLogin keeps c's frames while its login waits for the cluster; nil: too many
// wait already, and c is refused.
func (ch *Chat) holdLogin(c *engine.Conn, r *engine.Request) *waitingLogin {
	if len(ch.waitingBy) >= maxWaitingLogins {
		ch.refuseClusterLogin(c)
		return nil
	}
	wl := &waitingLogin{conn: c, req: r, at: ch.now()}
	ch.waitingBy[c.ID()] = wl
	return wl
}

// stillWaiting reports whether wl's connection is open and its login still waits.
func (ch *Chat) stillWaiting(wl *waitingLogin) bool {
	return !wl.gone && !wl.conn.Closing() && ch.waitingBy[wl.conn.ID()] == wl
}

// replayHeld ends wl's wait and handles the frames it held.
func (ch *Chat) replayHeld(wl *waitingLogin) {
	delete(ch.waitingBy, wl.conn.ID())
	for _, m := range wl.held {
		if wl.conn.Closing() {
			break
		}
		ch.OnMessage(wl.conn, m)
	}
	wl.held = nil
}

// nameFromCluster gives u a new userId and has the first name free cluster-wide
// reserved for it, starting from the one free on this node.
func (ch *Chat) nameFromCluster(u *user, wl *waitingLogin, resumeFailed bool) {
	userID, base := ch.takeUserID(), u.info.Name
	candidate, link := ch.uniqueName(base), ch.cl.link
	queued := ch.identityJob(func(ctx context.Context) func() {
		name, revs, err := reserveClusterName(ctx, link, base, candidate, userID, false)
		return func() { ch.clusterNameReserved(u, wl, userID, name, revs, resumeFailed, err) }
	})
	if !queued {
		delete(ch.waitingBy, wl.conn.ID())
		ch.refuseClusterLogin(wl.conn)
	}
}

// clusterNameReserved goes on with a login whose name the cluster reserved.
func (ch *Chat) clusterNameReserved(u *user, wl *waitingLogin, userID uint64, name string, revs [2]uint64, resumeFailed bool, err error) {
	if err != nil {
		ch.log.Warn("cluster login: reserve name", "err", err)
		if ch.stillWaiting(wl) {
			delete(ch.waitingBy, wl.conn.ID())
			ch.refuseClusterLogin(wl.conn)
		}
		return
	}
	if !ch.stillWaiting(wl) {
		ch.freeKeys(name, revs) // gone meanwhile: the name is nobody's
		return
	}
	ch.cl.revs[userID] = revs
	ch.newIdentity(u, userID, name)
	ch.enter(u, wl.req, false, resumeFailed)
	ch.replayHeld(wl)
}

// resumeFromCluster has the identity userID taken over from the cluster if the
// token's mac is genuine for it; else u logs in as a new user (resume_failed).
func (ch *Chat) resumeFromCluster(u *user, wl *waitingLogin, userID uint64, mac []byte) {
	link := ch.cl.link
	verify := func(s store.Session) bool { return ch.sessionResumable(s, mac) } // pure: runs off the owner
	queued := ch.identityJob(func(ctx context.Context) func() {
		s, ok, err := link.ResumeSession(ctx, userID, verify)
		var revs [2]uint64
		if ok && err == nil {
			// The identity may come from a node that died with its lines in the
			// stream but not yet here: once they are, their clientMsgIds are known
			// (rememberRemote) and the client's retries of them are answered, not
			// stored twice.
			err = link.WaitCaughtUp(ctx)
		}
		if ok && err == nil {
			var taken bool
			if revs, taken, err = reserveBothKeys(ctx, link, s.Name, userID, link.ClaimName, false); taken {
				ok = false // its name went to another user: it cannot come back as itself
			}
		}
		return func() { ch.resumedFromCluster(u, wl, s, revs, ok, err) }
	})
	if !queued {
		delete(ch.waitingBy, wl.conn.ID())
		ch.refuseClusterLogin(wl.conn)
	}
}

// resumedFromCluster goes on with a resume the cluster answered: the identity, taken
// over (kept resumable here if the connection left meanwhile), or a new one.
func (ch *Chat) resumedFromCluster(u *user, wl *waitingLogin, s store.Session, revs [2]uint64, ok bool, err error) {
	waiting := ch.stillWaiting(wl)
	switch {
	case err != nil:
		ch.log.Warn("cluster login: resume", "userId", s.UserID, "err", err)
		if waiting {
			delete(ch.waitingBy, wl.conn.ID())
			ch.refuseClusterLogin(wl.conn)
		}
		return
	case !ok:
		if waiting {
			ch.nameFromCluster(u, wl, true)
		}
		return
	}
	id := offlineIdentity(s, ch.now())
	ch.ids[s.UserID] = id
	ch.cl.revs[s.UserID] = revs
	if !waiting {
		ch.takeName(s.Name, s.UserID)
		ch.saveOffline(id)
		return
	}
	ch.takeIdentity(u, nil, id)
	ch.enter(u, wl.req, true, false)
	ch.replayHeld(wl)
}

// parseToken is a resume token's userId and bytes; false: not a token's shape.
func parseToken(tok string) (userID uint64, b []byte, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != 8+tokenMACBytes {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(b), b, true
}

// sessionResumable reports whether a stored session may be resumed with token bytes
// b: genuine for its secret, and online (on some node, perhaps a dead one) or within
// its grace. It reads only what never changes after start, so it may run off the owner.
func (ch *Chat) sessionResumable(s store.Session, b []byte) bool {
	if len(s.Secret) != secretBytes {
		return false
	}
	if !hmac.Equal(ch.tokenBytes(s.UserID, [secretBytes]byte(s.Secret)), b) {
		return false
	}
	return s.Online || ch.now().Sub(time.UnixMilli(s.LastSeen)) <= ch.cfg.ResumeGrace
}

// freeKeys frees name's KV keys, reserved at revs.
func (ch *Chat) freeKeys(name string, revs [2]uint64) {
	folded, shaped := nameKeys(name)
	ch.cl.link.FreeName(folded, revs[0])
	if shaped != folded {
		ch.cl.link.FreeName(shaped, revs[1])
	}
}

// leaveKeys is freeKeys for keys ShareName gave userID: this node leaves them.
func (ch *Chat) leaveKeys(name string, userID uint64) {
	folded, shaped := nameKeys(name)
	ch.cl.link.LeaveName(folded, userID)
	if shaped != folded {
		ch.cl.link.LeaveName(shaped, userID)
	}
}
