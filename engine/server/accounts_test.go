package server_test

import (
	"database/sql"
	"path/filepath"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chatd/chatd/engine/store"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/gorilla/websocket"
)

// Accounts over real HTTP and real WebSockets: register, login, logout, the error
// codes, the per-IP limit, tokens by query, header and cookie, JWTs, reserved names,
// --allow-anonymous=false, and identities that survive a restart.

// testClock is the accounts' clock: it stands still unless a test moves it, so no
// assertion depends on how long anything took.
type testClock struct {
	base time.Time
	off  atomic.Int64
}

func newTestClock() *testClock { return &testClock{base: time.Now()} }

func (c *testClock) now() time.Time          { return c.base.Add(time.Duration(c.off.Load())) }
func (c *testClock) advance(d time.Duration) { c.off.Add(int64(d)) }

func withClock(c *testClock) chattest.Option {
	return func(cfg *server.Config) { cfg.Accounts.Now = c.now }
}

// apiClient posts to a chatd's account API, from a local address of its choice.
type apiClient struct {
	t      *testing.T
	base   string
	http   *http.Client
	header http.Header // sent with every request (a proxy's X-Forwarded-For)
}

func newAPI(t *testing.T, s *chattest.Server, localIP string) *apiClient {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &apiClient{t: t, base: "http://" + s.Addr, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// post sends body (JSON-encoded unless a string) and returns the status, the JSON
// answer (nil if none) and the response.
func (a *apiClient) post(path string, body any, h http.Header) (int, map[string]any, *http.Response) {
	a.t.Helper()
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else if body != nil {
		b, _ = json.Marshal(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range a.header {
		req.Header[k] = vs
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			a.t.Fatalf("POST %s: %d with a body that is not JSON: %v", path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode, m, resp
}

func creds(name, password string) map[string]string {
	return map[string]string{"name": name, "password": password}
}

// expectStatus posts and checks the status and, for an error, its code.
func (a *apiClient) expect(path string, body any, status int, code string) map[string]any {
	a.t.Helper()
	got, m, _ := a.post(path, body, nil)
	if got != status || (code != "" && m["error"] != code) {
		a.t.Fatalf("POST %s %v: got %d %v, want %d %s", path, body, got, m, status, code)
	}
	if code != "" && m["message"] == "" {
		a.t.Fatalf("POST %s: error without a message: %v", path, m)
	}
	return m
}

func (a *apiClient) register(name, password string) (token string, userID float64) {
	a.t.Helper()
	m := a.expect("/api/register", creds(name, password), http.StatusCreated, "")
	if m["name"] != name || m["token"] == "" || m["userId"] == nil {
		a.t.Fatalf("register answered %v", m)
	}
	return m["token"].(string), m["userId"].(float64)
}

func (a *apiClient) login(name, password string) string {
	a.t.Helper()
	m := a.expect("/api/login", creds(name, password), http.StatusOK, "")
	return m["token"].(string)
}

func bearerHeader(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// dialToken connects with token= (and presence=compact) and returns the client and
// its first message.
func dialToken(t *testing.T, s *chattest.Server, tok string) (*chattest.Client, map[string]any) {
	t.Helper()
	c := chattest.Dial(t, "ws://"+s.Addr+"/?presence=compact&token="+url.QueryEscape(tok))
	return c, c.Next()
}

// expectClose reads until the server closes the connection with code.
func expectClose(t *testing.T, c *chattest.Client, code int) {
	t.Helper()
	for range 1000 {
		m, err := c.NextWithin(5 * time.Second)
		if err == nil {
			if m["action"] == "Authorized" {
				t.Fatalf("logged in (%v), want close %d", m, code)
			}
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			t.Fatalf("read: %v, want close %d", err, code)
		}
		return
	}
	t.Fatalf("no close %d", code)
}

// expectBadToken: Error bad_token, then close 4004.
func expectBadToken(t *testing.T, s *chattest.Server, tok string) {
	t.Helper()
	c, m := dialToken(t, s, tok)
	if m["action"] != "Error" || m["code"] != "bad_token" {
		t.Fatalf("token %q: got %v, want Error bad_token", tok, m)
	}
	expectClose(t, c, 4004)
}

func expectAccount(t *testing.T, m map[string]any, name string, userID float64) {
	t.Helper()
	if m["action"] != "Authorized" || m["account"] != true || m["userName"] != name || m["userId"] != userID {
		t.Fatalf("got %v, want Authorized of account %s (%v)", m, name, userID)
	}
}

// TestAccountLifecycle: register (201 and a cookie), every error code, login (a new
// token each time), connecting as the account, logout of one token and of all.
func TestAccountLifecycle(t *testing.T) {
	s := chattest.Start(t)
	a := newAPI(t, s, "127.0.0.1")

	status, m, resp := a.post("/api/register", creds("Alice", "correct horse"), nil)
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, m)
	}
	tok1, id := m["token"].(string), m["userId"].(float64)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "chatd_token" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != tok1 || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("register's cookie: %+v", cookie)
	}

	a.expect("/api/register", creds("Alice", "another password"), http.StatusConflict, "name_taken")
	a.expect("/api/register", creds("alice", "another password"), http.StatusConflict, "name_taken") // compared as nicknames are
	a.expect("/api/register", creds("", "long enough"), http.StatusBadRequest, "bad_name")
	a.expect("/api/register", creds("Bob (2)", "long enough"), http.StatusBadRequest, "bad_name")
	a.expect("/api/register", creds("Bob", "short"), http.StatusBadRequest, "weak_password")
	a.expect("/api/register", `{"name":`, http.StatusBadRequest, "bad_request")
	form, err := a.http.Post(a.base+"/api/login", "text/plain", strings.NewReader(`{"name":"Alice","password":"correct horse"}`))
	if err != nil || form.StatusCode != http.StatusBadRequest {
		t.Fatalf("a login posted as text/plain (a cross-site form): %v %v, want 400", form, err)
	}
	form.Body.Close()
	a.expect("/api/login", creds("Alice", "wrong horse"), http.StatusUnauthorized, "bad_credentials")
	a.expect("/api/login", creds("Nobody", "correct horse"), http.StatusUnauthorized, "bad_credentials")

	tok2 := a.login("Alice", "correct horse")
	tok3 := a.login("Alice", "correct horse")
	if tok2 == tok1 || tok3 == tok2 {
		t.Fatal("a login reused a token")
	}
	_, auth := dialToken(t, s, tok1)
	expectAccount(t, auth, "Alice", id)
	if auth["resumeToken"] != "" {
		t.Fatalf("an account got a resume token: %v", auth)
	}

	if st, _, _ := a.post("/api/logout", nil, bearerHeader(tok1)); st != http.StatusNoContent {
		t.Fatalf("logout: %d", st)
	}
	expectBadToken(t, s, tok1)
	a.expect("/api/logout", nil, http.StatusUnauthorized, "bad_credentials") // no token
	st, _, resp := a.post("/api/logout", nil, http.Header{"Cookie": {"chatd_token=" + tok1}})
	if st != http.StatusUnauthorized || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Fatalf("logout with a revoked cookie: %d %v, want 401 clearing the cookie", st, resp.Cookies())
	}
	_, auth = dialToken(t, s, tok2) // the others stay
	expectAccount(t, auth, "Alice", id)

	if st, _, _ := a.post("/api/logout?all=1", nil, bearerHeader(tok2)); st != http.StatusNoContent {
		t.Fatalf("logout all: %d", st)
	}
	expectBadToken(t, s, tok2)
	expectBadToken(t, s, tok3)
	expectBadToken(t, s, "no-such-token")
}

// TestAccountTokenSources: the token is taken from token=, Authorization: Bearer, or
// the login cookie, for the seed's Authorized too.
func TestAccountTokenSources(t *testing.T) {
	s := chattest.Start(t)
	a := newAPI(t, s, "127.0.0.1")
	tok, id := a.register("Dora", "password1")

	c := chattest.DialHeader(t, "ws://"+s.Addr+"/?presence=compact", bearerHeader(tok))
	expectAccount(t, c.Next(), "Dora", id)
	c = chattest.DialHeader(t, "ws://"+s.Addr+"/", http.Header{"Cookie": {"chatd_token=" + tok}})
	auth := c.Next()
	expectAccount(t, auth, "Dora", id)
	if _, ok := auth["users"].([]any); !ok {
		t.Fatalf("the seed's Authorized has no users list: %v", auth)
	}
	c = chattest.DialHeader(t, "ws://"+s.Addr+"/?presence=compact", bearerHeader("wrong"))
	if m := c.Next(); m["code"] != "bad_token" {
		t.Fatalf("bad bearer: %v", m)
	}
	expectClose(t, c, 4004)
}

// TestAccountTokenExpires: a token is refused once --session-ttl has passed.
func TestAccountTokenExpires(t *testing.T) {
	clk := newTestClock()
	s := chattest.Start(t, withClock(clk), func(c *server.Config) { c.Accounts.SessionTTL = time.Hour })
	a := newAPI(t, s, "127.0.0.1")
	tok, id := a.register("Erin", "password1")
	_, auth := dialToken(t, s, tok)
	expectAccount(t, auth, "Erin", id)
	clk.advance(time.Hour + time.Second)
	expectBadToken(t, s, tok)
}

// TestAccountPasswordGuessing: ten failures from one IP within a minute make it get
// 429 for every attempt until the minute is over; another IP is not affected.
func TestAccountPasswordGuessing(t *testing.T) {
	clk := newTestClock()
	s := chattest.Start(t, withClock(clk))
	a := newAPI(t, s, "127.0.0.1")
	other := newAPI(t, s, "127.0.0.2")
	a.register("Fay", "password1")
	for range 9 {
		a.expect("/api/login", creds("Fay", "wrong"), http.StatusUnauthorized, "bad_credentials")
	}
	a.expect("/api/register", creds("Gus", "short"), http.StatusBadRequest, "weak_password") // the tenth
	a.expect("/api/login", creds("Fay", "password1"), http.StatusTooManyRequests, "rate_limited")
	a.expect("/api/register", creds("Gus", "password1"), http.StatusTooManyRequests, "rate_limited")
	other.login("Fay", "password1")

	clk.advance(59 * time.Second)
	a.expect("/api/login", creds("Fay", "password1"), http.StatusTooManyRequests, "rate_limited")
	clk.advance(time.Second + time.Millisecond)
	a.login("Fay", "password1")
}

// TestAccountPasswordGuessingBehindProxy: behind a --trusted-proxies proxy the
// guessing limit counts the client X-Forwarded-For names, so a guesser is blocked and
// another client of the same proxy is not; a peer that is not a trusted proxy is
// counted by its own address whatever X-Forwarded-For it sends.
func TestAccountPasswordGuessingBehindProxy(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Engine.TrustedProxies = []string{"127.0.0.1"} })
	viaProxy := func(client string) *apiClient {
		a := newAPI(t, s, "127.0.0.1")
		a.header = http.Header{"X-Forwarded-For": {client}}
		return a
	}
	guesser, neighbour := viaProxy("203.0.113.1"), viaProxy("203.0.113.2")
	forger := newAPI(t, s, "127.0.0.2")
	forger.header = http.Header{"X-Forwarded-For": {"203.0.113.1"}}
	guesser.register("Ivy", "password1")
	for range 10 {
		guesser.expect("/api/login", creds("Ivy", "wrong"), http.StatusUnauthorized, "bad_credentials")
	}
	guesser.expect("/api/login", creds("Ivy", "password1"), http.StatusTooManyRequests, "rate_limited")
	viaProxy("198.51.100.1, 203.0.113.1").expect("/api/login", creds("Ivy", "password1"), http.StatusTooManyRequests, "rate_limited")
	neighbour.login("Ivy", "password1")
	forger.login("Ivy", "password1")
}

// TestAccountReservedName: a registered name is reserved whether its account is
// online or not, compared as nicknames are: an anonymous login asking for it (or a
// look-alike) gets "name (2)", and the account itself keeps it.
func TestAccountReservedName(t *testing.T) {
	s := chattest.Start(t)
	a := newAPI(t, s, "127.0.0.1")
	tok, id := a.register("Hana", "password1")

	_, anon := s.Login(t, "Hana")
	if anon["userName"] != "Hana (2)" || anon["account"] != nil {
		t.Fatalf("anonymous Hana: %v", anon)
	}
	_, anon = s.Login(t, "HANA")
	if n, _ := anon["userName"].(string); !strings.HasPrefix(n, "HANA (") { // "Hana (2)" is taken already
		t.Fatalf("anonymous HANA: %v", anon)
	}
	_, auth := dialToken(t, s, tok)
	expectAccount(t, auth, "Hana", id)

	// A name someone is using anonymously cannot be registered.
	s.Login(t, "Ivan")
	a.expect("/api/register", creds("Ivan", "password1"), http.StatusConflict, "name_taken")
}

// TestAccountAnonymousRefused: with --allow-anonymous=false a login without a token
// gets Error account_required and close 4006; an account logs in.
func TestAccountAnonymousRefused(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Accounts.AllowAnonymous = false })
	c := chattest.Dial(t, s.URL("Anon", "#123456", 0))
	if m := c.Next(); m["action"] != "Error" || m["code"] != "account_required" {
		t.Fatalf("anonymous login: %v", m)
	}
	expectClose(t, c, 4006)
	tok, id := newAPI(t, s, "127.0.0.1").register("Jo", "password1")
	_, auth := dialToken(t, s, tok)
	expectAccount(t, auth, "Jo", id)
}

