package engine_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/metrics"
)

// rawRequest writes req to w on a fresh socket and returns the status line of the
// answer, and whether the server then closed the socket.
func rawRequest(t *testing.T, w *engine.Worker, req string) (status string, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", w.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	go func() { _, _ = conn.Write([]byte(req)) }() // may block: the server stops reading
	r := bufio.NewReader(conn)
	status, err = r.ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	// Closed: EOF, or a reset when the server closed with our bytes still unread.
	_, err = io.Copy(io.Discard, r)
	return strings.TrimSpace(status), err == nil || errors.Is(err, syscall.ECONNRESET)
}

func upgradeWith(headers string) string {
	return "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + headers + "\r\n"
}

func TestHandshakeLimitsAndStrictness(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	manyFields := strings.Repeat("X-A: b\r\n", 101)
	tests := []struct {
		name, req, status string
	}{
		{"headers over --max-header-bytes", upgradeWith("X-Big: " + strings.Repeat("b", 9000) + "\r\n"), "HTTP/1.1 431 Request Header Fields Too Large"},
		{"endless header line", "GET / HTTP/1.1\r\nX: " + strings.Repeat("b", 1<<20), "HTTP/1.1 431 Request Header Fields Too Large"},
		{"more than 100 fields", upgradeWith(manyFields), "HTTP/1.1 431 Request Header Fields Too Large"},
		{"HTTP/9.9", "GET / HTTP/9.9\r\nHost: x\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported"},
		{"an HTTP/1.0 upgrade", strings.Replace(upgradeWith(""), "HTTP/1.1", "HTTP/1.0", 1), "HTTP/1.1 400 Bad Request"},
		{"conflicting Content-Lengths", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "HTTP/1.1 400 Bad Request"},
		{"Content-Length and Transfer-Encoding", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 501 Not Implemented"},
		{"a folded header line", upgradeWith(" folded\r\n"), "HTTP/1.1 400 Bad Request"},
		{"a bare LF inside a header line", upgradeWith("X-A: b\nInjected: c\r\n"), "HTTP/1.1 400 Bad Request"},
		{"version 8", strings.Replace(upgradeWith(""), "Version: 13", "Version: 8", 1), "HTTP/1.1 426 Upgrade Required"},
		{"a bad key", strings.Replace(upgradeWith(""), "dGhlIHNhbXBsZSBub25jZQ==", "short", 1), "HTTP/1.1 400 Bad Request"},
		{"a POST upgrade", strings.Replace(upgradeWith(""), "GET", "POST", 1), "HTTP/1.1 405 Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, closed := rawRequest(t, w, tt.req)
			if status != tt.status || !closed {
				t.Fatalf("got %q (closed %v), want %q and the socket closed", status, closed, tt.status)
			}
		})
	}
	// Nothing was held for the refused requests, and the server still serves.
	if status, _ := rawRequest(t, w, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); status != "HTTP/1.1 200 OK" {
		t.Fatalf("/healthz after the refusals: %q", status)
	}
}

// TestFramesInTheUpgradePacket: a client that sends its first frame in the same
// write as the upgrade request gets its 101 and its echo.
func TestFramesInTheUpgradePacket(t *testing.T) {
	w := startEchoWith(t, 64<<10)
	_, r := dialWS(t, w, cat(msg(engine.OpText, "first"), msg(engine.OpText, "second")))
	expectFrames(t, r, []want{text("first"), text("second")})
}

// TestMonitoringAtCapacity: with --max-connections WebSockets open, another upgrade
// gets 503 while /healthz, /status and /metrics still answer, and /metrics counts
// the refusal.
func TestMonitoringAtCapacity(t *testing.T) {
	const capacity = 2
	cfg := enginetest.Config()
	cfg.Listen, cfg.MaxConnections = "127.0.0.1:0", capacity
	w, err := engine.New(cfg, engine.Echo{})
	if err != nil {
		t.Fatal(err)
	}
	w.Handle("GET /metrics", metrics.New(metrics.Sources{Worker: w}).Handler())
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	for range capacity {
		dialWS(t, w, nil)
	}
	enginetest.Eventually(t, 5*time.Second, "2 connections", func() bool { return w.Conns() == 2 })
	if status, _ := rawRequest(t, w, upgradeWith("")); status != "HTTP/1.1 503 Service Unavailable" {
		t.Fatalf("an upgrade at capacity: %q", status)
	}
	for _, path := range []string{"/healthz", "/status", "/metrics"} {
		resp, err := http.Get("http://" + w.Addr().String() + path)
		if err != nil {
			t.Fatalf("%s at capacity: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s at capacity: %d", path, resp.StatusCode)
		}
		if path == "/metrics" {
			for _, want := range []string{`chatd_limits_hit_total{kind="connections"} 1`, "chatd_connections 2", "go_goroutines "} {
				if !strings.Contains(string(body), want) {
					t.Errorf("/metrics at capacity has no %q", want)
				}
			}
		}
	}
}
