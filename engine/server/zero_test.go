package server_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// Settings whose 0 (or empty) is a value of its own: a whole server run with it does
// what the flag's usage says, not what the default would.

func TestHistoryOnJoinZeroSendsNone(t *testing.T) {
	for _, tt := range []struct {
		onJoin     int
		wantReplay bool
	}{{0, false}, {-1, false}, {50, true}} {
		s := chattest.Start(t, func(c *server.Config) { c.Chat.HistoryOnJoin = tt.onJoin })
		a, _ := s.Login(t, "Alice")
		a.Send(map[string]any{"text": "before", "toUserId": 0})
		a.Expect("PublicMessage")
		b, _ := s.Login(t, "Bob")
		a.Send(map[string]any{"text": "after", "toUserId": 0})
		first := b.Expect("PublicMessage")
		if replayed := first["text"] == "before"; replayed != tt.wantReplay {
			t.Errorf("--history-on-join %d: Bob's first message is %q, want the replay %v", tt.onJoin, first["text"], tt.wantReplay)
		}
	}
}

func TestHistoryFlushIntervalZeroCommitsAtOnce(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.HistoryFlushInterval = 0 })
	a, _ := s.LoginQuery(t, "Alice", url.Values{"resume": {""}})
	a.Send(map[string]any{"text": "durable", "toUserId": 0, "clientMsgId": "m1"})
	if sent := a.Expect("Sent"); sent["clientMsgId"] != "m1" {
		t.Fatalf("Sent %v", sent)
	}
}

// TestEmptyDataDirKeepsNoHistory: --data-dir "" runs a chat that stores nothing: lines
// are delivered and acknowledged, and no database appears anywhere.
func TestEmptyDataDirKeepsNoHistory(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	s := chattest.Start(t, func(c *server.Config) { c.DataDir = "" })
	a, _ := s.LoginQuery(t, "Alice", url.Values{"resume": {""}})
	a.Send(map[string]any{"text": "ephemeral", "toUserId": 0, "clientMsgId": "m1"})
	a.Expect("Sent")
	a.Send(map[string]any{"action": "History", "roomId": "lobby"})
	if h := a.Expect("History"); len(h["messages"].([]any)) != 0 {
		t.Fatalf("History without a store: %v", h)
	}
	for _, dir := range []string{cwd, filepath.Join(cwd, server.DefaultDataDir)} {
		if _, err := os.Stat(filepath.Join(dir, "chatd.db")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a database in %s: %v", dir, err)
		}
	}
}

func TestMaxRoomsPerUserZeroAllowsTheDefaultRoomOnly(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.MaxRoomsPerUser = 0 })
	a, _ := s.Login(t, "Alice")
	a.Send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	if e := a.Expect("Error"); e["code"] != "too_many_rooms" {
		t.Fatalf("JoinRoom with --max-rooms-per-user 0: %v", e)
	}
}

func TestPresenceFullLimitZeroSendsCountsOnly(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) {
		c.Chat.PresenceFullLimit = 0
		c.Chat.PresenceInterval = 20 * time.Millisecond
	})
	a, _ := s.LoginQuery(t, "Alice", url.Values{"presence": {"compact"}})
	s.Login(t, "Bob")
	// Every Presence, Alice's own join's tick included, carries the count only.
	a.ExpectWhere("Presence with count 2", func(m map[string]any) bool {
		if m["action"] != "Presence" {
			return false
		}
		room := m["rooms"].([]any)[0].(map[string]any)
		if _, listed := room["joined"]; listed {
			t.Fatalf("Presence with --presence-full-limit 0 lists users: %v", m)
		}
		return room["count"] == float64(2)
	})
}
