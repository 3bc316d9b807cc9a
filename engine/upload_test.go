package engine_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// startUploads runs an echo worker with one upload route, POST /up, that takes bodies
// of up to 1,000 bytes and answers with their length, within an upload buffer of
// 2,500 bytes for all uploads together.
func startUploads(t *testing.T) *engine.Worker {
	t.Helper()
	cfg := enginetest.Config()
	cfg.Listen, cfg.MaxUploadBuffer = "127.0.0.1:0", 2500
	w, err := engine.New(cfg, engine.Echo{})
	if err != nil {
		t.Fatal(err)
	}
	w.HandleUpload("POST /up", 1000, `{"error":"file_too_large"}`, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(rw, "%d", len(b))
	}))
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// uploadHead is the head of a POST /up whose body is n bytes long.
func uploadHead(n int) string {
	return fmt.Sprintf("POST /up?roomId=x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", n)
}

// answer reads one whole answer from r: the status line and the body, and whether
// the server closed the connection after it.
func answer(t *testing.T, conn net.Conn) (status, body string, closed bool) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	_, err = conn.Read(make([]byte, 1))
	return res.Status, string(b), err != nil
}

// dialRaw writes data to w on a fresh socket.
func dialRaw(t *testing.T, w *engine.Worker, data string) net.Conn { return dialFrom(t, w, "", data) }

// TestUploadRoutes: an upload route takes bodies up to its own cap (plain routes take
// 64 KiB), answers a bigger Content-Length 413 with its JSON before the body
// is sent, closes the connection after every answer, and ignores what a client sends
// after an upload on the same connection.
func TestUploadRoutes(t *testing.T) {
	w := startUploads(t)
	conn := dialRaw(t, w, uploadHead(1000)+strings.Repeat("a", 1000)+"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if status, body, closed := answer(t, conn); status != "200 OK" || body != "1000" || !closed {
		t.Fatalf("a 1,000-byte upload: %s %q closed %v", status, body, closed)
	}
	conn = dialRaw(t, w, uploadHead(1001)) // the head alone: the answer comes first
	if status, body, closed := answer(t, conn); status != "413 Request Entity Too Large" || body != `{"error":"file_too_large"}` || !closed {
		t.Fatalf("a 1,001-byte upload: %s %q closed %v", status, body, closed)
	}
	conn = dialRaw(t, w, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n")
	if status, _, closed := answer(t, conn); status != "413 Request Entity Too Large" || !closed {
		t.Fatalf("70,000 bytes to a plain route: %s closed %v", status, closed)
	}
}

// TestUploadBufferIsShared: uploads that have sent their heads hold their bodies'
// bytes of --max-upload-buffer until their connections close, whether or not the
// bodies ever come. One address may hold a share of it (here one body of 1,000 bytes):
// its next upload gets 503 busy while another address's is admitted, and one that
// closed gives its share back.
func TestUploadBufferIsShared(t *testing.T) {
	w := startUploads(t)
	stalled := dialRaw(t, w, uploadHead(1000)+"only part of it")
	enginetest.Eventually(t, 5*time.Second, "the same address's next upload refused with 503", func() bool {
		conn := dialRaw(t, w, uploadHead(10))
		status, body, _ := answer(t, conn)
		return status == "503 Service Unavailable" && strings.Contains(body, `"error":"busy"`)
	})
	other := dialFrom(t, w, "127.0.0.2", uploadHead(10)+"0123456789")
	if status, body, _ := answer(t, other); status != "200 OK" || body != "10" {
		t.Fatalf("another address's upload: %s %q", status, body)
	}
	stalled.Close()
	enginetest.Eventually(t, 5*time.Second, "an upload admitted once the stalled one closed", func() bool {
		conn := dialRaw(t, w, uploadHead(10)+"0123456789")
		status, body, _ := answer(t, conn)
		return status == "200 OK" && body == "10"
	})
	for _, l := range w.Counters().Limits {
		if l.Label == "upload_buffer" && l.N == 0 || l.Label == "connections" && l.N != 0 {
			t.Errorf("limit %s counted %d", l.Label, l.N)
		}
	}
}

// dialFrom writes data to w on a fresh socket from the local address ip (any
// 127.x.y.z works on Linux; "" is any).
func dialFrom(t *testing.T, w *engine.Worker, ip, data string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	conn, err := d.Dial("tcp", w.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	return conn
}
