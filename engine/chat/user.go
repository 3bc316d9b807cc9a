package chat

import (
	"context"
	"strings"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// user is one logged-in connection.
type user struct {
	conn *engine.Conn
	info protocol.User
	// fields is info encoded on first use (encoded), spliced into every message about
	// this user. Behind a pointer: most users of a big room are never encoded, and a
	// nil slice in the user cost 16 bytes more than a nil pointer (size_test.go).
	fields *[]byte
	// Requests are charged by what they cost the owner (limit.go): every frame to
	// cheap, then chat lines and room changes to lines, reads of many rows to costly.
	cheap, lines, costly bucket

	rooms memberships         // the default room and joined rooms
	watch map[uint64]struct{} // users asked about with Users userIds: their changes come even in big rooms

	// An opt-in user is a resumable identity (resume.go): its token is made with
	// secret, and when the user leaves, the identity stays offline for the grace.
	secret [secretBytes]byte

	// Store reads (reads.go): cancelled when the user leaves; one History at a time.
	reads           *userReads // made on the first read
	historyInFlight bool

	// What the client opted in to with query parameters (none: the seed's client).
	compact   bool // presence=compact: paged member lists, batched Presence, no Connected/Disconnected
	ack       bool // ack=1: acknowledges messages with Ack; unacknowledged ones are resent
	optIn     bool // any of presence, ack, resume: gets a resume token and a private inbox stream
	ackListed bool // in Chat.ackUsers
	account   bool // logged in as an account (account.go)
	resumable bool // has a resumable identity (secret)

	missed     int32 // Pings sent since the last Pong
	joined     int32 // public rooms besides the default one
	presenceAt int32 // 1 + its index in this tick's presenceOut; 0: no Presence gathered
	// (int32s beside the bools: the user is 192 bytes, a size class of its own; two ints
	// among the pointers made it 8 bytes more, which the allocator rounds to the next.)
}

// newUser reads the handshake's query parameters with the seed's defaults and chatd's
// fixes: the name filtered and capped, the color validated, the gender 0..2.
func newUser(c *engine.Conn, id uint64, r *engine.Request, cfg *Config) *user {
	q := r.Query
	name := protocol.FilterName(q.Get("userName"), cfg.MaxNameLength)
	if name == "" {
		name = cfg.DefaultName
	}
	color := strings.TrimSpace(q.Get("userColor"))
	if !protocol.ValidColor(color) {
		color = cfg.DefaultColor
	}
	u := &user{
		conn:    c,
		info:    protocol.User{ID: id, Name: name, Gender: protocol.ParseGender(q.Get("gender")), Color: color},
		compact: q.Get("presence") == "compact",
		ack:     q.Get("ack") == "1",
	}
	u.optIn = u.compact || u.ack || q.Has("resume")
	return u
}

// encoded is u's fields as every message about u carries them, encoded on first use
// and kept. Most users of a big room are never shown to anyone: 15,000 idle users
// kept ~125 bytes each of fields nobody read.
func (u *user) encoded() []byte {
	if u.fields == nil {
		f := protocol.AppendUserFields(nil, u.info)
		u.fields = &f
	}
	return *u.fields
}

// encodedOnce is encoded for a one-off use (a presence tick's batch): kept only if it
// was anyway.
func (u *user) encodedOnce() []byte {
	if u.fields != nil {
		return *u.fields
	}
	return protocol.AppendUserFields(nil, u.info)
}

// userReads cancels a user's store reads when it leaves.
type userReads struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// online reports whether u is still logged in on its connection: a read that comes
// back after the user (or this device of an account) left finds it false.
func (u *user) online() bool { return userOf(u.conn) == u }

// userOf is the logged-in user on c, or nil.
func userOf(c *engine.Conn) *user {
	u, _ := c.Value().(*user)
	return u
}
