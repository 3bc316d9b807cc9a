package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/chat"
	"github.com/gorilla/websocket"
)

const (
	crashClients  = 6
	crashMessages = 100 // per client, all to one room
	crashWindow   = 16  // messages a client has in flight without Sent
	crashRoom     = "storm"
	crashRetry    = 150 * time.Millisecond // a message without Sent is sent again after this
)

// TestKill9LosesNothingThatGotSent: clients storm one room with retries, chatd is
// killed with SIGKILL mid-storm and restarted on the same data dir, every client
// resumes; each message that got Sent is then in every member's view exactly once,
// at one seq, and every view of the room is 1..N with no gap. Both --durability
// levels promise this (crash's WAL pages are in the OS's cache when Sent goes out).
func TestKill9LosesNothingThatGotSent(t *testing.T) {
	for _, durability := range []string{"power", "crash"} {
		t.Run(durability, func(t *testing.T) { kill9LosesNothingThatGotSent(t, durability) })
	}
}

func kill9LosesNothingThatGotSent(t *testing.T, durability string) {
	dir, addr := t.TempDir(), freeAddr(t)
	args := []string{"start", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--durability", durability,
		"--rate-limit", "100000", "--rate-burst", "100000", "--ack-timeout", "500ms",
		"--history-flush-interval", "5ms", "--ping-interval", "1s"}
	start := func() *exec.Cmd { return startHealthy(t, dir, addr, args...) }
	first := start()

	deadline := time.Now().Add(25 * time.Second)
	var sentTotal atomic.Int64
	clients := make([]*crashClient, crashClients)
	for i := range clients {
		clients[i] = &crashClient{
			name: fmt.Sprint("storm", i), addr: addr, deadline: deadline, sentTotal: &sentTotal,
			pending: map[string]time.Time{}, sent: map[string]uint64{}, view: map[uint64]string{},
		}
		if err := clients[i].login(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, crashClients)
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- c.run() }()
	}

	// Kill -9 while the storm is on: some messages have Sent, others are in flight.
	for sentTotal.Load() < crashClients*crashMessages/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killedAt := sentTotal.Load()
	start()

	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if killedAt >= crashClients*crashMessages {
		t.Fatalf("the kill came after the storm (%d Sent)", killedAt)
	}
	// Every view: seqs 1..total, each the same message, each clientMsgId once, and
	// each Sent at the seq every member saw it at.
	total := uint64(crashClients * crashMessages)
	ref := clients[0].view
	for _, c := range clients {
		if c.resumes == 0 {
			t.Fatalf("%s never resumed", c.name)
		}
		if len(c.view) != int(total) {
			t.Fatalf("%s saw %d messages, want %d", c.name, len(c.view), total)
		}
		seen := map[string]bool{}
		for seq := uint64(1); seq <= total; seq++ {
			cid := c.view[seq]
			if cid != ref[seq] {
				t.Fatalf("seq %d is %q for %s but %q for %s", seq, cid, c.name, ref[seq], clients[0].name)
			}
			if seen[cid] {
				t.Fatalf("%s saw %q twice", c.name, cid)
			}
			seen[cid] = true
		}
		for cid, seq := range c.sent {
			if ref[seq] != cid {
				t.Fatalf("%s got Sent %q at seq %d, but seq %d is %q", c.name, cid, seq, seq, ref[seq])
			}
		}
		if len(c.sent) != crashMessages {
			t.Fatalf("%s has %d Sent, want %d", c.name, len(c.sent), crashMessages)
		}
	}
	var st struct{ Chat map[string]any }
	if resp, err := http.Get("http://" + addr + "/status"); err == nil {
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
	}
	t.Logf("killed after %d Sent of %d; after the restart: resumed %v, retries recognized %v", killedAt, total, st.Chat["resumed"], st.Chat["duplicates"])
}

// crashClient is one ack=1, resumable client of the storm. Only its run goroutine
// touches it until run returns.
type crashClient struct {
	name      string
	addr      string
	deadline  time.Time
	sentTotal *atomic.Int64

	conn    *websocket.Conn
	frames  chan map[string]any
	token   string
	userID  float64
	resumes int

	next    int                  // messages sent at least once
	pending map[string]time.Time // clientMsgId -> last sent, until Sent
	sent    map[string]uint64    // clientMsgId -> seq in its Sent
	view    map[uint64]string    // seq -> clientMsgId, as this client saw the room
	contig  uint64               // highest seq up to which view has everything
}

