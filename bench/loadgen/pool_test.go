package loadgen

import (
	"context"
	"github.com/chatd/chatd/engine/server"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
)

func TestPoolLogsInChatsAndCloses(t *testing.T) {
	srv := chattest.Start(t, func(c *server.Config) {
		c.Chat.RateLimit = 10000
		c.Chat.RateBurst = 10000
		c.Chat.PingInterval = 50 * time.Millisecond
	})
	var chats atomic.Int64
	p, err := New(Config{URLs: []string{"ws://" + srv.Addr + "/"}, OnChat: func(*Client, *Frame, time.Duration) { chats.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 20
	for range n {
		p.Dial()
	}
	chattest.Eventually(t, 5*time.Second, "all authorized", func() bool { return p.Stats().Authorized.Load() == n })
	clients := p.Authorized()
	if len(clients) != n {
		t.Fatalf("authorized %d clients, want %d", len(clients), n)
	}
	if err := clients[0].Send([]byte(`{"text":"hello","toUserId":0}`)); err != nil {
		t.Fatal(err)
	}
	chattest.Eventually(t, 5*time.Second, "broadcast delivered", func() bool { return chats.Load() == n })
	chattest.Eventually(t, 5*time.Second, "pings answered", func() bool { return p.Stats().Pings.Load() >= n })
	// Every client sees Connected for itself and for everyone who came after it.
	chattest.Eventually(t, 5*time.Second, "presence", func() bool { return p.Stats().Connected.Load() == n*(n+1)/2 })
	p.CloseAll()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	if got := p.Stats().Closed.Load(); got != n {
		t.Fatalf("closed %d, want %d (errors %v)", got, n, p.Stats().Errors())
	}
	chattest.Eventually(t, 5*time.Second, "server sees no connection", func() bool { return srv.Worker.Status().Connections == 0 })
}

func TestDialFailuresAreCountedByKind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p, err := New(Config{URLs: []string{"ws://" + addr + "/"}, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Dial()
	chattest.Eventually(t, 5*time.Second, "failure counted", func() bool { return p.Stats().Failed.Load() == 1 })
	if got := p.Stats().Errors()[ErrKindRefused]; got != 1 {
		t.Fatalf("errors %v, want one %s", p.Stats().Errors(), ErrKindRefused)
	}
}

func TestParseSourceIPsAcceptsOnlyLoopback(t *testing.T) {
	ips, err := ParseSourceIPs([]string{"127.0.0.2,127.0.0.3", "127.1.0.1"})
	if err != nil || len(ips) != 3 {
		t.Fatalf("got %v, %v", ips, err)
	}
	if _, err := ParseSourceIPs([]string{"10.0.0.1"}); err == nil {
		t.Fatal("10.0.0.1 accepted")
	}
}

func TestCheckPorts(t *testing.T) {
	if err := CheckPorts(100, nil); err != nil {
		t.Fatal(err)
	}
	if err := CheckPorts(10_000_000, nil); err == nil {
		t.Fatal("ten million clients fit in one address's ports")
	}
}

// A pool closed right after New must stop: nbio v1.6.12 loses a Stop that reaches a
// poller before its loop started, and that poller then spins forever.
func TestCloseRightAfterNewStops(t *testing.T) {
	for i := range 8 {
		p, err := New(Config{URLs: []string{"ws://127.0.0.1:1/"}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { p.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Close %d did not return within 10s", i)
		}
	}
}