// TestAccountSurvivesRestart: the account, its token, its userId and its reserved
// name come back on the same data dir, and new anonymous userIds stay clear of it.
func TestAccountSurvivesRestart(t *testing.T) {
	cfg := chattest.Config(t)
	s := chattest.StartConfig(t, cfg)
	tok, id := newAPI(t, s, "127.0.0.1").register("Kim", "password1")
	s.Stop()

	s = chattest.StartConfig(t, cfg)
	a := newAPI(t, s, "127.0.0.1")
	_, auth := dialToken(t, s, tok)
	expectAccount(t, auth, "Kim", id)
	tok2 := a.login("Kim", "password1")
	_, auth = dialToken(t, s, tok2)
	expectAccount(t, auth, "Kim", id)
	_, anon := s.Login(t, "Kim")
	if anon["userName"] != "Kim (2)" || anon["userId"] == id {
		t.Fatalf("anonymous Kim after a restart: %v (account %v)", anon, id)
	}
	a.expect("/api/register", creds("Kim", "password2"), http.StatusConflict, "name_taken")
}

// TestAccountRegistrationFlood: many registrations at once are each either done
// (201) or refused at once as busy (503), never left hanging; the ones that were done
// log in.
func TestAccountRegistrationFlood(t *testing.T) {
	s := chattest.Start(t)
	a := newAPI(t, s, "127.0.0.1")
	const n = 24
	type result struct {
		name   string
		status int
		code   any
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			name := "Flood" + strconv.Itoa(i)
			b, _ := json.Marshal(creds(name, "password1"))
			resp, err := a.http.Post(a.base+"/api/register", "application/json", bytes.NewReader(b))
			if err != nil {
				results <- result{name: name, code: err.Error()}
				return
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			results <- result{name, resp.StatusCode, m["error"]}
		}()
	}
	var done []string
	for range n {
		r := <-results
		switch {
		case r.status == http.StatusCreated:
			done = append(done, r.name)
		case r.status == http.StatusServiceUnavailable && r.code == "busy":
		default:
			t.Fatalf("%s: %d %v, want 201 or 503 busy", r.name, r.status, r.code)
		}
	}
	if len(done) == 0 {
		t.Fatal("no registration was done")
	}
	a.login(done[0], "password1")
}

