package engine

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// recording keeps every byte written to it; it fails writes when broken.
type recording struct {
	mu     sync.Mutex
	got    bytes.Buffer
	writes int
	broken bool
}

func (r *recording) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.broken {
		return 0, errors.New("broken pipe")
	}
	r.writes++
	return r.got.Write(b)
}
func (r *recording) Close() error                    { return nil }
func (r *recording) SetReadDeadline(time.Time) error { return nil }

// With several writers, every connection still gets each batch's frames in one write,
// in order, and a failed write still closes its connection on the owner.
func TestParallelFlushKeepsOrderAndErrors(t *testing.T) {
	w := &Worker{loop: newLoop()}
	w.loop.writers = newWriters(4)
	defer w.loop.writers.stop()
	const n = 1000
	conns := make([]*Conn, n)
	ts := make([]*recording, n)
	for i := range conns {
		ts[i] = &recording{broken: i == 777}
		conns[i] = &Conn{id: uint64(i + 1), t: ts[i], w: w}
	}
	const batches = 5
	for b := range batches {
		for i, c := range conns {
			c.SendText(fmt.Appendf(nil, "%d:%d,", b, i))
			c.SendText(fmt.Appendf(nil, "%d:%d.", b, i))
		}
		w.loop.flush()
	}
	for i, r := range ts {
		if i == 777 {
			if r.writes != 0 || !conns[i].Closing() {
				t.Fatalf("broken conn: %d writes, closing %v; want 0 writes and closing", r.writes, conns[i].Closing())
			}
			continue
		}
		var want []byte
		for b := range batches {
			want = AppendFrame(want, OpText, fmt.Appendf(nil, "%d:%d,", b, i))
			want = AppendFrame(want, OpText, fmt.Appendf(nil, "%d:%d.", b, i))
		}
		if r.writes != batches || !bytes.Equal(r.got.Bytes(), want) {
			t.Fatalf("conn %d: %d writes of %q; want %d writes of %q", i, r.writes, r.got.Bytes(), batches, want)
		}
		if conns[i].out != nil || conns[i].Closing() {
			t.Fatalf("conn %d: pending buffer kept or closing after a good write", i)
		}
	}
	if len(w.loop.dirty) != 0 {
		t.Fatalf("dirty list not emptied: %d", len(w.loop.dirty))
	}
}
