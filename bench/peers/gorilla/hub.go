package main

import (
	"time"
)

const pingInterval = 5 * time.Second
const maxMissedPings = 3

// chat is a chat line from a client, handed to the hub.
type chat struct {
	from *Client
	in   inMessage
}

// Hub owns the set of clients; only its run goroutine touches them (the
// gorilla chat example's design).
type Hub struct {
	clients    map[*Client]bool
	byID       map[int64]*Client
	order      []*Client // join order, for the Authorized list
	register   chan *Client
	unregister chan *Client
	chat       chan chat
	pong       chan *Client
	nextID     int64
}

func newHub() *Hub {
	return &Hub{
		clients:    make(map[*Client]bool),
		byID:       make(map[int64]*Client),
		register:   make(chan *Client),
		unregister: make(chan *Client),
		chat:       make(chan chat, 256),
		pong:       make(chan *Client, 256),
	}
}

func (h *Hub) run() {
	ticker := time.NewTicker(pingInterval)
	defer ticker.Stop()
	for {
		select {
		case c := <-h.register:
			h.join(c)
		case c := <-h.unregister:
			h.leave(c, "Disconnected")
		case m := <-h.chat:
			h.message(m)
		case c := <-h.pong:
			c.missed = 0
		case <-ticker.C:
			h.ping()
		}
	}
}

func (h *Hub) join(c *Client) {
	h.nextID++
	c.user.UserID = h.nextID
	h.clients[c] = true
	h.byID[c.user.UserID] = c
	h.order = append(h.order, c)
	users := make([]user, len(h.order))
	for i, o := range h.order {
		users[i] = o.user
	}
	h.send(c, encode(outMessage{Action: "Authorized", user: c.user, Users: users}))
	h.broadcast(encode(outMessage{Action: "Connected", user: c.user}))
}

// leave announces a client's end: action is Disconnected or ConnectionLost.
func (h *Hub) leave(c *Client, action string) {
	if !h.clients[c] {
		return
	}
	h.drop(c)
	h.broadcast(encode(outMessage{Action: action, user: c.user}))
}

// drop forgets a client and closes its send channel, which ends its writePump.
func (h *Hub) drop(c *Client) {
	delete(h.clients, c)
	delete(h.byID, c.user.UserID)
	for i, o := range h.order {
		if o == c {
			h.order = append(h.order[:i], h.order[i+1:]...)
			break
		}
	}
	close(c.send)
}

func (h *Hub) message(m chat) {
	if !h.clients[m.from] {
		return
	}
	text := processText(m.in.Text)
	to := m.in.ToUserID
	out := outMessage{Action: "PublicMessage", user: m.from.user, Text: &text, ToUserID: &to}
	if to == 0 {
		h.broadcast(encode(out))
		return
	}
	out.Action = "PrivateMessage"
	rcpt, ok := h.byID[to]
	if !ok {
		offline := offlineText
		out.Text = &offline
		h.send(m.from, encode(out))
		return
	}
	b := encode(out)
	h.send(rcpt, b)
	if rcpt != m.from {
		h.send(m.from, b)
	}
}

// ping sends Ping to everyone and drops those that missed too many.
func (h *Hub) ping() {
	for c := range h.clients {
		if c.missed >= maxMissedPings {
			h.leave(c, "ConnectionLost")
			continue
		}
		c.missed++
		h.send(c, pingFrame)
	}
}

func (h *Hub) broadcast(b []byte) {
	for c := range h.clients {
		h.send(c, b)
	}
}

// send never blocks the hub: a client whose buffer is full is dropped, as in
// the gorilla example.
func (h *Hub) send(c *Client, b []byte) {
	if !h.clients[c] {
		return
	}
	select {
	case c.send <- b:
	default:
		h.drop(c)
	}
}
