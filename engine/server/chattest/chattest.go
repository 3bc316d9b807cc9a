// Package chattest starts a real chatd on 127.0.0.1 and connects real WebSocket
// clients to it, for tests in any package.
package chattest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/server"
	"github.com/gorilla/websocket"
)

// Server is a running chatd.
type Server struct {
	*server.Server
	Addr string // host:port
	// Config is what the server runs with: chattest's test settings and the caller's
	// changes, on top of server.DefaultConfig.
	Config server.Config
}

// Option changes the configuration a test server starts with.
type Option func(*server.Config)

// Config is the configuration Start uses before the options: the defaults, on
// 127.0.0.1 at a random port, logging nowhere, a short shutdown grace, and the
// history in a fresh t.TempDir().
func Config(t testing.TB) server.Config {
	cfg := server.DefaultConfig()
	cfg.Engine.Listen = "127.0.0.1:0"
	cfg.Engine.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Engine.ShutdownGrace = 200 * time.Millisecond
	cfg.DataDir = t.TempDir()
	return cfg
}

// Start runs chatd on 127.0.0.1 with Config(t) changed by opts, and stops it when the
// test ends. Set DataDir (and Listen) to restart on the same history (and port).
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := Config(t)
	for _, o := range opts {
		o(&cfg)
	}
	return StartConfig(t, cfg)
}

// StartConfig runs chatd with cfg exactly, and stops it when the test ends.
func StartConfig(t testing.TB, cfg server.Config) *Server {
	t.Helper()
	s, err := server.New(cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(s.Stop)
	return &Server{Server: s, Addr: s.Worker.Addr().String(), Config: cfg}
}

// URL is the ws:// URL with the seed's query parameters.
func (s *Server) URL(name, color string, gender int) string {
	q := url.Values{}
	q.Set("userName", name)
	q.Set("userColor", color)
	q.Set("gender", fmt.Sprint(gender))
	return "ws://" + s.Addr + "/?" + q.Encode()
}

// Client is a real WebSocket client.
type Client struct {
	t    testing.TB
	Conn *websocket.Conn
	// AutoPong answers every Ping with Pong while reading (true by default).
	AutoPong bool
}

// Dial connects to rawURL and closes the connection when the test ends.
func Dial(t testing.TB, rawURL string) *Client {
	t.Helper()
	return DialHeader(t, rawURL, nil)
}

// DialHeader connects to rawURL with extra handshake headers (Authorization,
// Cookie) and closes the connection when the test ends.
func DialHeader(t testing.TB, rawURL string, h http.Header) *Client {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial(rawURL, h)
	if err != nil {
		t.Fatalf("dial %s: %v", rawURL, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Client{t: t, Conn: conn, AutoPong: true}
}

// Login dials as name and returns the client and its Authorized message.
func (s *Server) Login(t testing.TB, name string) (*Client, map[string]any) {
	t.Helper()
	c := Dial(t, s.URL(name, "#16a085", 1))
	auth := c.Expect("Authorized")
	return c, auth
}

// Send writes v as JSON in a TEXT frame (a string or []byte is sent as-is).
func (c *Client) Send(v any) {
	c.t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			c.t.Fatalf("marshal: %v", err)
		}
	}
	if err := c.Conn.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// Next reads the next message (answering Pings if AutoPong), failing the test after 5s.
func (c *Client) Next() map[string]any {
	c.t.Helper()
	m, err := c.NextWithin(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// NextWithin reads the next non-Ping message, or returns the read error.
func (c *Client) NextWithin(d time.Duration) (map[string]any, error) {
	deadline := time.Now().Add(d)
	for {
		_ = c.Conn.SetReadDeadline(deadline)
		_, data, err := c.Conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("frame %q is not one JSON object: %w", data, err)
		}
		if c.AutoPong && m["action"] == "Ping" {
			if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(`{"action":"Pong"}`)); err != nil {
				return nil, err
			}
			continue
		}
		return m, nil
	}
}

// Expect reads until a message with action arrives and returns it. Messages with
// other actions are skipped.
func (c *Client) Expect(action string) map[string]any {
	c.t.Helper()
	var skipped []string
	for {
		m := c.Next()
		if m["action"] == action {
			return m
		}
		skipped = append(skipped, fmt.Sprint(m["action"]))
		if len(skipped) > 1000 {
			c.t.Fatalf("no %s among %s...", action, strings.Join(skipped[:10], ","))
		}
	}
}

// Eventually polls cond until it is true or the deadline passes (enginetest's).
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	enginetest.Eventually(t, d, what, cond)
}

// LoginQuery dials as name with extra query parameters (presence, ack, resume, since)
// and returns the client and its Authorized message.
func (s *Server) LoginQuery(t testing.TB, name string, extra url.Values) (*Client, map[string]any) {
	t.Helper()
	q := url.Values{}
	q.Set("userName", name)
	q.Set("userColor", "#16a085")
	q.Set("gender", "1")
	for k, vs := range extra {
		q[k] = vs
	}
	c := Dial(t, "ws://"+s.Addr+"/?"+q.Encode())
	return c, c.Expect("Authorized")
}

// ExpectWhere reads until a message for which match is true arrives and returns it;
// others are skipped (at most 10,000).
func (c *Client) ExpectWhere(what string, match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	for range 10_000 {
		m := c.Next()
		if match(m) {
			return m
		}
	}
	c.t.Fatalf("no %s within 10,000 messages", what)
	return nil
}
