package chat

import (
	"crypto/sha256"
	"errors"
	"slices"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/accounts"
	"github.com/chatd/chatd/protocol"
)

// accountState is the chat's side of accounts (engine/accounts): the registered
// names, reserved whether their accounts are online or not, and the registrations
// waiting for a userId. The service resolves tokens from memory; JWTs are verified on
// its own goroutines and come back through the owner's queue.
type accountState struct {
	svc       *accounts.Service // nil: no accounts
	anonymous bool              // --allow-anonymous
	reserved  map[string]uint64 // registered names under both name keys (names.go) -> userId
	idWaiters []chan<- uint64   // registrations and JWT first uses waiting for a userId
	// loginToken is the SHA-256 of the token each account's connection logged in
	// with, by connection id (none for a JWT), so a logout that revokes it ends the
	// connections it logged in (Revoked).
	loginToken map[uint64][32]byte
	// rooms are each account's rooms besides the default one (roaming.go), reads its
	// read positions (readmarks.go).
	rooms map[uint64][]string
	reads map[uint64]map[string]uint64
	// devices are the further connections of accounts online on more than one
	// (devices.go): the first connection is the user in ch.users and in its rooms'
	// members; the others are here, oldest first. Kept off the user struct, which
	// every idle connection pays for.
	devices map[uint64][]*user
}

// UseAccounts gives the chat its accounts and reserves their names; call it before
// the worker starts.
func (ch *Chat) UseAccounts(svc *accounts.Service) {
	ch.acct.svc = svc
	ch.acct.anonymous = svc.AllowAnonymous()
	for name, id := range svc.ReservedNames() {
		ch.reserveName(name, id)
	}
}

func (ch *Chat) reserveName(name string, id uint64) {
	if ch.acct.reserved == nil {
		ch.acct.reserved = make(map[string]uint64)
	}
	folded, shaped := nameKeys(name)
	ch.acct.reserved[folded] = id
	ch.acct.reserved[shaped] = id
}

// nameReserved reports whether a registered account holds name or a look-alike.
func (ch *Chat) nameReserved(folded, shaped string) bool {
	_, byCase := ch.acct.reserved[folded]
	_, byShape := ch.acct.reserved[shaped]
	return byCase || byShape
}

// onOwner runs fn on the owner and waits; false: the worker is not running.
func (ch *Chat) onOwner(fn func()) bool {
	if ch.w == nil {
		return false
	}
	ran := false
	ch.w.Call(func() { fn(); ran = true })
	return ran
}

// ReserveName implements accounts.Registrar.
func (ch *Chat) ReserveName(name string) (uint64, error) {
	taken := false
	reply := make(chan uint64, 1)
	if !ch.onOwner(func() {
		if taken = ch.nameTaken(name); !taken {
			ch.reserveName(name, 0)
			ch.takeAccountID(reply)
		}
	}) {
		return 0, accounts.ErrNoUserID
	}
	if taken {
		return 0, accounts.ErrNameTaken
	}
	id, err := waitAccountID(reply)
	if err != nil {
		ch.ReleaseName(name, 0)
		return 0, err
	}
	ch.onOwner(func() { ch.reserveName(name, id) })
	return id, nil
}

// ReleaseName implements accounts.Registrar.
func (ch *Chat) ReleaseName(name string, _ uint64) {
	ch.onOwner(func() {
		folded, shaped := nameKeys(name)
		delete(ch.acct.reserved, folded)
		delete(ch.acct.reserved, shaped)
	})
}

// NewUserID implements accounts.Registrar.
func (ch *Chat) NewUserID() (uint64, error) {
	reply := make(chan uint64, 1)
	if !ch.onOwner(func() { ch.takeAccountID(reply) }) {
		return 0, accounts.ErrNoUserID
	}
	return waitAccountID(reply)
}

func waitAccountID(reply <-chan uint64) (uint64, error) {
	t := time.NewTimer(loginWaitTimeout)
	defer t.Stop()
	select {
	case id := <-reply:
		if id == 0 {
			return 0, accounts.ErrNoUserID
		}
		return id, nil
	case <-t.C:
		return 0, accounts.ErrNoUserID
	}
}

// takeAccountID answers reply (buffered, so the owner never waits) with a userId from
// the reserved block: the same ids anonymous users get, so the two never collide. With
// none left it waits for the next reservation; 0: too many wait already.
func (ch *Chat) takeAccountID(reply chan<- uint64) {
	if len(ch.waiting) == 0 && len(ch.acct.idWaiters) == 0 && ch.userIDs.next <= ch.userIDs.reserved {
		reply <- ch.takeUserID()
		return
	}
	if len(ch.acct.idWaiters) >= maxWaitingLogins {
		reply <- 0
		return
	}
	ch.acct.idWaiters = append(ch.acct.idWaiters, reply)
	ch.userIDs.waited = true
	ch.reserveUserIDs()
}

