package engine_test

import (
	"testing"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// BenchmarkFanOut1000: one framed message to 1,000 connections through the owner's
// buffered path (append to each pending buffer, then one write per connection), with
// an owner round trip per message.
func BenchmarkFanOut1000(b *testing.B) {
	h := enginetest.Start(b, enginetest.Config(), engine.NopHandler{})
	conns := make([]*engine.Conn, 1000)
	for i := range conns {
		conns[i] = h.Attach(nil, true).Conn
	}
	h.Sync()
	frame := engine.AppendFrame(nil, engine.OpText, []byte(`{"action":"PublicMessage","userId":12345,"userName":"Вася Пупкин","gender":1,"userColor":"#34495e","text":"Привет, <b>Вася</b>! How are you &lt;3","toUserId":0}`))
	send := func() {
		for _, c := range conns {
			c.SendFrame(frame)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame) * len(conns)))
	for b.Loop() {
		h.Do(send)
	}
}

func TestFlushCoalescesFrames(t *testing.T) {
	h := enginetest.Start(t, enginetest.Config(), engine.NopHandler{})
	p := h.Connect(nil)
	h.Do(func() {
		for range 5 {
			p.Conn.SendText([]byte(`{"action":"Ping"}`))
		}
	})
	if p.Writes() != 1 || len(p.Frames()) != 5 {
		t.Fatalf("5 frames in one batch took %d writes (%d frames), want 1", p.Writes(), len(p.Frames()))
	}
	h.Do(func() {
		if engine.HasPendingBuffer(p.Conn) {
			t.Error("an idle connection kept its pending buffer")
		}
	})
}
