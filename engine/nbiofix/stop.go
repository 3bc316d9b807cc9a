package nbiofix

import "time"

// PollerStartGrace is how long after its Start an nbio engine may be stopped safely.
//
// nbio v1.6.12: a poller goroutine clears its shutdown flag when its loop starts, so a
// Stop that comes before that is lost and the poller spins on its undrained wake-up fd
// forever (a core at 100%, Stop never returns). It hung a CI run of a test that starts
// and stops an engine at once; reproduced under CPU load within 300 iterations, gone
// with this wait. The real fix (set the flag before starting the goroutine) belongs
// upstream. nbio's Start hits the same race when its own listen fails (it stops the
// pollers it has just started), so engine.Worker.Start binds the listener itself first
// and a busy port fails before any poller exists.
const PollerStartGrace = 250 * time.Millisecond

// WaitPollersStarted sleeps until PollerStartGrace has passed since started, the time
// the engine was started. Call it right before stopping an nbio engine.
func WaitPollersStarted(started time.Time) {
	if d := PollerStartGrace - time.Since(started); d > 0 {
		time.Sleep(d)
	}
}
