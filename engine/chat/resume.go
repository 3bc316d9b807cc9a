package chat

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/chatd/chatd/engine/store"
)

// identity is a resumable user: its name and userId come back to whoever presents its
// resume token while it is online (a takeover) or within --resume-grace of leaving.
// Identities are persisted as store sessions, so a restart keeps them.
type identity struct {
	userID uint64
	name   string
	color  string
	gender int
	secret [secretBytes]byte // random, stored with the identity: its token proves it
	user   *user             // online as this user, or nil
	leftAt time.Time         // when it went offline
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

// token is id's resume token: its userId and an HMAC, under the key kept in
// --data-dir, of the userId and the identity's own secret. It is checked against the
// stored identity, so it resumes that identity and no other, even one a crash gave
// the same userId before ids were reserved (v1 tokens signed the userId alone).
func (ch *Chat) token(id *identity) string {
	return base64.RawURLEncoding.EncodeToString(ch.tokenBytes(id))
}

func (ch *Chat) tokenBytes(id *identity) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+sha256.Size), id.userID)
	mac := hmac.New(sha256.New, ch.key)
	mac.Write([]byte("chatd-resume-v2"))
	mac.Write(b)
	mac.Write(id.secret[:])
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
	id := ch.ids[binary.BigEndian.Uint64(b)]
	if id == nil || !hmac.Equal(ch.tokenBytes(id), b) {
		return nil
	}
	if id.user == nil && ch.now().Sub(id.leftAt) > ch.cfg.ResumeGrace {
		return nil
	}
	return id
}

// saveSession persists id (online, or offline since now) through the writer.
func (ch *Chat) saveSession(id *identity, online bool) {
	if !online {
		ch.departed = append(ch.departed, departure{id.userID, id.leftAt})
	}
	if ch.writer == nil {
		return
	}
	ch.writer.AddSession(store.Session{
		UserID: id.userID, Name: id.name, Color: id.color, Gender: id.gender,
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
		if id == nil || id.user != nil || !id.leftAt.Equal(d.at) {
			continue // gone already, back online, or left again later (a newer entry)
		}
		if now.Sub(d.at) <= ch.cfg.ResumeGrace {
			break
		}
		delete(ch.ids, d.userID)
		ch.freeName(id.name, d.userID)
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