// TestAccountLookAlikeReserved: a look-alike of a registered name (Cyrillic А) is
// reserved too, and cannot be registered.
func TestAccountLookAlikeReserved(t *testing.T) {
	s := chattest.Start(t)
	a := newAPI(t, s, "127.0.0.1")
	a.register("Alma", "password1")
	_, anon := s.Login(t, "\u0410lma")
	if anon["userName"] != "\u0410lma (2)" {
		t.Fatalf("anonymous Cyrillic Alma: %v", anon)
	}
	a.expect("/api/register", creds("\u0410lma", "password1"), http.StatusConflict, "name_taken")
}

// TestLogoutEndsItsSessions: a logout ends the live connection that logged in with
// the revoked token (Error bad_token, close 4004), not one that logged in with
// another token of the account; ?all=1 ends that one too.
func TestLogoutEndsItsSessions(t *testing.T) {
	s := chattest.Start(t)
	api := newAPI(t, s, "")
	first, _ := api.register("Dora", "doras password")
	second := api.login("Dora", "doras password")
	c, m := dialToken(t, s, second)
	if m["action"] != "Authorized" {
		t.Fatalf("login: %v", m)
	}
	if status, _, _ := api.post("/api/logout", nil, bearerHeader(first)); status != http.StatusNoContent {
		t.Fatalf("logout of the first token: %d", status)
	}
	c.Send(map[string]any{"text": "still here"})
	if m := c.Expect("PublicMessage"); m["text"] != "still here" {
		t.Fatalf("after another token's logout: %v", m)
	}
	if status, _, _ := api.post("/api/logout", nil, bearerHeader(second)); status != http.StatusNoContent {
		t.Fatalf("logout of its token: %d", status)
	}
	if e := c.Expect("Error"); e["code"] != "bad_token" {
		t.Fatalf("after its token's logout: %v", e)
	}
	expectClose(t, c, 4004)

	third, fourth := api.login("Dora", "doras password"), api.login("Dora", "doras password")
	c, _ = dialToken(t, s, third)
	if status, _, _ := api.post("/api/logout?all=1", nil, bearerHeader(fourth)); status != http.StatusNoContent {
		t.Fatalf("logout ?all=1: %d", status)
	}
	if e := c.Expect("Error"); e["code"] != "bad_token" {
		t.Fatalf("after ?all=1: %v", e)
	}
	expectClose(t, c, 4004)
}

