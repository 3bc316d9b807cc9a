package chat_test

import (
	"encoding/json"
	"errors"
	"github.com/chatd/chatd/engine/server"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/gorilla/websocket"
)

func num(t *testing.T, m map[string]any, key string) uint64 {
	t.Helper()
	f, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%s is %T (%v), want a JSON number", key, m[key], m[key])
	}
	return uint64(f)
}

func TestLoginAuthorizedAndConnected(t *testing.T) {
	s := chattest.Start(t)
	a, authA := s.Login(t, "Alice")
	if authA["userName"] != "Alice" || num(t, authA, "userId") < 1 || num(t, authA, "gender") != 1 || authA["userColor"] != "#16a085" {
		t.Fatalf("Authorized = %v", authA)
	}
	users := authA["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["userName"] != "Alice" {
		t.Fatalf("Alice's list = %v, want only herself", users)
	}
	// Connected goes to everyone including the newcomer.
	if c := a.Expect("Connected"); c["userName"] != "Alice" {
		t.Fatalf("Alice's own Connected = %v", c)
	}
	b, authB := s.Login(t, "Bob")
	list := authB["users"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["userName"] != "Alice" || list[1].(map[string]any)["userName"] != "Bob" {
		t.Fatalf("Bob's list = %v, want Alice then Bob (join order)", list)
	}
	if c := a.Expect("Connected"); c["userName"] != "Bob" || num(t, c, "userId") != num(t, authB, "userId") {
		t.Fatalf("Alice got %v, want Bob's Connected", c)
	}
	b.Expect("Connected")
	if num(t, authB, "userId") <= num(t, authA, "userId") {
		t.Fatalf("ids not increasing: %v then %v", authA["userId"], authB["userId"])
	}
}

func TestNicknameDeduplication(t *testing.T) {
	s := chattest.Start(t)
	want := []string{"Bob", "Bob (2)", "Bob (3)", "bob (4)"}
	for i, name := range []string{"Bob", "Bob", " Bob ", "bob"} {
		_, auth := s.Login(t, name)
		if auth["userName"] != want[i] {
			t.Fatalf("login %d as %q got %q, want %q", i+1, name, auth["userName"], want[i])
		}
	}
}

func TestNameFreedOnLeave(t *testing.T) {
	s := chattest.Start(t)
	a, _ := s.Login(t, "Bob")
	b, _ := s.Login(t, "Bob")
	a.Conn.Close()
	b.Expect("Disconnected")
	_, auth := s.Login(t, "Bob")
	if auth["userName"] != "Bob" {
		t.Fatalf("after Bob left, a new Bob is %q", auth["userName"])
	}
}

func TestQueryParameters(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.MaxNameLength = 8 })
	tests := []struct {
		query       string
		name, color string
		gender      uint64
	}{
		{"", "Инкогнито", "#000000", 0},
		{"userName=%3C%3E&userColor=red&gender=7", "Инкогнито", "#000000", 0},
		{"userName=Verylongname&userColor=%23ABC&gender=2", "Verylong", "#ABC", 2},
		{"userName=x&userColor=%23000%22%3E%3Cscript%3E&gender=abc", "x", "#000000", 0},
		{"userName=a%26b+c&gender=1", "ab c", "#000000", 1},
	}
	// The watcher sees each row's user leave, so the next row's default name is free again.
	watcher, _ := s.Login(t, "Watcher")
	watcher.Expect("Connected")
	for _, tt := range tests {
		c := chattest.Dial(t, "ws://"+s.Addr+"/?"+tt.query)
		auth := c.Expect("Authorized")
		watcher.Expect("Connected")
		if auth["userName"] != tt.name || auth["userColor"] != tt.color || num(t, auth, "gender") != tt.gender {
			t.Errorf("?%s: got name %q color %q gender %v; want %q %q %d", tt.query, auth["userName"], auth["userColor"], auth["gender"], tt.name, tt.color, tt.gender)
		}
		c.Conn.Close()
		watcher.Expect("Disconnected")
	}
}

