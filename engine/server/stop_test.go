package server_test

import (
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// TestStopWithoutStart: a server built and stopped without ever starting (its
// process failed in between) stops at once and lets its history go.
func TestStopWithoutStart(t *testing.T) {
	s, err := server.New(chattest.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop without Start did not return within 5 s")
	}
}