// serveAccountIDs hands reserved ids to the waiting registrations; userIDsReserved
// calls it after the waiting logins.
func (ch *Chat) serveAccountIDs() {
	n := 0
	for ; n < len(ch.acct.idWaiters) && ch.userIDs.next <= ch.userIDs.reserved; n++ {
		ch.acct.idWaiters[n] <- ch.takeUserID()
	}
	ch.acct.idWaiters = append(ch.acct.idWaiters[:0], ch.acct.idWaiters[n:]...)
}

// admitAccount handles a login's token: a session token logs in at once, a JWT is
// verified off the owner, a bad one gets bad_token and 4004, and no token is an
// anonymous login (false) unless --allow-anonymous=false refuses it.
func (ch *Chat) admitAccount(c *engine.Conn, r *engine.Request) bool {
	tok := accounts.TokenFrom(r.Query, r.Header)
	if tok == "" {
		if ch.acct.svc == nil || ch.acct.anonymous {
			return false
		}
		c.SendText(protocol.AppendError(nil, &protocol.Error{Code: protocol.CodeAccountRequired, Message: "this server needs an account: connect with token=TOKEN"}))
		c.Close(CloseAccountRequired)
		return true
	}
	if ch.acct.svc == nil {
		ch.refuseToken(c)
		return true
	}
	if ch.tokenLogin(c, r, tok) {
		return true
	}
	if !ch.acct.svc.IsJWT(tok) && !ch.acct.svc.Shared() {
		ch.refuseToken(c)
		return true
	}
	if len(ch.waitingBy) >= maxWaitingLogins {
		c.Close(CloseNoUserID)
		return true
	}
	wl := &waitingLogin{conn: c, req: r, at: ch.now()}
	w := ch.w
	var err error
	if ch.acct.svc.IsJWT(tok) {
		err = ch.acct.svc.VerifyJWT(tok, func(a accounts.Account, err error) {
			w.Post(func() { ch.jwtVerified(wl, a, err) })
		})
	} else { // a cluster node: the token may be another node's of a moment ago
		err = ch.acct.svc.SyncToken(tok, func(err error) { w.Post(func() { ch.tokenSynced(wl, tok, err) }) })
	}
	if err != nil {
		c.Close(CloseNoUserID)
		return true
	}
	ch.waitingBy[c.ID()] = wl // its frames are held meanwhile (holdFrame)
	return true
}

// tokenLogin logs c in with a session token the accounts index holds; false: it
// holds none.
func (ch *Chat) tokenLogin(c *engine.Conn, r *engine.Request, tok string) bool {
	a, ok := ch.acct.svc.Session(tok)
	if !ok {
		return false
	}
	ch.loginAccount(c, r, a)
	if ch.acct.loginToken == nil {
		ch.acct.loginToken = make(map[uint64][32]byte)
	}
	ch.acct.loginToken[c.ID()] = sha256.Sum256([]byte(tok))
	return true
}

// tokenSynced goes on with a login whose token this cluster node's index lacked,
// once the index holds what the cluster has of it: the index's answer is the
// cluster's now (so a revoke meanwhile is seen here, or reaches Revoked after);
// syncErr: the cluster could not be asked, so a miss is no verdict on the token.
func (ch *Chat) tokenSynced(wl *waitingLogin, tok string, syncErr error) {
	if wl.gone || wl.conn.Closing() || ch.waitingBy[wl.conn.ID()] != wl {
		return
	}
	delete(ch.waitingBy, wl.conn.ID())
	switch {
	case ch.tokenLogin(wl.conn, wl.req, tok):
	case syncErr != nil:
		ch.refuseClusterLogin(wl.conn) // cluster_unavailable, 1013: the client keeps its token
		return
	default:
		ch.refuseToken(wl.conn)
		return
	}
	for _, m := range wl.held {
		if wl.conn.Closing() {
			break
		}
		ch.OnMessage(wl.conn, m)
	}
}

func (ch *Chat) refuseToken(c *engine.Conn) {
	c.SendText(protocol.AppendError(nil, &protocol.Error{Code: protocol.CodeBadToken, Message: "the token is invalid, revoked or expired; log in again"}))
	c.Close(CloseBadToken)
}

