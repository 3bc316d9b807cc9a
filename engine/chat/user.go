package chat

import (
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
}

// newUser reads the handshake's query parameters with the seed's defaults and chatd's
// fixes: the name filtered and capped, the color validated, the gender 0..2.
func newUser(c *engine.Conn, r *engine.Request, cfg *engine.Config) *user {
	q := r.Query
	name := protocol.FilterName(q.Get("userName"), cfg.MaxNameLength)
	if name == "" {
		name = cfg.DefaultName
	}
	color := strings.TrimSpace(q.Get("userColor"))
	if !protocol.ValidColor(color) {
		color = cfg.DefaultColor
	}
	return &user{
		conn: c,
		info: protocol.User{ID: c.ID(), Name: name, Gender: protocol.ParseGender(q.Get("gender")), Color: color},
	}
}

// nameKey is how nicknames compare for uniqueness: "Bob" and "bob" are one name, so
// nobody can pass for somebody else by case.
func nameKey(name string) string { return strings.ToLower(name) }
