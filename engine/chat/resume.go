package chat

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// identity is a resumable user while it is offline: its name and userId come back to
// whoever presents its resume token within --resume-grace of leaving. Online, the
// user is the identity (user.resumable, user.secret) and a token takes it over from
// its connection. Identities are persisted as store sessions, so a restart keeps them.
//
// Only offline identities are kept here: an online one used to be a 96-byte copy of
// its user's fields plus its entry in ids, 130 bytes of every opt-in connection.
type identity struct {
	secret [secretBytes]byte // random, stored with the identity: its token proves it
	info   protocol.User     // who it was
	leftAt time.Time         // when it went offline
}

// offlineIdentity is a stored session's identity, offline since leftAt.
func offlineIdentity(s store.Session, leftAt time.Time) *identity {
	return &identity{
		secret: [secretBytes]byte(s.Secret),
		info:   protocol.User{ID: s.UserID, Name: s.Name, Color: s.Color, Gender: s.Gender},
		leftAt: leftAt,
	}
}

// departure is one entry of the grace sweep's queue, oldest first.
type departure struct {
	userID uint64
	at     time.Time
}

const (
	tokenMACBytes = 16
	secretBytes   = 16
)

// newSecret is a new identity's resume secret.
func newSecret() (b [secretBytes]byte) {
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return b
}

// token is the resume token of userID's identity with secret: its userId and an
// HMAC, under the key kept in --data-dir, of the userId and the identity's own secret.
// It is checked against the stored identity, so it resumes that identity and no
// other, even one a crash gave the same userId before ids were reserved (v1 tokens
// signed the userId alone).
func (ch *Chat) token(userID uint64, secret [secretBytes]byte) string {
	return base64.RawURLEncoding.EncodeToString(ch.tokenBytes(userID, secret))
}

func (ch *Chat) tokenBytes(userID uint64, secret [secretBytes]byte) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+sha256.Size), userID)
	mac := hmac.New(sha256.New, ch.key)
	mac.Write([]byte("chatd-resume-v2"))
	mac.Write(b)
	mac.Write(secret[:])
	return mac.Sum(b)[:8+tokenMACBytes]
}

// resumeIdentity returns who a token names, if the token is genuine for it: the
// user online as that identity, or the identity offline within its grace; neither,
// for any other token. An identity whose session never committed before a crash is
// unknown after the restart, so its token is refused.
func (ch *Chat) resumeIdentity(tok string) (online *user, off *identity) {
	userID, b, ok := parseToken(tok)
	if !ok {
		return nil, nil
	}
	if u := ch.users[userID]; u != nil && u.resumable {
		if hmac.Equal(ch.tokenBytes(userID, u.secret), b) {
			return u, nil
		}
		return nil, nil
	}
	id := ch.ids[userID]
	if id == nil || !hmac.Equal(ch.tokenBytes(userID, id.secret), b) || ch.now().Sub(id.leftAt) > ch.cfg.ResumeGrace {
		return nil, nil
	}
	return nil, id
}

// goOffline keeps u's identity for the grace from now, and persists it.
func (ch *Chat) goOffline(u *user) {
	id := &identity{secret: u.secret, info: u.info, leftAt: ch.now()}
	ch.ids[u.info.ID] = id
	ch.saveOffline(id)
}

// saveOnline persists u's identity as online.
func (ch *Chat) saveOnline(u *user) { ch.saveSession(u.info, u.secret, true) }

// saveOffline persists id as offline since its leftAt and queues it for the sweep.
func (ch *Chat) saveOffline(id *identity) {
	ch.departed = append(ch.departed, departure{id.info.ID, id.leftAt})
	ch.saveSession(id.info, id.secret, false)
}

func (ch *Chat) saveSession(info protocol.User, secret [secretBytes]byte, online bool) {
	if ch.writer == nil {
		return
	}
	ch.writer.AddSession(store.Session{
		UserID: info.ID, Name: info.Name, Color: info.Color, Gender: info.Gender,
		Online: online, LastSeen: ch.now().UnixMilli(), Secret: secret[:],
	})
}

// sweep forgets identities whose grace has passed (freeing their names), replay
// pages past their time and clientMsgIds older than the dedup window.
func (ch *Chat) sweep() {
	now := ch.now()
	ch.replays.sweep(now)
	n := 0
	for ; n < len(ch.departed); n++ {
		d := ch.departed[n]
		id := ch.ids[d.userID]
		if id == nil || !id.leftAt.Equal(d.at) {
			continue // gone already, back online, or left again later (a newer entry)
		}
		if now.Sub(d.at) <= ch.cfg.ResumeGrace {
			break
		}
		delete(ch.ids, d.userID)
		ch.freeName(id.info.Name, d.userID)
		if ch.cl.link != nil {
			ch.cl.link.ForgetSession(d.userID)
		}
		ch.dropDialogsOf(d.userID)
	}
	if n > 0 {
		ch.departed = append(ch.departed[:0], ch.departed[n:]...)
	}
	ch.clientMsgs.sweep(now.Add(-ch.dedupWindow()))
	ch.expireWaiting(now)
	if len(ch.waiting) > 0 {
		ch.reserveUserIDs() // a reservation that failed is tried again
	}
}
