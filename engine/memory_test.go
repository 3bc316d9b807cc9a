package engine

import (
	"io"
	"log/slog"
	"net"
	"runtime/metrics"
	"testing"
	"time"
)

var sink [][]byte

// startReleasing runs the echo worker checking its memory every 20 ms, with gap
// checks between releases that a cut or close does not cut short (0: the default).
func startReleasing(t *testing.T, gap int) *Worker {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.MaxWriteBuffer = 64 << 20 // the non-reader below is closed, never cut
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := New(cfg, Echo{})
	if err != nil {
		t.Fatal(err)
	}
	w.releaseEvery, w.releaseGap = 20*time.Millisecond, gap
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// burst leaves n MiB of garbage behind, which no GC has collected yet.
func burst(n int) {
	for range n {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
}

// waitRelease waits up to 5 s for a release after the first `after`.
func waitRelease(t *testing.T, w *Worker, after uint64, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.stats.memoryReleases.Load() == after && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if w.stats.memoryReleases.Load() == after {
		t.Fatalf("no release within 5s %s", what)
	}
}

// A connection that goes away holding megabytes its client never read (closed, not
// cut: here its client reset it, as the ping timeout closes non-readers whose
// kernel buffers took most of their traffic) has the memory it held handed back at
// once, not after the spacing between two releases (here: never).
func TestClosedBackedUpConnectionReleasesAtOnce(t *testing.T) {
	w := startReleasing(t, 1<<30)
	burst(16)
	waitRelease(t, w, 0, "of the first burst") // the one release the spacing allows

	conn, err := net.Dial("tcp", w.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	echo := clientFrame(true, OpBinary, make([]byte, 64<<10))
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	for w.WriteBuffered() < 2*cutReleaseBytes { // its echoes, unread, past what the kernel took
		if _, err := conn.Write(echo); err != nil {
			t.Fatalf("flood: %v (holding %d)", err, w.WriteBuffered())
		}
	}
	releases := w.stats.memoryReleases.Load()
	_ = conn.(*net.TCPConn).SetLinger(0)
	conn.Close() // a reset: the server closes its side at once
	burst(16)
	waitRelease(t, w, releases, "of a connection closed holding 2 MiB")
}

// After a burst leaves lots of freed heap behind, the worker hands it back to the OS
// by itself instead of keeping the burst's peak as its resident size.
func TestFreedHeapIsReleasedAfterABurst(t *testing.T) {
	w := startReleasing(t, 0)
	w.Call(func() { // what a storm leaves in the owner's free list
		for w.loop.freeBytes+maxKeptBuffer <= maxFreeBytes {
			w.loop.putBuffer(make([]byte, 0, maxKeptBuffer))
		}
	})

	// What the heap holds (live, garbage and free but not handed back) before the burst.
	held := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	heldNow := func() uint64 { metrics.Read(held); return held[0].Value.Uint64() + held[1].Value.Uint64() }
	before := heldNow()
	burst(96) // garbage now, but no GC has run: an idle server would not run one either
	// A check may find the burst calm while it still runs (a slow, shared machine) and
	// release what was free then: the release that counts comes after the burst.
	during := w.stats.memoryReleases.Load()

	waitRelease(t, w, during, "of a 96 MiB burst")
	// Measured as what the heap still holds rather than what the runtime counts as
	// released: in a second run in one process, the burst reuses pages released by the
	// first, so "released" need not grow.
	if after := heldNow(); after > before+32<<20 {
		t.Fatalf("the heap holds %d bytes after the release, %d before the 96 MiB burst: want at most 32 MiB more", after, before)
	}
	var kept int
	w.Call(func() { kept = w.loop.freeBytes + len(w.loop.buffers) })
	if kept != 0 {
		t.Fatalf("the free list still holds %d bytes after the release", kept)
	}
}
