package engine_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
	"github.com/gorilla/websocket"
)

// remoteRecorder sends every WebSocket handshake's RemoteAddr to seen.
type remoteRecorder struct {
	engine.NopHandler
	seen chan string
}

func (h remoteRecorder) OnWebSocketConnect(_ *engine.Conn, r *engine.Request) { h.seen <- r.RemoteAddr }

// TestTrustedProxyForwardedFor: on a real socket, a WebSocket handshake and an HTTP
// route see the client X-Forwarded-For names when the peer (127.0.0.1 here) is a
// trusted proxy, and the peer itself when it is not.
func TestTrustedProxyForwardedFor(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted []string
		want    string // "" is the peer's own 127.0.0.1:port
	}{
		{"trusted", []string{"127.0.0.0/8"}, "203.0.113.9"},
		{"not trusted", []string{"10.0.0.0/8"}, ""},
		{"no proxies", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := remoteRecorder{seen: make(chan string, 1)}
			cfg := enginetest.Config()
			cfg.Listen, cfg.TrustedProxies = "127.0.0.1:0", c.trusted
			w, err := engine.New(cfg, h)
			if err != nil {
				t.Fatal(err)
			}
			w.Handle("GET /whoami", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(rw, r.RemoteAddr) }))
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(w.Stop)
			header := http.Header{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9"}}
			ws, _, err := websocket.DefaultDialer.Dial("ws://"+w.Addr().String()+"/", header)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			checkRemote(t, "WebSocket", <-h.seen, c.want)
			req, _ := http.NewRequest("GET", "http://"+w.Addr().String()+"/whoami", nil)
			req.Header = header
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkRemote(t, "HTTP", string(body), c.want)
		})
	}
}

// checkRemote: got is want, or with want "" the peer's own 127.0.0.1:port.
func checkRemote(t *testing.T, what, got, want string) {
	t.Helper()
	if want == "" && !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("%s: RemoteAddr %q, want the peer's own 127.0.0.1:port", what, got)
	}
	if want != "" && got != want {
		t.Errorf("%s: RemoteAddr %q, want %q", what, got, want)
	}
}
