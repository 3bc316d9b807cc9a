package chat

import (
	"fmt"
	"strings"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// user is one logged-in connection.
type user struct {
	conn   *engine.Conn
	info   protocol.User
	fields []byte // info encoded once, spliced into every message about this user
	missed int    // Pings sent since the last Pong
	limit  bucket

	// What the client opted in to with query parameters (none: the seed's client).
	compact bool // presence=compact: paged member lists, batched Presence, no Connected/Disconnected
	ack     bool // ack=1: acknowledges messages with Ack; unacknowledged ones are resent
	optIn   bool // any of presence, ack, resume: gets a resume token and a private inbox stream

	rooms     map[string]*membership // the default room, joined rooms, and (opt-in) its inbox
	joined    int                    // public rooms besides the default one
	presence  []byte                 // compact presence entries gathered in this tick
	ackListed bool                   // in Chat.ackUsers
}

// newUser reads the handshake's query parameters with the seed's defaults and chatd's
// fixes: the name filtered and capped, the color validated, the gender 0..2.
func newUser(c *engine.Conn, id uint64, r *engine.Request, cfg *engine.Config) *user {
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
		rooms:   make(map[string]*membership),
	}
	u.optIn = u.compact || u.ack || q.Has("resume")
	return u
}

// nameKey is how nicknames compare for uniqueness: "Bob" and "bob" are one name, so
// nobody can pass for somebody else by case.
func nameKey(name string) string { return strings.ToLower(name) }

// uniqueName returns name, or "name (N)" with the first free N from 2, as the seed does.
// A name is taken while its user is online or its identity may still be resumed.
func (ch *Chat) uniqueName(name string) string {
	if _, taken := ch.names[nameKey(name)]; !taken {
		return name
	}
	for n := 2; ; n++ {
		candidate := fmt.Sprintf("%s (%d)", name, n)
		if _, taken := ch.names[nameKey(candidate)]; !taken {
			return candidate
		}
	}
}
