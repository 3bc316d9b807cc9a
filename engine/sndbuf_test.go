package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// TestSocketSendBufferBoundsWhatTheKernelTakes: the kernel's send buffer of a
// WebSocket is --socket-send-buffer (Linux holds twice it), so what a peer that never
// reads is sent stays counted in the engine's write budget instead of filling kernel
// memory no budget sees (the kernel's autotuning took up to 4 MiB a socket).
func TestSocketSendBufferBoundsWhatTheKernelTakes(t *testing.T) {
	const (
		messages = 96
		size     = 32 << 10
		total    = messages * (size + 4) // each echo's frame: a 4-byte header
		slack    = 64 << 10              // the peer's 4 KB window and the kernel's rounding
	)
	for _, sndbuf := range []int{64 << 10, 256 << 10} {
		t.Run(itoa(sndbuf>>10)+"KiB", func(t *testing.T) {
			w := startEchoConfig(t, func(c *engine.Config) {
				c.MaxWriteBuffer, c.MaxTotalWriteBuffer, c.SocketSendBuffer = 64<<20, 1<<30, sndbuf
			})
			conn := nonReader(t, w)
			frame := msg(engine.OpBinary, strings.Repeat("s", size))
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			for range messages {
				if _, err := conn.Write(frame); err != nil {
					t.Fatal(err)
				}
			}
			enginetest.Eventually(t, 10*time.Second, "every message echoed", func() bool {
				st := w.Status()
				return st.MessagesIn == messages && st.FramesOut == messages
			})
			held := steadyWriteBuffered(w)
			if taken := int64(total) - held; taken > int64(2*sndbuf+slack) {
				t.Fatalf("the kernel took %d bytes (held %d of %d), more than twice --socket-send-buffer %d", taken, held, total, sndbuf)
			}
		})
	}
}

// steadyWriteBuffered is what w holds unsent once two reads 100 ms apart agree (at
// most 5 s): a batch is written after its frames are counted, and the socket's
// written-size reports come after the writes.
func steadyWriteBuffered(w *engine.Worker) int64 {
	last := w.WriteBuffered()
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		now := w.WriteBuffered()
		if now == last {
			return now
		}
		last = now
	}
	return last
}