func (c *crashClient) dial(q url.Values) error {
	d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
	conn, _, err := d.Dial("ws://"+c.addr+"/?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	c.conn = conn
	c.frames = make(chan map[string]any, 1024)
	go pumpJSON(conn, c.frames)
	return nil
}

// pumpJSON sends every JSON object conn reads to out and closes out when conn ends.
func pumpJSON(conn *websocket.Conn, out chan<- map[string]any) {
	defer close(out)
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			out <- m
		}
	}
}

// expect waits for a frame with action, handling everything before it.
func (c *crashClient) expect(action string) (map[string]any, error) {
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-c.frames:
			if !ok {
				return nil, fmt.Errorf("%s: connection closed waiting for %s", c.name, action)
			}
			if err := c.handle(m); err != nil {
				return nil, err
			}
			if m["action"] == action {
				return m, nil
			}
		case <-timeout:
			return nil, fmt.Errorf("%s: no %s within 5s", c.name, action)
		}
	}
}

func (c *crashClient) login() error {
	if err := c.dial(url.Values{"userName": {c.name}, "ack": {"1"}, "resume": {""}}); err != nil {
		return err
	}
	auth, err := c.expect("Authorized")
	if err != nil {
		return err
	}
	c.token, _ = auth["resumeToken"].(string)
	c.userID, _ = auth["userId"].(float64)
	if c.token == "" {
		return fmt.Errorf("%s: no resume token in %v", c.name, auth)
	}
	c.send(map[string]any{"action": "JoinRoom", "roomId": crashRoom})
	_, err = c.expect("RoomJoined")
	return err
}

// resume reconnects with the token and what the client has, until it succeeds.
func (c *crashClient) resume() error {
	for time.Now().Before(c.deadline) {
		q := url.Values{"userName": {c.name}, "ack": {"1"}, "resume": {c.token},
			"since": {fmt.Sprintf("%s:%d,lobby:0,@%d:0", crashRoom, c.contig, uint64(c.userID))}}
		if err := c.dial(q); err != nil {
			time.Sleep(30 * time.Millisecond)
			continue
		}
		auth, err := c.expect("Authorized")
		if err != nil {
			c.conn.Close()
			continue
		}
		if auth["resumed"] != true || auth["userId"] != c.userID || auth["userName"] != c.name {
			return fmt.Errorf("%s: resume gave %v", c.name, auth)
		}
		c.resumes++
		// Everything without Sent goes again, with the same clientMsgId.
		for cid := range c.pending {
			c.pending[cid] = time.Time{}
		}
		return nil
	}
	return fmt.Errorf("%s: could not resume before the deadline", c.name)
}

func (c *crashClient) send(v any) {
	b, _ := json.Marshal(v)
	_ = c.conn.WriteMessage(websocket.TextMessage, b) // a failed write shows as a closed read
}

// handle takes one frame into the client's state.
func (c *crashClient) handle(m map[string]any) error {
	switch m["action"] {
	case "Ping":
		c.send(map[string]any{"action": "Pong"})
	case "Sent":
		cid, _ := m["clientMsgId"].(string)
		seq := uint64(m["seq"].(float64))
		if old, ok := c.sent[cid]; ok && old != seq {
			return fmt.Errorf("%s: %q Sent as seq %d and as seq %d", c.name, cid, old, seq)
		}
		if _, ok := c.pending[cid]; ok {
			delete(c.pending, cid)
			c.sent[cid] = seq
			c.sentTotal.Add(1)
		}
	case "PublicMessage":
		if m["roomId"] != crashRoom {
			return nil
		}
		seq := uint64(m["seq"].(float64))
		cid, _ := m["clientMsgId"].(string)
		if old, ok := c.view[seq]; ok {
			if old != cid {
				return fmt.Errorf("%s: seq %d was %q and now %q", c.name, seq, old, cid)
			}
			return nil // a resend: de-duplicated by (room, seq)
		}
		c.view[seq] = cid
		for c.view[c.contig+1] != "" {
			c.contig++
		}
	}
	return nil
}

