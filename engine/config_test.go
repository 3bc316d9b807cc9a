package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/gorilla/websocket"
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
		{func(c *engine.Config) { c.TrustedProxies = []string{"10.0.0.0/8", "nginx"} }, "--trusted-proxies"},
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

// TestConfigListenIsHostPort: --listen is host:port with a numeric port; the host may
// be empty, an IP or a name (binding it is Start's check).
func TestConfigListenIsHostPort(t *testing.T) {
	tests := []struct {
		listen string
		ok     bool
	}{
		{":27800", true}, {"127.0.0.1:0", true}, {"[::1]:27800", true}, {"localhost:27800", true}, {"0.0.0.0:65535", true},
		{"", false}, {"27800", false}, {"localhost", false}, {":65536", false}, {":http", false},
		{"127.0.0.1:-1", false}, {"::1:27800", false}, {"a b:27800", false},
	}
	for _, tt := range tests {
		c := engine.DefaultConfig()
		c.Listen = tt.listen
		err := c.Validate()
		if tt.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), "--listen") {
			t.Errorf("--listen %q: %v, want ok %v", tt.listen, err, tt.ok)
		}
	}
}

// TestConfigZeroKeepsItsMeaning: where 0 (or empty) is a valid setting, New takes it
// as it is and the worker runs by it: pollers and writers 0 are one per CPU, no
// shutdown grace, no extra origins.
func TestConfigZeroKeepsItsMeaning(t *testing.T) {
	w := startEchoConfig(t, func(c *engine.Config) {
		c.Pollers, c.Writers, c.ShutdownGrace, c.AllowedOrigins = 0, 0, 0, nil
	})
	c, _, err := websocket.DefaultDialer.Dial("ws://"+w.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte("zero")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.ReadMessage(); err != nil || string(got) != "zero" {
		t.Fatalf("echo with pollers/writers/grace 0: %q, %v", got, err)
	}
}
