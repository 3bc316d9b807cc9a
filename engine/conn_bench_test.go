package engine

import (
	"testing"
	"time"
)

type discard struct{ writes int }

func (d *discard) Write(b []byte) (int, error)     { d.writes++; return len(b), nil }
func (d *discard) Close() error                    { return nil }
func (d *discard) SetReadDeadline(time.Time) error { return nil }

// BenchmarkFanOut1000: one framed message to 1,000 connections through the owner's
// buffered path (append to each pending buffer, then one write per connection).
func BenchmarkFanOut1000(b *testing.B) {
	w := &Worker{loop: newLoop()}
	conns := make([]*Conn, 1000)
	for i := range conns {
		conns[i] = &Conn{id: uint64(i + 1), t: &discard{}, w: w}
	}
	frame := AppendFrame(nil, OpText, []byte(`{"action":"PublicMessage","userId":12345,"userName":"Вася Пупкин","gender":1,"userColor":"#34495e","text":"Привет, <b>Вася</b>! How are you &lt;3","toUserId":0}`))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame) * len(conns)))
	for b.Loop() {
		for _, c := range conns {
			c.SendFrame(frame)
		}
		w.loop.flush()
	}
}

func TestFlushCoalescesFrames(t *testing.T) {
	w := &Worker{loop: newLoop()}
	d := &discard{}
	c := &Conn{id: 1, t: d, w: w}
	for range 5 {
		c.SendText([]byte(`{"action":"Ping"}`))
	}
	w.loop.flush()
	if d.writes != 1 {
		t.Fatalf("5 frames in one batch took %d writes, want 1", d.writes)
	}
	if c.out != nil {
		t.Fatal("an idle connection kept its pending buffer")
	}
}