// TestAccountRoomsRoam: the rooms an account joins follow it: a later login (another
// device, or after a restart) rejoins them, with a RoomJoined each; a room it left
// stays left.
func TestAccountRoomsRoam(t *testing.T) {
	s := chattest.Start(t)
	tok, _ := newAPI(t, s, "").register("Erin", "erins password")
	c, _ := dialToken(t, s, tok)
	for _, action := range []map[string]any{
		{"action": "JoinRoom", "roomId": "dev"}, {"action": "JoinRoom", "roomId": "ops"}, {"action": "LeaveRoom", "roomId": "ops"},
	} {
		c.Send(action)
	}
	c.Expect("RoomLeft")
	c.Conn.Close()

	rooms := func(s *chattest.Server) []string {
		c, m := dialToken(t, s, tok)
		defer c.Conn.Close()
		if m["action"] != "Authorized" {
			t.Fatalf("login: %v", m)
		}
		var joined []string
		c.Send(map[string]any{"action": "Rooms"}) // answered after every rejoin
		for {
			m := c.Next()
			switch m["action"] {
			case "RoomJoined":
				joined = append(joined, m["roomId"].(string))
			case "Rooms":
				return joined
			}
		}
	}
	if got := rooms(s); len(got) != 1 || got[0] != "dev" {
		t.Fatalf("a second login rejoined %v, want [dev]", got)
	}
	s.Stop()
	s2 := chattest.StartConfig(t, s.Config)
	if got := rooms(s2); len(got) != 1 || got[0] != "dev" {
		t.Fatalf("after a restart: %v, want [dev]", got)
	}
}