func TestPublicMessage(t *testing.T) {
	s := chattest.Start(t)
	a, authA := s.Login(t, "Alice")
	b, _ := s.Login(t, "Bob")
	a.Expect("Connected")
	a.Expect("Connected")
	b.Expect("Connected")
	// Spoofed sender fields and unknown keys must not survive.
	a.Send(`{"text":"hi {Bob} <img src=x onerror=alert(1)>","toUserId":0,"userName":"Mallory","userId":999,"evil":"x"}`)
	for _, c := range []*chattest.Client{a, b} { // the sender gets the echo too
		m := c.Expect("PublicMessage")
		if m["text"] != "hi <b>Bob</b> &lt;img src=x onerror=alert(1)&gt;" {
			t.Errorf("text = %q", m["text"])
		}
		if m["userName"] != "Alice" || num(t, m, "userId") != num(t, authA, "userId") || m["userColor"] != "#16a085" {
			t.Errorf("sender fields = %v, want Alice's", m)
		}
		if _, ok := m["evil"]; ok {
			t.Errorf("unknown key relayed: %v", m)
		}
	}
}

func TestPrivateMessagesBothWays(t *testing.T) {
	s := chattest.Start(t)
	a, authA := s.Login(t, "Alice")
	b, authB := s.Login(t, "Bob")
	c, _ := s.Login(t, "Carol")
	idA, idB := num(t, authA, "userId"), num(t, authB, "userId")

	a.Send(map[string]any{"text": "psst", "toUserId": idB})
	for _, cl := range []*chattest.Client{b, a} {
		m := cl.Expect("PrivateMessage")
		if m["text"] != "psst" || num(t, m, "userId") != idA || num(t, m, "toUserId") != idB {
			t.Fatalf("PrivateMessage = %v", m)
		}
	}
	b.Send(map[string]any{"text": "hi back", "toUserId": idA})
	for _, cl := range []*chattest.Client{a, b} {
		if m := cl.Expect("PrivateMessage"); m["text"] != "hi back" || num(t, m, "userId") != idB {
			t.Fatalf("reply = %v", m)
		}
	}
	// To oneself: exactly one copy.
	a.Send(map[string]any{"text": "note to self", "toUserId": idA})
	a.Send(map[string]any{"text": "marker", "toUserId": 0})
	if m := a.Expect("PrivateMessage"); m["text"] != "note to self" {
		t.Fatalf("self message = %v", m)
	}
	if m := a.Next(); m["action"] != "PublicMessage" || m["text"] != "marker" {
		t.Fatalf("after the self message got %v, want the marker (no second copy)", m)
	}
	// Carol saw none of it.
	for {
		m := c.Next()
		if m["action"] == "PrivateMessage" {
			t.Fatalf("Carol got a private message: %v", m)
		}
		if m["action"] == "PublicMessage" {
			break
		}
	}
}

func TestPrivateToOfflineUser(t *testing.T) {
	s := chattest.Start(t)
	a, _ := s.Login(t, "Alice")
	a.Send(`{"text":"anyone?","toUserId":424242}`)
	m := a.Expect("PrivateMessage")
	if m["text"] != "Не удалось отправить сообщение выбранному пользователю" || num(t, m, "toUserId") != 424242 {
		t.Fatalf("not-delivered answer = %v", m)
	}
	if e := a.Next(); e["action"] != "Error" || e["code"] != "recipient_offline" {
		t.Fatalf("want Error recipient_offline, got %v", e)
	}
}

func TestBadInputGetsErrorAndNothingIsBroadcast(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.MaxTextLength = 10; c.Chat.RateLimit = 1000; c.Chat.RateBurst = 1000 })
	a, _ := s.Login(t, "Alice")
	b, _ := s.Login(t, "Bob")
	tests := []struct {
		frame string
		code  string
	}{
		{`{"text":"x"`, "bad_json"},
		{`not json at all`, "bad_json"},
		{`"just a string"`, "not_object"},
		{`[1,2,3]`, "not_object"},
		{`{"text":42}`, "bad_field"},
		{`{"text":"x","toUserId":"bob"}`, "bad_field"},
		{`{"action":"Explode"}`, "unknown_action"},
		{`{"event":"whatever"}`, "unknown_action"},
		{`{"text":"   "}`, "empty_text"},
		{`{}`, "empty_text"},
		{`{"text":"eleven chars"}`, "text_too_long"},
	}
	for _, tt := range tests {
		a.Send(tt.frame)
		m := a.Expect("Error")
		if m["code"] != tt.code || m["message"] == "" {
			t.Errorf("%s: got %v, want code %s with a message", tt.frame, m, tt.code)
		}
	}
	if err := a.Conn.WriteMessage(websocket.BinaryMessage, []byte(`{"text":"bin"}`)); err != nil {
		t.Fatal(err)
	}
	if m := a.Expect("Error"); m["code"] != "binary_frame" {
		t.Errorf("binary frame: got %v", m)
	}
	// The connection is still usable, and Bob saw only the good message.
	a.Send(`{"text":"ok","toUserId":0}`)
	a.Expect("PublicMessage")
	for {
		m := b.Next()
		if m["action"] == "PublicMessage" {
			if m["text"] != "ok" {
				t.Fatalf("Bob got %v, want only the valid message", m)
			}
			break
		}
		if m["action"] != "Connected" {
			t.Fatalf("Bob got %v", m)
		}
	}
}

