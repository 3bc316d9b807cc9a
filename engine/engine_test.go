package engine_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
	"github.com/gorilla/websocket"
)

func startEcho(t *testing.T) *engine.Worker { t.Helper(); return startEchoConfig(t, nil) }

// startEchoConfig runs the echo worker on 127.0.0.1 with enginetest's config changed
// by change (if not nil) and stops it when the test ends.
func startEchoConfig(t *testing.T, change func(*engine.Config)) *engine.Worker {
	t.Helper()
	cfg := enginetest.Config()
	cfg.Listen = "127.0.0.1:0"
	if change != nil {
		change(&cfg)
	}
	w, err := engine.New(cfg, engine.Echo{})
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
	enginetest.Eventually(t, 10*time.Second, "2000 connections", func() bool { return w.Conns() == 2000 })
	grown := runtime.NumGoroutine()
	t.Logf("goroutines: %d with 100 clients, %d with 2000", base, grown)
	if grown-base > 64 {
		t.Fatalf("goroutines grew from %d to %d for 1,900 more connections", base, grown)
	}
}

// TestStopBeforeStartReturns: a worker whose server failed between New and Start is
// stopped all the same, at once (Stop waited forever for an owner that never ran).
func TestStopBeforeStartReturns(t *testing.T) {
	cfg := engine.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := engine.New(cfg, engine.Echo{})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { w.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop of a worker never started did not return within 5 s")
	}
}
