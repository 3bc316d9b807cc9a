package chat

import (
	"crypto/hmac"
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
	user   *user     // online as this user, or nil
	leftAt time.Time // when it went offline
}

// departure is one entry of the grace sweep's queue, oldest first.
type departure struct {
	userID uint64
	at     time.Time
}

const tokenMACBytes = 16

// token is the resume token of userID: the id and an HMAC of it under the key kept in
// --data-dir, so it can be checked after a restart without storing tokens.
func (ch *Chat) token(userID uint64) string {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+sha256.Size), userID)
	mac := hmac.New(sha256.New, ch.key)
	mac.Write([]byte("chatd-resume-v1"))
	mac.Write(b)
	b = mac.Sum(b)[:8+tokenMACBytes]
	return base64.RawURLEncoding.EncodeToString(b)
}

// resumeIdentity returns the identity a token names, if the token is genuine and the
// identity is online or within its grace.
func (ch *Chat) resumeIdentity(tok string) *identity {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != 8+tokenMACBytes {
		return nil
	}
	userID := binary.BigEndian.Uint64(b)
	if !hmac.Equal([]byte(ch.token(userID)), []byte(tok)) {
		return nil
	}
	id := ch.ids[userID]
	if id == nil || id.user == nil && ch.now().Sub(id.leftAt) > ch.cfg.ResumeGrace {
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
		Online: online, LastSeen: ch.now().UnixMilli(),
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
	}
	if n > 0 {
		ch.departed = append(ch.departed[:0], ch.departed[n:]...)
	}
	ch.clientMsgs.sweep(now.Add(-ch.dedupWindow()))
}
