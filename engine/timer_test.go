package engine_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
)

// timerHandler adds its timers in OnWorkerStart, as a Workerman worker would.
type timerHandler struct {
	engine.NopHandler
	repeats, once, deleted atomic.Int32
}

func (h *timerHandler) OnWorkerStart(w *engine.Worker) {
	w.AddTimer(10*time.Millisecond, func() { h.repeats.Add(1) })
	w.AddTimerOnce(10*time.Millisecond, func() { h.once.Add(1) })
	id := w.AddTimer(10*time.Millisecond, func() { h.deleted.Add(1) })
	w.DelTimer(id)
}

func TestTimers(t *testing.T) {
	h := &timerHandler{}
	enginetest.Start(t, enginetest.Config(), h)
	enginetest.Eventually(t, 5*time.Second, "5 repeats", func() bool { return h.repeats.Load() >= 5 })
	if h.once.Load() != 1 || h.deleted.Load() != 0 {
		t.Fatalf("once ran %d times (want 1), deleted timer ran %d times (want 0)", h.once.Load(), h.deleted.Load())
	}
}