// jwtVerified goes on with a login whose JWT a verifier checked.
func (ch *Chat) jwtVerified(wl *waitingLogin, a accounts.Account, err error) {
	if wl.gone || wl.conn.Closing() || ch.waitingBy[wl.conn.ID()] != wl {
		return
	}
	if err == nil && ch.cl.link != nil && ch.users[a.UserID] == nil {
		ch.jwtNameFromCluster(wl, a) // its display name, unique cluster-wide (accountcluster.go)
		return
	}
	delete(ch.waitingBy, wl.conn.ID())
	switch {
	case errors.Is(err, accounts.ErrBadToken):
		ch.refuseToken(wl.conn)
		return
	case err != nil:
		ch.log.Warn("JWT login failed", "err", err)
		wl.conn.Close(CloseNoUserID)
		return
	}
	ch.loginAccount(wl.conn, wl.req, a)
	for _, m := range wl.held {
		if wl.conn.Closing() {
			break
		}
		ch.OnMessage(wl.conn, m)
	}
}

// loginAccount logs in as an account: its userId, its registered name (a JWT's name
// de-duplicated like a nickname), "account":true in Authorized. An account already
// online gets one more device (devices.go).
func (ch *Chat) loginAccount(c *engine.Conn, r *engine.Request, a accounts.Account) {
	u := newUser(c, a.UserID, r, &ch.cfg)
	u.account = true
	if first := ch.users[a.UserID]; first != nil {
		if first = ch.makeRoomForDevice(first); first != nil {
			ch.addDevice(first, u, r) // the same user on one more device
			return
		}
	}
	u.info.Name = ch.accountName(a)
	ch.enterAccount(u, r)
}

// enterAccount is the rest of an account's first login here once u has its name.
func (ch *Chat) enterAccount(u *user, r *engine.Request) {
	ch.register(u)
	ch.authorizeAccount(u)
	ch.joined(ch.defaultRoom, u)
	ch.restoreRooms(u, parseSince(r.Query.Get("since")))
	ch.seeRoom(u, ch.defaultRoom.id)
	ch.rejoinAccountRooms(u)
	ch.log.Debug("account connected", "userId", u.info.ID, "userName", u.info.Name, "remote", r.RemoteAddr)
}

// accountName is the name an account logs in with: a registered name is its own (reserved for
// it); a JWT's display name, or the default one, is made unique.
func (ch *Chat) accountName(a accounts.Account) string {
	if !a.JWT {
		folded, shaped := nameKeys(a.Name)
		if id, ok := ch.names[folded]; !ok || id == a.UserID {
			if id, ok := ch.names[shaped]; !ok || id == a.UserID {
				return a.Name
			}
		}
		return ch.uniqueName(a.Name) // never happens unless a name was held before it was registered
	}
	name := protocol.FilterName(a.Name, ch.cfg.MaxNameLength)
	if name == "" {
		name = ch.cfg.DefaultName
	}
	return ch.uniqueName(name)
}

// authorizeAccount sends Authorized with "account":true; an opt-in client gets no
// resume token (its account token is how it comes back).
func (ch *Chat) authorizeAccount(u *user) {
	self := append(slices.Clip(u.encodedOnce()), `,"account":true`...)
	if ch.isModerator(u) {
		self = append(self, `,"moderator":true`...) // its client may offer Delete on every line
	}
	if u.optIn {
		page := ch.memberPage(ch.defaultRoom, 0, ch.pageSize(u))
		u.conn.SendText(protocol.AppendAuthorizedPage(nil, self, page, "", false))
		return
	}
	ch.payload = protocol.AppendAuthorizedRoster(ch.payload[:0], self, ch.defaultRoster())
	u.conn.SendText(ch.payload)
}

// Revoked implements accounts.Registrar: each connection of userID that logged in with
// the revoked token (all: every connection) is closed with CloseBadToken.
func (ch *Chat) Revoked(userID uint64, token [32]byte, all bool) {
	ch.postCommit(func() { // a cluster's mirror may revoke before the worker starts
		first := ch.users[userID]
		if first == nil || !first.account {
			return
		}
		for _, u := range ch.devicesOf(first) {
			if tok, ok := ch.acct.loginToken[u.conn.ID()]; all || ok && tok == token {
				delete(ch.acct.loginToken, u.conn.ID())
				u.conn.SendText(protocol.AppendError(nil, &protocol.Error{Code: protocol.CodeBadToken, Message: "this session was logged out"}))
				u.conn.Close(CloseBadToken)
			}
		}
	})
}
