package engine_test

import (
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// sharingHandler shares one payload and hands every message to the test.
type sharingHandler struct {
	engine.NopHandler
	shared []byte
	got    chan engine.Message
}

func (h *sharingHandler) SharedMessages() [][]byte                   { return [][]byte{h.shared} }
func (h *sharingHandler) OnMessage(_ *engine.Conn, m engine.Message) { h.got <- m }

// TestSharedMessagesAreNotCopied: a message whose payload is one the handler shares
// arrives as that very slice, capped at its length, from every connection; one in
// fragments, or any other payload, is the message's own copy, intact after the read
// that brought it (and the next frame in the same read) was unmasked in place.
func TestSharedMessagesAreNotCopied(t *testing.T) {
	h := &sharingHandler{shared: []byte(`{"action":"Pong"}`), got: make(chan engine.Message, 16)}
	cfg := enginetest.Config()
	cfg.Listen = "127.0.0.1:0"
	w, err := engine.New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	pong := string(h.shared)
	cases := []struct {
		name   string
		frames []byte
		want   []string
		shared []bool
	}{
		{"whole", msg(engine.OpText, pong), []string{pong}, []bool{true}},
		{"another connection", msg(engine.OpText, pong), []string{pong}, []bool{true}},
		{"binary", msg(engine.OpBinary, pong), []string{pong}, []bool{true}},
		{"one byte more", msg(engine.OpText, pong+" "), []string{pong + " "}, []bool{false}},
		{"one byte less", msg(engine.OpText, pong[1:]), []string{pong[1:]}, []bool{false}},
		{"in fragments", cat(frame(false, engine.OpText, []byte(pong[:5])), frame(true, 0, []byte(pong[5:]))), []string{pong}, []bool{false}},
		{"two in one read", cat(msg(engine.OpText, "hello"), msg(engine.OpText, pong)), []string{"hello", pong}, []bool{false, true}},
	}
	for _, tc := range cases {
		dialWS(t, w, tc.frames)
		for i, want := range tc.want {
			var m engine.Message
			select {
			case m = <-h.got:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: message %d never arrived", tc.name, i)
			}
			isShared := len(m.Data) > 0 && &m.Data[0] == &h.shared[0]
			if string(m.Data) != want || isShared != tc.shared[i] {
				t.Errorf("%s: message %d is %q, shared %v; want %q, shared %v", tc.name, i, m.Data, isShared, want, tc.shared[i])
			}
			if isShared && cap(m.Data) != len(m.Data) {
				t.Errorf("%s: the shared slice has room to append into (cap %d)", tc.name, cap(m.Data))
			}
		}
	}
}
