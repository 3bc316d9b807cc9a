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

// identity is a resumable user: its name and userId come back to whoever presents its
// resume token while it is online (a takeover) or within --resume-grace of leaving.
// Identities are persisted as store sessions, so a restart keeps them.
//
// An online identity is 32 bytes: its user holds who it is (one of these per opt-in
// connection; the 96 bytes it was, name, color, gender and leftAt copied from the user,
// were 64 bytes a connection of the 1.5 KiB goal). Offline, away keeps them.
type identity struct {
	secret [secretBytes]byte // random, stored with the identity: its token proves it
	user   *user             // online as this user, or nil
	away   *away             // offline: who it was and since when; nil while online
}

// away is what an offline identity keeps of the user it was.
type away struct {
	info   protocol.User
	leftAt time.Time
}

// offlineIdentity is an identity that is not online, as it was stored.
func offlineIdentity(s store.Session, leftAt time.Time) *identity {
	return &identity{
		secret: [secretBytes]byte(s.Secret),
		away:   &away{info: protocol.User{ID: s.UserID, Name: s.Name, Color: s.Color, Gender: s.Gender}, leftAt: leftAt},
	}
}

// info is who the identity is: its user's, while online.
func (id *identity) info() protocol.User {
	if id.user != nil {
		return id.user.info
	}
	return id.away.info
}

// leftAt is when the identity went offline (zero while online).
func (id *identity) leftAt() time.Time {
	if id.away == nil {
		return time.Time{}
	}
	return id.away.leftAt
}

// goAway takes the identity offline at now, keeping what its user was.
func (id *identity) goAway(now time.Time) {
	id.away = &away{info: id.user.info, leftAt: now}
	id.user = nil
}

// comeBack puts the identity online as u.
func (id *identity) comeBack(u *user) { id.user, id.away = u, nil }

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

// token is id's resume token: its userId and an HMAC, under the key kept in
// --data-dir, of the userId and the identity's own secret. It is checked against the
// stored identity, so it resumes that identity and no other, even one a crash gave
// the same userId before ids were reserved (v1 tokens signed the userId alone).
func (ch *Chat) token(userID uint64, id *identity) string {
	return base64.RawURLEncoding.EncodeToString(ch.tokenBytes(userID, id.secret))
}

func (ch *Chat) tokenBytes(userID uint64, secret [secretBytes]byte) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+sha256.Size), userID)
	mac := hmac.New(sha256.New, ch.key)
	mac.Write([]byte("chatd-resume-v2"))
	mac.Write(b)
	mac.Write(secret[:])
	return mac.Sum(b)[:8+tokenMACBytes]
}

// resumeIdentity returns the identity a token names, if the token is genuine for it
// and the identity is online or within its grace. An identity whose session never
// committed before a crash is unknown after the restart, so its token is refused.
func (ch *Chat) resumeIdentity(tok string) *identity {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != 8+tokenMACBytes {
		return nil
	}
	userID := binary.BigEndian.Uint64(b)
	id := ch.ids[userID]
	if id == nil || !hmac.Equal(ch.tokenBytes(userID, id.secret), b) {
		return nil
	}
	if id.user == nil && ch.now().Sub(id.leftAt()) > ch.cfg.ResumeGrace {
		return nil
	}
	return id
}

// saveSession persists id (online, or offline since now) through the writer.
func (ch *Chat) saveSession(id *identity, online bool) {
	info := id.info()
	if !online {
		ch.departed = append(ch.departed, departure{info.ID, id.leftAt()})
	}
	if ch.writer == nil {
		return
	}
	ch.writer.AddSession(store.Session{
		UserID: info.ID, Name: info.Name, Color: info.Color, Gender: info.Gender,
		Online: online, LastSeen: ch.now().UnixMilli(), Secret: id.secret[:],
	})
}

// sweep forgets identities whose grace has passed (freeing their names) and
// clientMsgIds older than the dedup window.
func (ch *Chat) sweep() {
	now := ch.now()
	n := 0
	for ; n < len(ch.departed); n++ {
		d := ch.departed[n]
		id := ch.ids[d.userID]
		if id == nil || id.user != nil || !id.leftAt().Equal(d.at) {
			continue // gone already, back online, or left again later (a newer entry)
		}
		if now.Sub(d.at) <= ch.cfg.ResumeGrace {
			break
		}
		delete(ch.ids, d.userID)
		ch.freeName(id.away.info.Name, d.userID)
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
