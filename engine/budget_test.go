package engine_test

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// startEchoBudget runs the echo worker with a per-connection and a total write cap.
func startEchoBudget(t *testing.T, perConn, total int) *engine.Worker {
	t.Helper()
	return startEchoConfig(t, func(c *engine.Config) { c.MaxWriteBuffer, c.MaxTotalWriteBuffer = perConn, total })
}

// nonReader upgrades a socket with a tiny receive window and never reads from it.
func nonReader(t *testing.T, w *engine.Worker) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", w.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte(upgradeRequest)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// flood writes n copies of frame to each conn (until the server cuts it) while it
// samples what the worker holds unsent, until until holds; it returns the peak.
func flood(t *testing.T, w *engine.Worker, conns []net.Conn, frame []byte, n int, until func() bool) int64 {
	t.Helper()
	for _, c := range conns {
		go func() {
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			for range n {
				if _, err := c.Write(frame); err != nil {
					return // cut: the server closed it
				}
			}
		}()
	}
	var peak int64
	enginetest.Eventually(t, 20*time.Second, "the flood's end", func() bool {
		for range 100 {
			peak = max(peak, w.WriteBuffered())
			time.Sleep(50 * time.Microsecond)
		}
		return until()
	})
	return peak
}

// TestSlowConsumersAreCutWithinTheirBudget: clients that send but never read get
// their echoes queued until their --max-write-buffer is full, then are cut with
// 4001; all the while the worker holds at most their caps (plus a quarter), a
// reading client is served, and once they are gone nothing is held.
func TestSlowConsumersAreCutWithinTheirBudget(t *testing.T) {
	const perConn, n = 256 << 10, 10
	w := startEchoBudget(t, perConn, 1<<30)
	var slow []net.Conn
	for range n {
		slow = append(slow, nonReader(t, w))
	}
	peak := flood(t, w, slow, msg(engine.OpBinary, string(bytes.Repeat([]byte("s"), 16<<10))), 1000, func() bool {
		return w.Status().Closes["slow consumer: write buffer full"] == n
	})
	t.Logf("peak %d bytes held with %d non-readers", peak, n)
	if limit := int64(n * perConn * 5 / 4); peak > limit {
		t.Errorf("held %d bytes unsent at the peak, want at most %d", peak, limit)
	}
	enginetest.Eventually(t, 5*time.Second, "nothing held", func() bool { return w.Status().WriteBuffered == 0 })
	_, r2 := dialWS(t, w, msg(engine.OpText, "still here"))
	expectFrames(t, r2, []want{text("still here")})
}

// TestTotalBudgetCutsTheBiggestHolders: past --max-total-write-buffer the biggest
// holders are cut, though each is within its own cap.
func TestTotalBudgetCutsTheBiggestHolders(t *testing.T) {
	const perConn, total, n = 1 << 20, 1 << 20, 6
	w := startEchoBudget(t, perConn, total)
	var slow []net.Conn
	for range n {
		slow = append(slow, nonReader(t, w))
	}
	peak := flood(t, w, slow, msg(engine.OpBinary, string(bytes.Repeat([]byte("t"), 16<<10))), 1000, func() bool {
		return w.Status().Closes["slow consumer: write buffer full"] == n
	})
	t.Logf("peak %d bytes held with %d non-readers", peak, n)
	if peak > 2*total {
		t.Errorf("held %d bytes at the peak, want about --max-total-write-buffer (%d)", peak, total)
	}
}

// TestPingFloodWithoutReadingIsBounded: a client that pings without reading is cut
// (1008 past --max-pings-per-second), and its pongs never pile up.
func TestPingFloodWithoutReadingIsBounded(t *testing.T) {
	w := startEchoBudget(t, 64<<10, 1<<30)
	c := nonReader(t, w)
	peak := flood(t, w, []net.Conn{c}, msg(engine.OpPing, string(bytes.Repeat([]byte("p"), 125))), 2000, func() bool {
		return w.Status().Closes["policy violation"] == 1
	})
	if peak > 64<<10 {
		t.Errorf("held %d bytes of pongs, want at most the cap", peak)
	}
}
