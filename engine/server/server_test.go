package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/gorilla/websocket"
)

// Whole-server tests of what the engine does for the chat: the seed client's
// handshake, limits that cut one client and spare the others, origins, stop.

// TestQtClientHandshake replays the seed's Qt client byte for byte: a request line
// with no slash before the query, and Origin: SimpleChatClient.
func TestQtClientHandshake(t *testing.T) {
	s := chattest.Start(t)
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET ?userName=%D0%92%D0%B0%D1%81%D1%8F&userColor=%2334495e&gender=0 HTTP/1.1\r\n" +
		"Host: " + s.Addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Origin: SimpleChatClient\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	status, _ := r.ReadString('\n')
	if status != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Fatalf("status line %q", status)
	}
	headers := map[string]string{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		headers[k] = v
	}
	// The Qt client checks these exactly.
	if headers["Upgrade"] != "websocket" || headers["Connection"] != "Upgrade" ||
		headers["Sec-WebSocket-Accept"] != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("headers %v", headers)
	}
	op, payload := enginetest.ReadFrame(t, r)
	if op != 1 || !strings.HasPrefix(string(payload), `{"action":"Authorized","userId":`) ||
		!strings.Contains(string(payload), `"userName":"Вася","gender":0,"userColor":"#34495e","users":[{`) {
		t.Fatalf("first frame op %d %s", op, payload)
	}
	// A chat line exactly as the Qt client frames it (masked, no action key).
	if _, err := conn.Write(enginetest.MaskedFrame(1, []byte(`{"text":"привет","toUserId":0}`))); err != nil {
		t.Fatal(err)
	}
	for {
		_, payload = enginetest.ReadFrame(t, r)
		if strings.Contains(string(payload), `"action":"PublicMessage"`) {
			break
		}
	}
	if !strings.Contains(string(payload), `"text":"привет","toUserId":0`) {
		t.Fatalf("echo %s", payload)
	}
}

func TestOversizedMessageClosesOnlyThatClient(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Engine.MaxMessageBytes = 1024 })
	big, _ := s.Login(t, "Big")
	other, _ := s.Login(t, "Other")
	big.Send(`{"text":"` + strings.Repeat("x", 2000) + `"}`)
	_, _, err := big.Conn.ReadMessage()
	for err == nil {
		_, _, err = big.Conn.ReadMessage()
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1009 {
		t.Fatalf("oversized message: got %v, want close 1009", err)
	}
	other.Send(`{"text":"fine"}`)
	if m := other.Expect("PublicMessage"); m["text"] != "fine" {
		t.Fatalf("other client: %v", m)
	}
}

// TestSlowConsumerIsCutOff: a client that never reads is closed once more than
// MaxWriteBuffer bytes wait for it; another client keeps chatting throughout.
func TestSlowConsumerIsCutOff(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) {
		c.Engine.MaxWriteBuffer, c.Engine.MaxMessageBytes = 64<<10, 64<<10
		c.Chat.MaxTextLength, c.Chat.RateLimit, c.Chat.RateBurst = 50_000, 100_000, 100_000
	})
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(4096) // a tiny window fills up fast
		}
		return c, err
	}}
	slow, _, err := d.Dial(s.URL("Slow", "#000", 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	talker, _ := s.Login(t, "Talker")
	text := strings.Repeat("y", 30_000)
	cut, sawLeave := false, false
	for i := 0; i < 2000 && !cut; i++ { // 60 MB at most; the cap is 64 KB plus socket buffers
		talker.Send(map[string]any{"text": fmt.Sprint(i, text)})
		// The talker is served all along. Slow's Disconnected may come before this
		// echo: the cut can land between the previous echo and the Closes check.
		m := talker.ExpectWhere("the echo", func(m map[string]any) bool {
			sawLeave = sawLeave || m["action"] == "Disconnected" && m["userName"] == "Slow"
			return m["action"] == "PublicMessage"
		})
		if !strings.HasPrefix(m["text"].(string), fmt.Sprint(i)) {
			t.Fatalf("talker got message %q, want %d", m["text"].(string)[:8], i)
		}
		cut = s.Worker.Status().Closes["slow consumer: write buffer full"] == 1
	}
	if !cut {
		t.Fatal("the slow consumer was never cut off")
	}
	if !sawLeave {
		if m := talker.Expect("Disconnected"); m["userName"] != "Slow" {
			t.Fatalf("talker got %v, want Slow's Disconnected", m)
		}
	}
	talker.Send(`{"text":"after"}`)
	if m := talker.Expect("PublicMessage"); m["text"] != "after" {
		t.Fatalf("after the cut: %v", m)
	}
}

func TestAnswersRFC6455Ping(t *testing.T) {
	s := chattest.Start(t)
	c, _ := s.Login(t, "Pinger")
	got := make(chan string, 1)
	c.Conn.SetPongHandler(func(data string) error { got <- data; return nil })
	if err := c.Conn.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	go func() { // the pong handler runs inside reads
		for {
			if _, _, err := c.Conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	select {
	case data := <-got:
		if data != "are you there" {
			t.Fatalf("pong payload %q", data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
}

func TestOriginPolicy(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Engine.AllowedOrigins = []string{"https://chat.example.com"} })
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"SimpleChatClient", true},
		{"http://" + s.Addr, true},
		{"https://chat.example.com", true},
		{"https://evil.example.com", false},
		{"null", false}, // a sandboxed iframe of any site
		{"file://", false},
		{"chrome-extension://abcdefghijklmnop", false},
		{"http://%zz", false}, // does not parse
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		c, resp, err := websocket.DefaultDialer.Dial(s.URL("o", "#000", 0), h)
		if (err == nil) != tt.ok {
			t.Errorf("origin %q: err %v, want ok=%v", tt.origin, err, tt.ok)
		}
		if !tt.ok && resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: status %d, want 403", tt.origin, resp.StatusCode)
		}
		if c != nil {
			c.Close()
		}
	}
}

// TestStopSendsGoingAway: a stopping server closes every client with 1001, with a
// shutdown grace and without one (0: the socket closes right after the close frame).
func TestStopSendsGoingAway(t *testing.T) {
	for _, grace := range []time.Duration{200 * time.Millisecond, 0} {
		s := chattest.Start(t, func(c *server.Config) { c.Engine.ShutdownGrace = grace })
		c, _ := s.Login(t, "Alice")
		go s.Stop()
		for {
			_, _, err := c.Conn.ReadMessage()
			if err == nil {
				continue
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 1001 {
				t.Fatalf("--shutdown-grace %s: got %v, want close 1001", grace, err)
			}
			break
		}
	}
}

// TestStatusCountsChatClosesByName: the chat's own close codes are counted under
// their names in /status, not as "other".
func TestStatusCountsChatClosesByName(t *testing.T) {
	s := chattest.Start(t)
	_, auth := s.LoginQuery(t, "Alice", url.Values{"resume": {""}})
	s.LoginQuery(t, "Alice", url.Values{"resume": {auth["resumeToken"].(string)}}) // takes over: 4002
	chattest.Eventually(t, 5*time.Second, "the takeover's close counted", func() bool {
		return s.Worker.Status().Closes["replaced by a resumed connection"] == 1
	})
	if n := s.Worker.Status().Closes["other"]; n != 0 {
		t.Fatalf("%d closes counted as other: %v", n, s.Worker.Status().Closes)
	}
}
