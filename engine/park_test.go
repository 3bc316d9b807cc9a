package engine_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// TestParkedFramesArriveInOrder: a client that stops reading gets its frames parked
// once its socket backs up; when it reads again every frame arrives, in order, and
// nothing stays held or parked.
func TestParkedFramesArriveInOrder(t *testing.T) {
	const n = 20000
	w := startEchoBudget(t, 64<<20, 1<<30)
	conn, r := dialWS(t, w, nil) // it reads nothing until the server has read everything
	pad := strings.Repeat("p", 1<<10)
	for i := range n {
		if _, err := conn.Write(msg(engine.OpText, itoa(i)+pad)); err != nil {
			t.Fatal(err)
		}
	}
	enginetest.Eventually(t, 10*time.Second, "every message read by the server", func() bool {
		return w.Status().MessagesIn == n
	})
	t.Logf("held %d bytes, %d of them parked", w.WriteBuffered(), engine.ParkedBytes(w))
	if engine.ParkedBytes(w) == 0 {
		t.Fatal("nothing parked: the socket never backed up, so the test proves nothing")
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := range n {
		op, p := readFrameOrFail(r)
		if op != engine.OpText || string(p) != itoa(i)+pad {
			t.Fatalf("frame %d: got op %#x %q (held %d parked %d)", i, op, short(p), w.WriteBuffered(), engine.ParkedBytes(w))
		}
	}
	enginetest.Eventually(t, 5*time.Second, "nothing held or parked", func() bool {
		return w.WriteBuffered() == 0 && engine.ParkedBytes(w) == 0
	})
}

func readFrameOrFail(r io.Reader) (byte, []byte) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, []byte(err.Error())
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		io.ReadFull(r, e[:])
		n = int(e[0])<<8 | int(e[1])
	case 127:
		var e [8]byte
		io.ReadFull(r, e[:])
		n = int(e[6])<<8 | int(e[7])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, []byte(err.Error())
	}
	return h[0] & 0xf, p
}

// greeter sends a frame the moment a connection opens, before the session that
// accepted it may have returned.
type greeter struct{ engine.NopHandler }

func (greeter) OnWebSocketConnect(c *engine.Conn, _ *engine.Request) { c.SendText([]byte("hello")) }

// TestGreetingsLeaveNothingCounted: what the owner writes at once to a new
// connection is reported written like everything else, so nothing stays counted as
// unsent (a frame counted but never reported made every later frame wait for a drain
// that never came).
func TestGreetingsLeaveNothingCounted(t *testing.T) {
	cfg := enginetest.Config()
	cfg.Listen = "127.0.0.1:0"
	w, err := engine.New(cfg, greeter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	for range 50 {
		_, r := dialWS(t, w, nil)
		expectFrames(t, r, []want{text("hello")})
	}
	enginetest.Eventually(t, 5*time.Second, "nothing counted as unsent", func() bool { return w.WriteBuffered() == 0 })
}

// replayer sends the same frames (built once) to every connection the moment it
// opens, as a login's replay does.
type replayer struct {
	engine.NopHandler
	frames [][]byte
}

func (r replayer) OnWebSocketConnect(c *engine.Conn, _ *engine.Request) {
	for _, f := range r.frames {
		c.SendFrame(f)
	}
}

// TestBigBatchParksByReference: one batch writes at most 64 KiB to a connection and
// parks the rest of its frames by reference, so clients that never read hold about a
// batch each in nbio's write caches, not what the kernel did not take of the 6 MB
// sent to each (it queues up to tcp_wmem's 4 MB), and a client that reads gets all
// 2,000 frames in order.
func TestBigBatchParksByReference(t *testing.T) {
	frames := make([][]byte, 2000)
	for i := range frames {
		frames[i] = engine.AppendFrame(nil, engine.OpText, []byte(fmt.Sprintf("%03d%s", i, strings.Repeat("x", 3000))))
	}
	cfg := enginetest.Config()
	cfg.Listen, cfg.MaxWriteBuffer, cfg.MaxTotalWriteBuffer = "127.0.0.1:0", 64<<20, 1<<30
	w, err := engine.New(cfg, replayer{frames: frames})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	const nonReaders = 4
	for range nonReaders {
		nonReader(t, w)
	}
	enginetest.Eventually(t, 5*time.Second, "the non-readers' frames parked", func() bool {
		return engine.ParkedBytes(w) > nonReaders*1_000_000
	})
	held := w.WriteBuffered() - engine.ParkedBytes(w)
	if limit := int64(nonReaders * (64<<10 + len(frames[0]))); held > limit {
		t.Fatalf("nbio holds %d bytes for %d non-readers, want at most %d (a batch each)", held, nonReaders, limit)
	}
	conn, r := dialWS(t, w, nil)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range frames {
		if op, p := readFrameOrFail(r); op != engine.OpText || !strings.HasPrefix(string(p), fmt.Sprintf("%03d", i)) {
			t.Fatalf("frame %d: got op %#x %q", i, op, short(p))
		}
	}
}
