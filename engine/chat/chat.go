package chat

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// Chat is the seed's chat as an engine.Handler.
type Chat struct {
	cfg engine.Config
	log *slog.Logger
	now func() time.Time

	users map[uint64]*user // by userId, which is the connection id
	order []*user          // join order, for Authorized
	names map[string]bool  // nameKey of every online nickname

	payload []byte // scratch for encoding a message
	frame   []byte // scratch for framing it

	counters counters
}

type counters struct {
	logins, public, private, undelivered, errors, rateLimited, lost uint64
}

// New makes a Chat with cfg (its zero fields get defaults).
func New(cfg engine.Config) *Chat {
	cfg = cfg.WithDefaults()
	return &Chat{
		cfg:   cfg,
		log:   cfg.Logger,
		now:   time.Now,
		users: make(map[uint64]*user),
		names: make(map[string]bool),
	}
}

// OnWorkerStart starts the heartbeat, as ChatWorker.php does.
func (ch *Chat) OnWorkerStart(w *engine.Worker) {
	w.AddTimer(ch.cfg.PingInterval, ch.heartbeat)
}

// OnWorkerStop does nothing: the worker closes every connection with 1001 next.
func (ch *Chat) OnWorkerStop(*engine.Worker) {}

// OnConnect does nothing: a user exists once the handshake's query has been read.
func (ch *Chat) OnConnect(*engine.Conn) {}

// OnWebSocketConnect logs the user in: a unique nickname, Authorized to the newcomer
// with everyone online (itself included, in join order), Connected to everyone
// (the newcomer included: the Qt client adds itself to its list from it).
func (ch *Chat) OnWebSocketConnect(c *engine.Conn, r *engine.Request) {
	u := newUser(c, r, &ch.cfg)
	u.info.Name = ch.uniqueName(u.info.Name)
	u.fields = protocol.AppendUserFields(nil, u.info)
	ch.names[nameKey(u.info.Name)] = true
	ch.users[u.info.ID] = u
	ch.order = append(ch.order, u)
	ch.counters.logins++

	list := make([][]byte, len(ch.order))
	for i, o := range ch.order {
		list[i] = o.fields
	}
	c.SendText(protocol.AppendAuthorized(nil, u.fields, list))
	ch.broadcast(protocol.AppendUserEvent(ch.payload[:0], protocol.ActionConnected, u.fields))
	ch.log.Debug("user connected", "userId", u.info.ID, "userName", u.info.Name, "remote", c.RemoteAddr())
}

// uniqueName returns name, or "name (N)" with the first free N from 2, as the seed does.
func (ch *Chat) uniqueName(name string) string {
	if !ch.names[nameKey(name)] {
		return name
	}
	for n := 2; ; n++ {
		candidate := fmt.Sprintf("%s (%d)", name, n)
		if !ch.names[nameKey(candidate)] {
			return candidate
		}
	}
}

// OnClose removes the user and tells everyone left. A user dropped by the heartbeat is
// already gone (ConnectionLost was sent), so it never gets Disconnected too.
func (ch *Chat) OnClose(c *engine.Conn, reason engine.CloseReason) {
	u := ch.remove(c.ID())
	if u == nil {
		return
	}
	ch.broadcast(protocol.AppendUserEvent(ch.payload[:0], protocol.ActionDisconnected, u.fields))
	ch.log.Debug("user disconnected", "userId", u.info.ID, "reason", reason.String())
}

func (ch *Chat) remove(id uint64) *user {
	u := ch.users[id]
	if u == nil {
		return nil
	}
	delete(ch.users, id)
	delete(ch.names, nameKey(u.info.Name))
	if i := slices.Index(ch.order, u); i >= 0 {
		ch.order = slices.Delete(ch.order, i, i+1)
	}
	return u
}

// heartbeat is the seed's 5-second timer: a user with PingMaxMissed unanswered Pings
// is dropped and everyone else gets ConnectionLost; every other user gets a Ping.
func (ch *Chat) heartbeat() {
	ping := engine.AppendFrame(ch.frame[:0], engine.OpText, protocol.PingJSON)
	var lost []*user
	for _, u := range ch.order {
		if u.missed >= ch.cfg.PingMaxMissed {
			lost = append(lost, u)
			continue
		}
		u.conn.SendFrame(ping)
		u.missed++
	}
	ch.frame = ping
	for _, u := range lost {
		ch.remove(u.info.ID)
		u.conn.Close(engine.ClosePingTimeout)
		ch.counters.lost++
		ch.broadcast(protocol.AppendUserEvent(ch.payload[:0], protocol.ActionConnectionLost, u.fields))
		ch.log.Info("connection lost", "userId", u.info.ID, "userName", u.info.Name, "missedPings", u.missed)
	}
}

// broadcast frames payload once and sends the same bytes to every user.
func (ch *Chat) broadcast(payload []byte) {
	ch.payload = payload
	ch.frame = engine.AppendFrame(ch.frame[:0], engine.OpText, payload)
	for _, u := range ch.order {
		u.conn.SendFrame(ch.frame)
	}
}

// Stats reports the chat's figures for /status.
func (ch *Chat) Stats() map[string]any {
	return map[string]any{
		"users":           len(ch.order),
		"logins":          ch.counters.logins,
		"publicMessages":  ch.counters.public,
		"privateMessages": ch.counters.private,
		"undelivered":     ch.counters.undelivered,
		"errorsSent":      ch.counters.errors,
		"rateLimited":     ch.counters.rateLimited,
		"connectionsLost": ch.counters.lost,
	}
}
