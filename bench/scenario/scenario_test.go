package scenario

import (
	"context"
	"github.com/chatd/chatd/engine/server"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
)

// startChatd runs a real chatd in this process with a rate limit the senders stay under.
func startChatd(t *testing.T) (*chattest.Server, Options) {
	t.Helper()
	srv := chattest.Start(t, func(c *server.Config) { c.Chat.RateLimit = 1000; c.Chat.RateBurst = 1000 })
	return srv, Options{
		URLs:         []string{"ws://" + srv.Addr + "/"},
		Target:       "chatd",
		StatusURL:    "http://" + srv.Addr + "/status",
		Duration:     time.Second,
		Warmup:       300 * time.Millisecond,
		PayloadBytes: 32,
		ExtraFiles:   1000, // the server's sockets are in this process too
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func runScenario(t *testing.T, o Options) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("%s: %v", o.Scenario, err)
	}
	if res.Scenario != o.Scenario || res.Settings.Clients != o.Clients {
		t.Fatalf("result %+v does not echo its settings", res)
	}
	t.Logf("%s: connect %+v messages %+v server %+v churn %+v errors %v notes %v",
		o.Scenario, res.Connect, res.Messages, res.Server, res.Churn, res.Errors, res.Notes)
	return res
}

// checkMessages: nothing lost or doubled, and the counts add up.
func checkMessages(t *testing.T, res *Result, perMessage uint64) {
	t.Helper()
	m := res.Messages
	if m == nil {
		t.Fatal("no message figures")
	}
	if m.Sent == 0 || m.Expected != m.Sent*perMessage || m.Received != m.Expected || m.Loss != 0 || m.Duplicate != 0 {
		t.Fatalf("messages %+v, want %d deliveries per message, no loss, no duplicate", m, perMessage)
	}
	if m.Latency.Count == 0 || m.Latency.Count > int64(m.Received) || m.Latency.P50 > m.Latency.Max || m.PerSec <= 0 {
		t.Fatalf("latency %+v per second %v", m.Latency, m.PerSec)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("errors %v", res.Errors)
	}
}

func TestConnectCountsThePresenceStorm(t *testing.T) {
	_, o := startChatd(t)
	o.Scenario, o.Clients = "connect", 150
	res := runScenario(t, o)
	c := res.Connect
	if c.Attempted != 150 || c.Authorized != 150 || c.PerSec <= 0 || c.Latency.Count != 150 {
		t.Fatalf("connect %+v", c)
	}
	// Client i (from 0) gets n-i Connected frames (its own and the later ones) and
	// i+1 users in its list (itself too): n(n+1)/2 of each, n(n+1) entries.
	if c.PresenceFrames != 150*151 || c.PresenceBytes == 0 {
		t.Fatalf("presence frames %d, want %d", c.PresenceFrames, 150*151)
	}
}

func TestIdleReportsMemoryPerConnection(t *testing.T) {
	_, o := startChatd(t)
	o.Scenario, o.Clients = "idle", 200
	o.ServerPID = os.Getpid() // the server is in this process
	res := runScenario(t, o)
	s := res.Server
	if res.Connect.Authorized != 200 || s == nil || s.RSSBytes == 0 || s.BaselineRSSBytes == 0 || s.FDs < 200 || s.Goroutines == 0 {
		t.Fatalf("idle connect %+v server %+v", res.Connect, s)
	}
	if want := MemPerConn(s.RSSBytes, s.BaselineRSSBytes, 200); s.MemPerConnBytes != want {
		t.Fatalf("mem per conn %v, want %v", s.MemPerConnBytes, want)
	}
}

func TestBroadcastDeliversEveryMessageToEveryone(t *testing.T) {
	_, o := startChatd(t)
	o.Scenario, o.Clients, o.Senders, o.Rate = "broadcast", 100, 5, 50
	o.ServerPID = os.Getpid()
	res := runScenario(t, o)
	checkMessages(t, res, 100)
	if res.Server == nil || res.Server.CPUSeconds < 0 || res.Server.Dropped != 0 {
		t.Fatalf("server %+v", res.Server)
	}
}

