// Package enginetest runs a Handler on a real Worker's owner loop and write path,
// with in-memory transports instead of sockets: the same batching, coalescing,
// writers and close sequence production runs, with every frame written kept for the
// test to read. Tests about sockets themselves (handshakes, RFC 6455, TLS) use real
// ones instead.
package enginetest

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
)

// Harness is a started Worker without a listener.
type Harness struct {
	W *engine.Worker
	t testing.TB
}

// Config is the engine configuration Start uses: the defaults, logging nowhere and
// no shutdown grace (an in-memory peer answers a close frame at once).
func Config() engine.Config {
	cfg := engine.DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.ShutdownGrace = 0
	return cfg
}

// Start runs h on a Worker with cfg (see Config) and stops it when the test ends.
func Start(t testing.TB, cfg engine.Config, h engine.Handler) *Harness {
	t.Helper()
	w, err := engine.New(cfg, h)
	if err != nil {
		t.Fatalf("enginetest: %v", err)
	}
	w.StartLocal()
	t.Cleanup(w.Stop)
	return &Harness{W: w, t: t}
}

// Connect attaches a peer that opened the WebSocket with query, and returns it once
// the owner has run OnConnect and OnWebSocketConnect and written their frames.
func (h *Harness) Connect(query url.Values) *Peer {
	p := h.Attach(query, false)
	h.Sync()
	return p
}

// Attach attaches a peer without waiting for the owner (Sync waits). A discarding
// peer only counts its writes, for benchmarks that would keep millions of frames.
func (h *Harness) Attach(query url.Values, discard bool) *Peer {
	p := &Peer{h: h, discard: discard}
	p.mu.Lock() // the owner may write (and read p.Conn) before Attach returns
	p.Conn = h.W.Attach(p, &engine.Request{Path: "/", Query: query, RemoteAddr: "memory"})
	p.mu.Unlock()
	return p
}

// Login is Connect with the seed's one query parameter, userName.
func (h *Harness) Login(name string) *Peer { return h.Connect(url.Values{"userName": {name}}) }

// Do runs fn on the owner, then waits until what it sent is written.
func (h *Harness) Do(fn func()) {
	h.W.Call(fn)
	h.Sync()
}

// Sync returns once every event posted before it has run and every frame it sent
// has been written: the second call lands in a later batch than the first, and the
// owner writes a batch's frames before it starts the next.
func (h *Harness) Sync() {
	h.W.Call(func() {})
	h.W.Call(func() {})
}

// JSON decodes a TEXT frame's payload, failing the test if it is not one object.
func (h *Harness) JSON(f Frame) map[string]any {
	h.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(f.Payload, &m); err != nil {
		h.t.Fatalf("enginetest: frame %q is not a JSON object: %v", f.Payload, err)
	}
	return m
}

// Eventually polls cond every 10 ms until it holds, failing the test after d.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
