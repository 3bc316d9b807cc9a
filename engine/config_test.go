package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
)

func TestConfigValidateNamesFlags(t *testing.T) {
	if err := engine.DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	tests := []struct {
		mutate func(*engine.Config)
		flag   string
	}{
		{func(c *engine.Config) { c.MaxWriteBuffer = 1 }, "--max-write-buffer"},
		{func(c *engine.Config) { c.MaxMessageBytes = 10 }, "--max-message-bytes"},
		{func(c *engine.Config) { c.MaxConnections = 0 }, "--max-connections"},
		{func(c *engine.Config) { c.HandshakeTimeout = 0 }, "--handshake-timeout"},
		{func(c *engine.Config) { c.ShutdownGrace = -time.Second }, "--shutdown-grace"},
		{func(c *engine.Config) { c.Writers = 257 }, "--writers"},
		{func(c *engine.Config) { c.TLSKey = "k.pem" }, "--tls-cert"},
	}
	for _, tt := range tests {
		c := engine.DefaultConfig()
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.flag) {
			t.Errorf("want an error naming %s, got %v", tt.flag, err)
		}
	}
	bad := engine.DefaultConfig()
	bad.MaxConnections = -3
	if _, err := engine.New(bad, engine.Echo{}); err == nil {
		t.Error("New accepted an invalid config")
	}
}

// TestConfigZeroKeepsItsMeaning: where 0 is a valid setting, New keeps it (it never
// fills in a default), and the worker behaves by it.
func TestConfigZeroKeepsItsMeaning(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*engine.Config)
	}{
		{"pollers 0: one per CPU", func(c *engine.Config) { c.Pollers = 0 }},
		{"writers 0: one per CPU", func(c *engine.Config) { c.Writers = 0 }},
		{"shutdown-grace 0: close at once", func(c *engine.Config) { c.ShutdownGrace = 0 }},
		{"allowed-origins empty: the same host only", func(c *engine.Config) { c.AllowedOrigins = nil }},
	} {
		c := engine.DefaultConfig()
		tt.mutate(&c)
		w, err := engine.New(c, engine.Echo{})
		if err != nil {
			t.Errorf("%s: refused: %v", tt.name, err)
			continue
		}
		if got := w.Config(); got.Pollers != c.Pollers || got.Writers != c.Writers || got.ShutdownGrace != c.ShutdownGrace {
			t.Errorf("%s: New changed the config to %+v", tt.name, got)
		}
	}
}