func TestPrivateReachesOnlyThePartner(t *testing.T) {
	_, o := startChatd(t)
	o.Scenario, o.Clients, o.Senders, o.Rate = "private", 100, 50, 200
	checkMessages(t, runScenario(t, o), 1)
}

func TestRoomsDeliverWithinTheRoom(t *testing.T) {
	_, o := startChatd(t)
	o.Scenario, o.Clients, o.Senders, o.Rate, o.Rooms = "rooms", 100, 10, 100, 5
	checkMessages(t, runScenario(t, o), 20) // 100 clients over 5 rooms
}

func TestHistoryCountsSentAfterCommit(t *testing.T) {
	_, o := startChatd(t)
	o.Scenario, o.Clients, o.Senders, o.Rate = "history", 50, 50, 500
	res := runScenario(t, o)
	checkMessages(t, res, 1)
	if res.Messages.Acked != res.Messages.Sent {
		t.Fatalf("acked %d of %d sent", res.Messages.Acked, res.Messages.Sent)
	}
}

func TestChurnReturnsToBaseline(t *testing.T) {
	srv, o := startChatd(t)
	o.Scenario, o.Clients, o.Cycles = "churn", 100, 3
	res := runScenario(t, o)
	c := res.Churn
	if c == nil || c.Cycles != 3 || res.Connect.Authorized != 300 {
		t.Fatalf("churn %+v connect %+v", c, res.Connect)
	}
	// The last cycle's closes reach the server's count a moment after the clients see them.
	for deadline := time.Now().Add(5 * time.Second); srv.Worker.Status().Connections != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.Worker.Status().Connections; n != 0 {
		t.Fatalf("server still holds %d connections 5 s after the churn", n)
	}
	// Goroutines come from /status; without --server-pid there are no fds or RSS.
	if !c.ReturnedToBase || c.Baseline.Goroutines == 0 {
		t.Fatalf("churn %+v", c)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Scenario: "connect", Clients: 0, Duration: time.Second},
		{Scenario: "broadcast", Clients: 10, Senders: 11, Duration: time.Second},
		{Scenario: "nope", URLs: []string{"ws://127.0.0.1:1/"}, Clients: 1, Duration: time.Second},
		{Scenario: "idle", URLs: []string{"ws://127.0.0.1:1/"}, Clients: 10_000_000, Duration: time.Second},
		{Scenario: "failover", URLs: []string{"ws://127.0.0.1:1/"}, Clients: 1, KillPID: 1 << 30, Duration: time.Second},
		{Scenario: "failover", URLs: []string{"ws://127.0.0.1:1/", "ws://127.0.0.1:2/"}, Clients: 1, Duration: time.Second},
		{Scenario: "idle", URLs: []string{"ws://127.0.0.1:1/"}, SenderURLs: []string{"ws://127.0.0.1:2/"}, Clients: 1, Duration: time.Second},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestSlowWithPingFlooders: clients that flood RFC pings without reading are cut
// (the server's --max-pings-per-second), and the reading clients lose nothing.
func TestSlowWithPingFlooders(t *testing.T) {
	_, o := startChatd(t)
	o.Scenario, o.Clients, o.Senders, o.Rate = "slow", 10, 5, 50
	o.SlowClients, o.PingFlooders = 0, 40
	o.ServerPID = os.Getpid()
	res := runScenario(t, o)
	checkMessages(t, res, 10)
	if s := res.Slow; s == nil || s.PingFlooders != 40 || s.FloodersCut != 40 || s.Clients != 0 {
		t.Fatalf("slow figures %+v, want 40 ping flooders, all cut", res.Slow)
	}
	// The memory is read just before they join (the warm baseline) and 5 s after the
	// last cut, which came once they had joined.
	if s := res.Slow; s.WarmRSSBytes == 0 || s.AfterRSSBytes == 0 || s.LastCutSeconds <= 0 {
		t.Fatalf("slow figures %+v, want a warm baseline, an after-cut RSS and the last cut's time", s)
	}
}
