package engine

import (
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"
)

// RequireToken lets through the requests that carry "Authorization: Bearer token" and
// answers the others 401; with token "" it is h itself. The comparison takes the same
// time whatever the guess, so the token cannot be found a byte at a time.
func RequireToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			rw.Header().Set("WWW-Authenticate", `Bearer realm="chatd"`)
			http.Error(rw, "401 unauthorized: this needs --status-token as \"Authorization: Bearer TOKEN\"", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// RemoteHost is a request's or connection's peer address (host:port) without its
// port: what per-address limits count by (logins, uploads, upload memory).
func RemoteHost(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// BearerToken is the token of "Authorization: Bearer TOKEN" in h (the scheme in any
// case, RFC 7235), or "".
func BearerToken(h http.Header) string {
	v := h.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

// validToken reports whether token can travel in an Authorization header as it is.
func validToken(token string) bool {
	for i := range len(token) {
		if token[i] <= ' ' || token[i] > '~' {
			return false
		}
	}
	return true
}

func (w *Worker) serveHealth(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = rw.Write([]byte("ok\n"))
}

// Status is what GET /status answers, and what `chatd status` prints.
type Status struct {
	Version        string            `json:"version"`
	Pid            int               `json:"pid"`               // the serving process: start -d checks it is its own child
	Listen         string            `json:"listen"`            // the address bound (the real port when --listen asked for 0)
	DataDir        string            `json:"dataDir,omitempty"` // --data-dir, as given
	UptimeSeconds  float64           `json:"uptimeSeconds"`
	Connections    int64             `json:"connections"`
	Accepted       uint64            `json:"accepted"`
	HandshakeErrs  uint64            `json:"handshakeErrors"`
	MessagesIn     uint64            `json:"messagesIn"`
	FramesOut      uint64            `json:"framesOut"`
	Panics         uint64            `json:"panics"`
	MemoryReleases uint64            `json:"memoryReleases"`
	WriteBuffered  int64             `json:"writeBufferedBytes"` // unsent bytes all connections hold (--max-total-write-buffer)
	Closes         map[string]uint64 `json:"closes"`
	QueuedEvents   int               `json:"queuedEvents"`
	Goroutines     int               `json:"goroutines"`
	HeapAllocBytes uint64            `json:"heapAllocBytes"`
	HeapInuseBytes uint64            `json:"heapInuseBytes"`
	SysBytes       uint64            `json:"sysBytes"`
	NumGC          uint32            `json:"numGC"`
	Chat           map[string]any    `json:"chat,omitempty"`
}

// statusCallBudget is how long /status waits for the owner before it answers without
// the chat's figures: a stalled owner must not take monitoring down with it.
const statusCallBudget = 2 * time.Second

// WriteBuffered is how many bytes all connections hold unsent, handed to nbio or
// parked (see --max-total-write-buffer). Safe from any goroutine.
func (w *Worker) WriteBuffered() int64 { return w.held.Load() + w.parked.Load() }

// SetDataDir names the data dir /status reports (before Start); the engine itself
// keeps nothing on disk.
func (w *Worker) SetDataDir(dir string) { w.dataDir = dir }

func (w *Worker) listenAddr() string {
	if w.addr == nil {
		return w.cfg.Listen
	}
	return w.addr.String()
}

// Status collects the worker's figures. Safe from any goroutine but the owner.
func (w *Worker) Status() Status {
	m := memStats()
	s := Status{
		Version:        w.cfg.Version,
		Pid:            os.Getpid(),
		Listen:         w.listenAddr(),
		DataDir:        w.dataDir,
		UptimeSeconds:  time.Since(w.started).Seconds(),
		Connections:    w.stats.connections.Load(),
		Accepted:       w.stats.accepted.Load(),
		HandshakeErrs:  w.stats.handshakeErrors.Load(),
		MessagesIn:     w.stats.messagesIn.Load(),
		FramesOut:      w.stats.framesOut.Load(),
		Panics:         w.stats.panics.Load(),
		MemoryReleases: w.stats.memoryReleases.Load(),
		WriteBuffered:  w.WriteBuffered(),
		Closes:         w.stats.closesByName(),
		QueuedEvents:   w.loop.queued(),
		Goroutines:     runtime.NumGoroutine(),
		HeapAllocBytes: m.HeapAlloc,
		HeapInuseBytes: m.HeapInuse,
		SysBytes:       m.Sys,
		NumGC:          m.NumGC,
	}
	if r, ok := w.handler.(StatsReporter); ok {
		got := make(chan map[string]any, 1)
		w.Post(func() { got <- r.Stats() })
		select {
		case s.Chat = <-got:
		case <-time.After(statusCallBudget):
		}
	}
	return s
}

func (w *Worker) serveStatus(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	_ = enc.Encode(w.Status())
}

// httpHandlers bounds the goroutines that serve plain HTTP requests (nbhttp's default
// is 1,024 per CPU, one per request in flight): /status waits for the owner, so a
// burst of requests while the owner is busy made a goroutine each. Past the bound,
// requests queue.
const httpHandlers = 16