func TestHeartbeatConnectionLost(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.PingInterval = 40 * time.Millisecond; c.Chat.PingMaxMissed = 3 })
	watcher, _ := s.Login(t, "Watcher")
	silent, authS := s.Login(t, "Silent")
	silent.AutoPong = false
	idS := num(t, authS, "userId")

	lost := false
	deadline := time.Now().Add(5 * time.Second)
	for !lost && time.Now().Before(deadline) {
		m := watcher.Next() // Watcher answers every Ping, so it stays
		switch {
		case m["action"] == "ConnectionLost" && num(t, m, "userId") == idS:
			lost = true
		case m["action"] == "Disconnected":
			t.Fatalf("got Disconnected %v, want ConnectionLost", m)
		}
	}
	if !lost {
		t.Fatal("no ConnectionLost for the silent client")
	}
	// The silent client saw Pings, then the server's close frame with 4000.
	pings := 0
	for {
		_, data, err := silent.Conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != 4000 {
				t.Fatalf("close code %d, want 4000", ce.Code)
			}
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if string(data) == `{"action":"Ping"}` {
			pings++
		}
	}
	if pings != 3 {
		t.Errorf("silent client got %d Pings before the drop, want 3", pings)
	}
	// Never both: no Disconnected follows the ConnectionLost.
	watcher.Send(`{"text":"still here"}`)
	for {
		m := watcher.Next()
		if m["action"] == "Disconnected" {
			t.Fatalf("Disconnected after ConnectionLost: %v", m)
		}
		if m["action"] == "PublicMessage" {
			break
		}
	}
}

func TestDisconnectedOnClose(t *testing.T) {
	s := chattest.Start(t)
	a, authA := s.Login(t, "Alice")
	b, _ := s.Login(t, "Bob")
	_ = a.Conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))
	m := b.Expect("Disconnected")
	if num(t, m, "userId") != num(t, authA, "userId") || m["userName"] != "Alice" {
		t.Fatalf("Disconnected = %v", m)
	}
}

func TestSeed001Heartbeat(t *testing.T) {
	s := chattest.Start(t)
	a, _ := s.Login(t, "Alice")
	a.Send(`{"event":"heartBeat","content":"ping"}`)
	for {
		m := a.Next()
		if m["event"] == "heartBeat" {
			if m["content"] != "pong" {
				t.Fatalf("heartbeat answer = %v", m)
			}
			return
		}
	}
}

func TestRateLimit(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.RateLimit = 1; c.Chat.RateBurst = 3 })
	a, _ := s.Login(t, "Alice")
	for range 5 {
		a.Send(`{"text":"spam"}`)
	}
	published, limited := 0, 0
	for published+limited < 5 {
		switch m := a.Next(); {
		case m["action"] == "PublicMessage":
			published++
		case m["action"] == "Error" && m["code"] == "rate_limited":
			limited++
		}
	}
	if published > 4 || limited < 1 {
		t.Fatalf("5 messages at once with burst 3: %d published, %d limited", published, limited)
	}
}

func TestHealthAndStatus(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Engine.Version = "test-1" })
	s.Login(t, "Alice")
	resp, err := http.Get("http://" + s.Addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + s.Addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st engine.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Version != "test-1" || st.Connections != 1 || st.Goroutines == 0 || st.HeapAllocBytes == 0 || st.Chat["users"] != float64(1) {
		t.Fatalf("status = %+v", st)
	}
	resp, err = http.Get("http://" + s.Addr + "/")
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %v %v", resp, err)
	}
	resp.Body.Close()
}
