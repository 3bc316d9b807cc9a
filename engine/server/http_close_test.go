package server_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// TestConnectionCloseNeverKillsTheNextConnection: POSTs, each on a connection of its
// own that the server closes after its response ("Connection: close"), all answered
// in full. nbio closed such a socket on the handler's goroutine, and a hang-up event
// its poller still held for that descriptor then closed the next connection accepted
// on the same number: a POST got EOF in one run in two (see nbiofix.Shutdown).
func TestConnectionCloseNeverKillsTheNextConnection(t *testing.T) {
	s, err := server.New(chattest.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Worker.Handle("POST /echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	body := bytes.Repeat([]byte("x"), 15_000) // a few reads: the client is still sending as the last one ends
	for i := range 600 {
		res, err := client.Post("http://"+s.Worker.Addr().String()+"/echo", "text/plain", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("request %d: %d of %d bytes back, %v", i, len(got), len(body), err)
		}
	}
}
