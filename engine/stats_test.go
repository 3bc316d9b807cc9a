package engine_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// TestCountersCountLimitsAndCloses: each limit the engine enforces is counted under
// its kind, and each close under its code, a code nobody defined under "other".
func TestCountersCountLimitsAndCloses(t *testing.T) {
	w := startEchoConfig(t, func(c *engine.Config) { c.MaxMessageBytes, c.MaxPingsPerSecond = 128, 2 })
	dialWS(t, w, msg(engine.OpText, strings.Repeat("x", 200)))                         // message_bytes: 1009
	dialWS(t, w, bytes.Repeat(msg(engine.OpPing, "p"), 5))                             // pings: 1008
	dialWS(t, w, closeFrame(4777, "made up"))                                          // other
	rawRequest(t, w, upgradeWith(strings.Repeat("X-A: b\r\n", 101)))                   // header_bytes: 431
	rawRequest(t, w, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n") // body_bytes: 413

	wantLimits := map[string]uint64{"message_bytes": 1, "pings": 1, "header_bytes": 1, "body_bytes": 1, "connections": 0}
	wantCloses := map[int]uint64{1009: 1, 1008: 1, 0: 1}
	var got engine.Counters
	enginetest.Eventually(t, 5*time.Second, "the limits and closes counted", func() bool {
		got = w.Counters()
		limits := map[string]uint64{}
		for _, l := range got.Limits {
			limits[l.Label] = l.N
		}
		closes := map[int]uint64{}
		for _, c := range got.Closes {
			closes[c.Code] = c.N
		}
		for k, n := range wantLimits {
			if limits[k] != n {
				return false
			}
		}
		for code, n := range wantCloses {
			if closes[code] != n {
				return false
			}
		}
		return true
	})
	for _, c := range got.Closes {
		if c.Code == 0 && c.Name != "other" {
			t.Fatalf("an undefined code is counted as %q", c.Name)
		}
	}
}
