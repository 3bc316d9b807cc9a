package engine_test

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// TestReadHandsItsFramesTogether: the frames of one read reach the owner together
// (a few batches of up to 64, not a lock and a wake-up per frame), in order, and a
// violation after them still closes the connection only after they were handled.
func TestReadHandsItsFramesTogether(t *testing.T) {
	const n = 640
	var batches atomic.Int64
	cfg := enginetest.Config()
	cfg.Listen = "127.0.0.1:0"
	w, err := engine.New(cfg, engine.Echo{})
	if err != nil {
		t.Fatal(err)
	}
	w.ObserveBatches(func(time.Duration) { batches.Add(1) })
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	var many [][]byte
	var wants []want
	for i := range n {
		many = append(many, msg(engine.OpText, itoa(i)))
		wants = append(wants, text(itoa(i)))
	}
	t.Run("many frames in one write", func(t *testing.T) {
		conn, r := dialWS(t, w, nil)
		enginetest.Eventually(t, 5*time.Second, "the connection open", func() bool { return w.Conns() == 1 })
		before := batches.Load()
		if _, err := conn.Write(bytes.Join(many, nil)); err != nil {
			t.Fatal(err)
		}
		expectFrames(t, r, wants)
		// 640 frames are 10 posts of 64 per read; a read split in two adds one or two.
		if got := batches.Load() - before; got > 2*n/64 {
			t.Fatalf("%d frames in one write took %d owner batches, want at most %d", n, got, 2*n/64)
		}
	})
	t.Run("frames then a violation in one write", func(t *testing.T) {
		_, r := dialWS(t, w, cat(bytes.Join(many[:100], nil), withBits(msg(engine.OpText, "bad"), 0x40)))
		expectFrames(t, r, append(wants[:100:100], closed(1002)))
	})
}
