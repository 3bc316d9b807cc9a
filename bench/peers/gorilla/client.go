package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// The gorilla chat example's timing, plus the chat's own Ping/Pong in the hub.
const (
	writeWait      = 10 * time.Second
	pongWait       = 60 * time.Second
	pingPeriod     = (pongWait * 9) / 10
	maxMessageSize = 65536
	sendBuffer     = 256
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	// The Qt client sends Origin: SimpleChatClient; the benchmark none.
	CheckOrigin: func(r *http.Request) bool { return true },
}

// Client is one connection with its two goroutines.
type Client struct {
	hub    *Hub
	conn   *websocket.Conn
	send   chan []byte
	user   user
	missed int // unanswered Pings; hub goroutine only
}

// readPump turns frames into hub events; it ends the client on any read error.
func (c *Client) readPump() {
	defer func() {
		c.hub.unregister <- c
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessageSize)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { c.conn.SetReadDeadline(time.Now().Add(pongWait)); return nil })
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
		var in inMessage
		if err := json.Unmarshal(data, &in); err != nil {
			continue // the subset: bad input is ignored
		}
		switch in.Action {
		case "Pong":
			c.hub.pong <- c
		case "", "Message":
			if in.Text != "" {
				c.hub.chat <- chat{from: c, in: in}
			}
		}
	}
}

// writePump writes one frame per message (the Qt client wants one JSON object
// per frame, so the example's newline-joined batching is left out).
func (c *Client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case message, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, message); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

func serveWs(hub *Hub, w http.ResponseWriter, r *http.Request, log *slog.Logger) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Debug("upgrade", "err", err)
		return
	}
	q := r.URL.Query()
	c := &Client{hub: hub, conn: conn, send: make(chan []byte, sendBuffer),
		user: userFromQuery(0, q.Get("userName"), q.Get("userColor"), q.Get("gender"))}
	go c.writePump()
	hub.register <- c
	go c.readPump()
}
