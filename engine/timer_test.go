package engine_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/chat/chattest"
)

// timerHandler adds its timers in OnWorkerStart, as a Workerman worker would.
type timerHandler struct {
	engine.NopHandler
	repeats, once, deleted atomic.Int32
	onOwner                atomic.Bool
}

func (h *timerHandler) OnWorkerStart(w *engine.Worker) {
	w.AddTimer(10*time.Millisecond, func() { h.repeats.Add(1) })
	w.AddTimerOnce(10*time.Millisecond, func() { h.once.Add(1) })
	id := w.AddTimer(10*time.Millisecond, func() { h.deleted.Add(1) })
	w.DelTimer(id)
}

func TestTimers(t *testing.T) {
	h := &timerHandler{}
	w, err := engine.New(engine.Config{Listen: "127.0.0.1:0"}, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	chattest.Eventually(t, 5*time.Second, "5 repeats", func() bool { return h.repeats.Load() >= 5 })
	if h.once.Load() != 1 || h.deleted.Load() != 0 {
		t.Fatalf("once ran %d times (want 1), deleted timer ran %d times (want 0)", h.once.Load(), h.deleted.Load())
	}
}

func TestConfigValidateNamesFlags(t *testing.T) {
	good := engine.Config{}.WithDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	tests := []struct {
		mutate func(*engine.Config)
		flag   string
	}{
		{func(c *engine.Config) { c.PingInterval = time.Millisecond }, "--ping-interval"},
		{func(c *engine.Config) { c.PingMaxMissed = 0 }, "--ping-max-missed"},
		{func(c *engine.Config) { c.MaxWriteBuffer = 1 }, "--max-write-buffer"},
		{func(c *engine.Config) { c.MaxMessageBytes = 10 }, "--max-message-bytes"},
		{func(c *engine.Config) { c.DefaultColor = "blue" }, "--default-color"},
		{func(c *engine.Config) { c.DefaultName = "<b>" }, "--default-name"},
		{func(c *engine.Config) { c.RateLimit = -1 }, "--rate-limit"},
		{func(c *engine.Config) { c.TLSKey = "k.pem" }, "--tls-cert"},
	}
	for _, tt := range tests {
		c := good
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.flag) {
			t.Errorf("want an error naming %s, got %v", tt.flag, err)
		}
	}
	if _, err := engine.New(engine.Config{PingMaxMissed: -3}, engine.Echo{}); err == nil {
		t.Error("New accepted an invalid config")
	}
}