// run storms until all its messages got Sent and it saw every message of the room.
func (c *crashClient) run() error {
	defer func() {
		if c.conn != nil {
			c.conn.Close()
		}
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	total := uint64(crashClients * crashMessages)
	for time.Now().Before(c.deadline) {
		if c.next == crashMessages && len(c.pending) == 0 && c.contig >= total {
			return nil
		}
		select {
		case m, ok := <-c.frames:
			if !ok {
				c.conn.Close()
				if err := c.resume(); err != nil {
					return err
				}
				continue
			}
			if err := c.handle(m); err != nil {
				return err
			}
		case <-tick.C:
			now := time.Now()
			for cid, at := range c.pending {
				if now.Sub(at) >= crashRetry {
					c.send(map[string]any{"text": cid, "roomId": crashRoom, "clientMsgId": cid})
					c.pending[cid] = now
				}
			}
			for c.next < crashMessages && len(c.pending) < crashWindow {
				cid := fmt.Sprintf("%s-%d", c.name, c.next)
				c.next++
				c.send(map[string]any{"text": cid, "roomId": crashRoom, "clientMsgId": cid})
				c.pending[cid] = now
			}
			c.send(map[string]any{"action": "Ack", "roomId": crashRoom, "seq": c.contig})
		}
	}
	return fmt.Errorf("%s: deadline: %d/%d sent, %d pending, saw up to %d of %d", c.name, c.next, crashMessages, len(c.pending), c.contig, total)
}

// crashLogins is how many opt-in logins come before the kill -9, and after it.
const crashLogins = 30

// TestKill9NeverHandsOutAnIdentityTwice: crashLogins opt-in logins, kill -9 right
// after the last Authorized (at the default flush interval and at a slow disk's),
// restart, crashLogins new logins: none gets an old userId, and every old token either
// resumes its own identity (its session committed before the kill) or is refused; none
// resumes a new user, and no new user is taken over (closed with 4002).
func TestKill9NeverHandsOutAnIdentityTwice(t *testing.T) {
	for _, flush := range []string{"2ms", "500ms"} {
		t.Run("flush="+flush, func(t *testing.T) { testIdentitiesSurviveKill9(t, flush) })
	}
}

func testIdentitiesSurviveKill9(t *testing.T, flush string) {
	dir, addr := t.TempDir(), freeAddr(t)
	start := func() *exec.Cmd {
		return startHealthy(t, dir, addr, "start", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--history-flush-interval", flush)
	}
	first := start()
	old := make([]map[string]any, crashLogins)
	for i := range old {
		var conn *websocket.Conn
		old[i], conn = identityLogin(t, addr, url.Values{"userName": {fmt.Sprint("old", i)}, "resume": {""}})
		defer conn.Close() // online at the kill
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	start()

	oldIDs, newIDs := map[float64]bool{}, map[float64]bool{}
	for _, a := range old {
		oldIDs[a["userId"].(float64)] = true
	}
	reused := 0
	for i := range crashLogins {
		auth, conn := identityLogin(t, addr, url.Values{"userName": {fmt.Sprint("new", i)}, "resume": {""}})
		defer conn.Close() // online while the old tokens are tried
		id := auth["userId"].(float64)
		if oldIDs[id] || newIDs[id] {
			reused++
		}
		newIDs[id] = true
	}
	own, refused, stolen := 0, 0, 0
	for i, a := range old {
		auth, conn := identityLogin(t, addr, url.Values{"userName": {fmt.Sprint("retry", i)}, "resume": {a["resumeToken"].(string)}})
		conn.Close()
		id := auth["userId"].(float64)
		switch {
		case auth["resumed"] == true && id == a["userId"] && auth["userName"] == a["userName"]:
			own++
		case auth["resumed"] == false && !oldIDs[id] && !newIDs[id]:
			refused++
		default:
			stolen++
			t.Errorf("old token of %v (userId %v) gave userId %v %v, resumed %v", a["userName"], a["userId"], id, auth["userName"], auth["resumed"])
		}
	}
	var st struct {
		Closes map[string]uint64
		Chat   map[string]any
	}
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flush %s: %d of %d ids reused; old tokens: %d resumed their own identity, %d refused, %d accepted for someone else",
		flush, reused, crashLogins, own, refused, stolen)
	if reused != 0 || stolen != 0 {
		t.Fatalf("%d ids reused, %d old tokens accepted for someone else; want 0 and 0", reused, stolen)
	}
	if n := st.Closes[chat.CloseReplaced.Text]; n != 0 {
		t.Fatalf("%d connections were taken over (4002) after the restart", n)
	}
}

// identityLogin connects with q and returns its Authorized and the open connection.
func identityLogin(t *testing.T, addr string, q url.Values) (map[string]any, *websocket.Conn) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws://"+addr+"/?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 1000 {
		var m map[string]any
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("%s: no Authorized: %v", q.Get("userName"), err)
		}
		if m["action"] == "Authorized" {
			return m, conn
		}
	}
	t.Fatalf("%s: no Authorized in 1000 frames", q.Get("userName"))
	return nil, nil
}