// TestAccountUnread: an account's read position follows it: lines others send while
// it is away are unread at its next login (RoomJoined and Rooms say how many), its own
// lines never are, and Read moves the position (an anonymous user gets
// account_required).
func TestAccountUnread(t *testing.T) {
	s := chattest.Start(t)
	tok, _ := newAPI(t, s, "").register("Fay", "fays password")
	fay, _ := dialToken(t, s, tok)
	fay.Send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	fay.Expect("RoomJoined")
	sendTagged(t, fay, map[string]any{"text": "mine", "roomId": "dev"})
	fay.Conn.Close()

	bob, _ := s.LoginQuery(t, "Bob", editOptIn)
	bob.Send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	bob.Expect("RoomJoined")
	var last float64
	for i := range 3 {
		last = sendTagged(t, bob, map[string]any{"text": fmt.Sprint("news ", i), "roomId": "dev"})
	}
	bob.Send(map[string]any{"action": "Read", "roomId": "dev", "seq": last})
	if e := bob.Expect("Error"); e["code"] != "account_required" {
		t.Fatalf("an anonymous Read: %v", e)
	}

	unread := func(want float64) {
		t.Helper()
		c, _ := dialToken(t, s, tok)
		defer c.Conn.Close()
		joined := c.ExpectWhere("RoomJoined dev", func(m map[string]any) bool { return m["action"] == "RoomJoined" && m["roomId"] == "dev" })
		if got, _ := joined["unread"].(float64); got != want {
			t.Fatalf("RoomJoined unread %v, want %v", joined["unread"], want)
		}
		c.Send(map[string]any{"action": "Rooms"})
		for _, r := range c.Expect("Rooms")["rooms"].([]any) {
			if r := r.(map[string]any); r["roomId"] == "dev" && r["unread"] != want {
				t.Fatalf("Rooms: %v, want unread %v", r, want)
			}
		}
		if want > 0 {
			c.Send(map[string]any{"action": "Read", "roomId": "dev", "seq": last - 1})
			c.Send(map[string]any{"action": "Rooms"}) // answered after the Read
			c.Expect("Rooms")
		}
	}
	unread(3) // Bob's three, not Fay's own
	unread(1) // read up to the second
}

// TestAccountKeepsAPositionPerRoomItIsIn: an account that joins and leaves many rooms
// keeps rows only for the rooms it is in (and the default room), however many it ever
// visited.
func TestAccountKeepsAPositionPerRoomItIsIn(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.RateLimit, c.Chat.RateBurst = 1000, 1000 })
	tok, _ := newAPI(t, s, "").register("Hal", "hals password")
	c, _ := dialToken(t, s, tok)
	for i := range 30 {
		room := fmt.Sprint("r", i)
		c.Send(map[string]any{"action": "JoinRoom", "roomId": room})
		c.Expect("RoomJoined")
		if i > 0 {
			c.Send(map[string]any{"action": "LeaveRoom", "roomId": room})
			c.Expect("RoomLeft")
		}
	}
	c.Conn.Close()
	s.Stop()
	db, err := sql.Open("sqlite", filepath.Join(s.Config.DataDir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for table, want := range map[string]int{"account_rooms": 1, "account_reads": 2} { // r0; lobby and r0
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil || n != want {
			t.Errorf("%s holds %d rows (%v), want %d", table, n, err, want)
		}
	}
}
