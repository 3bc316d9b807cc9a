package engine_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// With several writers, every connection still gets each batch's frames in one write,
// in order, and a failed write still closes its connection on the owner.
func TestParallelFlushKeepsOrderAndErrors(t *testing.T) {
	cfg := enginetest.Config()
	cfg.Writers = 4
	h := enginetest.Start(t, cfg, engine.NopHandler{})
	const n, broken, batches = 1000, 777, 5
	peers := make([]*enginetest.Peer, n)
	for i := range peers {
		peers[i] = h.Attach(nil, false)
	}
	h.Sync()
	peers[broken].Break()
	for b := range batches {
		h.Do(func() {
			for i, p := range peers {
				p.Conn.SendText(fmt.Appendf(nil, "%d:%d,", b, i))
				p.Conn.SendText(fmt.Appendf(nil, "%d:%d.", b, i))
			}
		})
	}
	h.Do(func() {
		for i, p := range peers {
			if i == broken {
				if p.Writes() != 0 || !p.Conn.Closing() {
					t.Errorf("broken conn: %d writes, closing %v; want 0 writes and closing", p.Writes(), p.Conn.Closing())
				}
				continue
			}
			var want []string
			for b := range batches {
				want = append(want, fmt.Sprintf("%d:%d,", b, i), fmt.Sprintf("%d:%d.", b, i))
			}
			var got []string
			for _, f := range p.Frames() {
				got = append(got, string(f.Payload))
			}
			if p.Writes() != batches || !slices.Equal(got, want) {
				t.Fatalf("conn %d: %d writes of %q; want %d writes of %q", i, p.Writes(), got, batches, want)
			}
			if engine.HasPendingBuffer(p.Conn) || p.Conn.Closing() {
				t.Fatalf("conn %d: pending buffer kept or closing after a good write", i)
			}
		}
		if n := engine.DirtyConns(h.W); n != 0 {
			t.Fatalf("dirty list not emptied: %d", n)
		}
	})
}
