package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// startPeer runs the peer on a random loopback port and returns its ws URL.
func startPeer(t *testing.T) string {
	t.Helper()
	ln, err := listenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(ln, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String() + "/"
}

type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dial(t *testing.T, base, name string) *wsClient {
	t.Helper()
	q := url.Values{"userName": {name}, "userColor": {"#112233"}, "gender": {"2"}}
	conn, _, err := websocket.DefaultDialer.Dial(base+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

type frame struct {
	Action    string  `json:"action"`
	UserID    int64   `json:"userId"`
	UserName  string  `json:"userName"`
	Gender    int     `json:"gender"`
	UserColor string  `json:"userColor"`
	Users     []frame `json:"users"`
	Text      string  `json:"text"`
	ToUserID  int64   `json:"toUserId"`
}

// next returns the next frame with the given action, skipping others, with a
// deadline so a missing frame fails instead of hanging.
func (c *wsClient) next(action string) frame {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for range 1000 {
		c.conn.SetReadDeadline(deadline)
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", action, err)
		}
		if typ != websocket.TextMessage {
			c.t.Fatalf("frame type %d, want text", typ)
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.t.Fatalf("frame %q: %v", data, err)
		}
		if f.Action == action {
			return f
		}
	}
	c.t.Fatalf("no %s in 1000 frames", action)
	return frame{}
}

func (c *wsClient) write(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

func TestProtocolSubset(t *testing.T) {
	base := startPeer(t)

	alice := dial(t, base, "Alice")
	a := alice.next("Authorized")
	if a.UserName != "Alice" || a.Gender != 2 || a.UserColor != "#112233" || a.UserID < 1 {
		t.Fatalf("Authorized = %+v", a)
	}
	if len(a.Users) != 1 || a.Users[0].UserID != a.UserID {
		t.Fatalf("Authorized users = %+v, want only Alice", a.Users)
	}
	if c := alice.next("Connected"); c.UserID != a.UserID {
		t.Fatalf("own Connected = %+v", c)
	}

	bob := dial(t, base, "Bob")
	b := bob.next("Authorized")
	if len(b.Users) != 2 || b.Users[0].UserName != "Alice" || b.Users[1].UserName != "Bob" {
		t.Fatalf("Bob's list = %+v, want Alice then Bob", b.Users)
	}
	if c := alice.next("Connected"); c.UserID != b.UserID || c.UserName != "Bob" {
		t.Fatalf("Alice saw Connected %+v", c)
	}

	alice.write(map[string]any{"text": "hi <{Bob}>", "toUserId": 0})
	for _, c := range []*wsClient{alice, bob} {
		m := c.next("PublicMessage")
		if m.UserID != a.UserID || m.Text != "hi &lt;<b>Bob</b>&gt;" || m.ToUserID != 0 {
			t.Fatalf("PublicMessage = %+v", m)
		}
	}

	bob.write(map[string]any{"text": "psst", "toUserId": a.UserID})
	for _, c := range []*wsClient{alice, bob} {
		m := c.next("PrivateMessage")
		if m.UserID != b.UserID || m.ToUserID != a.UserID || m.Text != "psst" {
			t.Fatalf("PrivateMessage = %+v", m)
		}
	}

	bob.write(map[string]any{"text": "anyone?", "toUserId": 9999})
	if m := bob.next("PrivateMessage"); m.Text != offlineText {
		t.Fatalf("offline answer = %+v", m)
	}

	// Ping comes within the 5 s interval; a Pong keeps the client.
	bob.next("Ping")
	bob.write(map[string]any{"action": "Pong"})

	bob.conn.Close()
	if d := alice.next("Disconnected"); d.UserID != b.UserID {
		t.Fatalf("Disconnected = %+v", d)
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "localhost:0"} {
		if ln, err := listenLoopback(addr); err == nil {
			ln.Close()
			t.Errorf("listenLoopback(%q) accepted a non-loopback address", addr)
		}
	}
	ln, err := listenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Fatalf("listening on %v", ip)
	}
}
