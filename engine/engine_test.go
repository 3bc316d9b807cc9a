package engine_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/chat/chattest"
	"github.com/gorilla/websocket"
)

// TestQtClientHandshake replays the seed's Qt client byte for byte: a request line
// with no slash before the query, and Origin: SimpleChatClient.
func TestQtClientHandshake(t *testing.T) {
	s := chattest.Start(t, engine.Config{})
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
	op, payload := readFrame(t, r)
	if op != 1 || !strings.HasPrefix(string(payload), `{"action":"Authorized","userId":`) ||
		!strings.Contains(string(payload), `"userName":"Вася","gender":0,"userColor":"#34495e","users":[{`) {
		t.Fatalf("first frame op %d %s", op, payload)
	}
	// A chat line exactly as the Qt client frames it (masked, no action key).
	if _, err := conn.Write(maskedFrame(1, []byte(`{"text":"привет","toUserId":0}`))); err != nil {
		t.Fatal(err)
	}
	for {
		_, payload = readFrame(t, r)
		if strings.Contains(string(payload), `"action":"PublicMessage"`) {
			break
		}
	}
	if !strings.Contains(string(payload), `"text":"привет","toUserId":0`) {
		t.Fatalf("echo %s", payload)
	}
}

func readFrame(t *testing.T, r io.Reader) (byte, []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, _ = io.ReadFull(r, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, _ = io.ReadFull(r, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if h[1]&0x80 != 0 {
		t.Fatal("server frame is masked")
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return h[0] & 0x0f, p
}

func maskedFrame(op byte, p []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{0x80 | op}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	default:
		f = append(f, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	f = append(f, key[:]...)
	for i, b := range p {
		f = append(f, b^key[i%4])
	}
	return f
}

func TestOversizedMessageClosesOnlyThatClient(t *testing.T) {
	s := chattest.Start(t, engine.Config{MaxMessageBytes: 1024})
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
	s := chattest.Start(t, engine.Config{
		MaxWriteBuffer: 64 << 10, MaxMessageBytes: 64 << 10, MaxTextLength: 50_000,
		RateLimit: 100_000, RateBurst: 100_000,
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
	cut := false
	for i := 0; i < 2000 && !cut; i++ { // 60 MB at most; the cap is 64 KB plus socket buffers
		talker.Send(map[string]any{"text": fmt.Sprint(i, text)})
		m := talker.Expect("PublicMessage") // the talker is served all along
		if !strings.HasPrefix(m["text"].(string), fmt.Sprint(i)) {
			t.Fatalf("talker got message %q, want %d", m["text"].(string)[:8], i)
		}
		cut = s.Worker.Status().Closes["slow consumer: write buffer full"] == 1
	}
	if !cut {
		t.Fatal("the slow consumer was never cut off")
	}
	if m := talker.Expect("Disconnected"); m["userName"] != "Slow" {
		t.Fatalf("talker got %v, want Slow's Disconnected", m)
	}
	talker.Send(`{"text":"after"}`)
	if m := talker.Expect("PublicMessage"); m["text"] != "after" {
		t.Fatalf("after the cut: %v", m)
	}
}

func TestAnswersRFC6455Ping(t *testing.T) {
	s := chattest.Start(t, engine.Config{})
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
	s := chattest.Start(t, engine.Config{AllowedOrigins: []string{"https://chat.example.com"}})
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"SimpleChatClient", true},
		{"http://" + s.Addr, true},
		{"https://chat.example.com", true},
		{"https://evil.example.com", false},
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

func TestStopSendsGoingAway(t *testing.T) {
	s := chattest.Start(t, engine.Config{})
	c, _ := s.Login(t, "Alice")
	go s.Worker.Stop()
	for {
		_, _, err := c.Conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 1001 {
			t.Fatalf("got %v, want close 1001", err)
		}
		return
	}
}

func startEcho(t *testing.T) *engine.Worker {
	t.Helper()
	w, err := engine.New(engine.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, engine.Echo{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

func TestEchoWorker(t *testing.T) {
	w := startEcho(t)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+w.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []struct {
		typ  int
		data []byte
	}{
		{websocket.TextMessage, []byte("héllo")},
		{websocket.BinaryMessage, []byte{0, 1, 2, 255}},
		{websocket.TextMessage, bytes.Repeat([]byte("z"), 60_000)},
	} {
		if err := c.WriteMessage(m.typ, m.data); err != nil {
			t.Fatal(err)
		}
		typ, data, err := c.ReadMessage()
		if err != nil || typ != m.typ || !bytes.Equal(data, m.data) {
			t.Fatalf("echo of %d bytes type %d: got type %d, %d bytes, %v", len(m.data), m.typ, typ, len(data), err)
		}
	}
}

// TestGoroutinesFlat: with 2,000 connected clients the process has about as many
// goroutines as with 100. The raw engine (the echo worker) is measured, so the test
// is about connections, not about the chat's O(N²) presence traffic; gorilla's
// client starts no goroutines of its own, and every client proves it is live.
func TestGoroutinesFlat(t *testing.T) {
	w := startEcho(t)
	var clients []*websocket.Conn
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	dial := func(n int) {
		for range n {
			c, _, err := websocket.DefaultDialer.Dial("ws://"+w.Addr().String()+"/", nil)
			if err != nil {
				t.Fatalf("dial %d: %v", len(clients), err)
			}
			msg := []byte(fmt.Sprint("client ", len(clients)))
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("client %d echo: %q %v", len(clients), got, err)
			}
			clients = append(clients, c)
		}
	}
	dial(100)
	base := runtime.NumGoroutine()
	dial(1900)
	chattest.Eventually(t, 10*time.Second, "2000 connections", func() bool { return w.Conns() == 2000 })
	grown := runtime.NumGoroutine()
	t.Logf("goroutines: %d with 100 clients, %d with 2000", base, grown)
	if grown-base > 64 {
		t.Fatalf("goroutines grew from %d to %d for 1,900 more connections", base, grown)
	}
}
