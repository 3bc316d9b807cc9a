//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"
)

// faultClient reads one connection's frames into a channel.
type faultClient struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan map[string]any
}

func dialFault(t *testing.T, addr, query string) *faultClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &faultClient{t: t, conn: conn, frames: make(chan map[string]any, 4096)}
	go pumpJSON(conn, c.frames)
	return c
}

func (c *faultClient) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

// next is the next frame other than Ping, Presence and Connected, or nil after wait.
func (c *faultClient) next(wait time.Duration) map[string]any {
	c.t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case m, ok := <-c.frames:
			if !ok {
				c.t.Fatal("connection closed")
			}
			switch m["action"] {
			case "Ping", "Presence", "Connected", "PublicMessage":
				continue
			}
			return m
		case <-timeout:
			return nil
		}
	}
}

// setFileSizeLimit sets the soft RLIMIT_FSIZE of process pid: at 1 byte every write
// to a regular file fails with EFBIG (Go ignores SIGXFSZ), which SQLite meets exactly
// as it meets a full disk; the hard limit stays, so it can be lifted without root.
func setFileSizeLimit(t *testing.T, pid int, limit uint64) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &old); err != nil {
		t.Fatal(err)
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: min(limit, old.Max), Max: old.Max}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestStoreTroubleIsToldNotHidden: the real chatd on a data dir whose writes all fail
// (its file size limit cut to one byte) gives no Sent for what it could not commit;
// once commits have failed for --store-timeout, new lines and retries of queued ones
// are answered store_unavailable at once; when writes work again the queued lines
// are committed and get Sent, the refused ones are taken on retry, and the room's
// history holds every line that got Sent exactly once, with no gap.
func TestStoreTroubleIsToldNotHidden(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	cmd := startHealthy(t, dir, addr, "start", "--listen", addr, "--data-dir", filepath.Join(dir, "data"),
		"--store-timeout", "300ms", "--rate-limit", "1000", "--rate-burst", "1000")
	c := dialFault(t, addr, "userName=Alice&resume=")
	if m := c.next(5 * time.Second); m == nil || m["action"] != "Authorized" {
		t.Fatalf("first frame %v, want Authorized", m)
	}
	line := func(cid string) map[string]any { return map[string]any{"text": "line " + cid, "clientMsgId": cid} }
	c.send(line("ok1"))
	if m := c.next(5 * time.Second); m == nil || m["action"] != "Sent" || m["clientMsgId"] != "ok1" {
		t.Fatalf("before the fault: %v, want Sent ok1", m)
	}

	setFileSizeLimit(t, cmd.Process.Pid, 1)
	var queued, refused []string
	for i := 0; len(refused) == 0 && i < 100; i++ {
		cid := fmt.Sprint("q", i)
		c.send(line(cid))
		switch m := c.next(50 * time.Millisecond); {
		case m == nil:
			queued = append(queued, cid)
		case m["action"] == "Error" && m["code"] == "store_unavailable":
			refused = append(refused, cid)
		default:
			t.Fatalf("%s on a failing disk got %v", cid, m)
		}
	}
	if len(queued) == 0 || len(refused) == 0 {
		t.Fatalf("queued %v, refused %v: want lines waiting for the disk, then store_unavailable", queued, refused)
	}
	c.send(line(queued[0])) // a retry of a line still waiting: told at once, too
	if m := c.next(5 * time.Second); m == nil || m["code"] != "store_unavailable" {
		t.Fatalf("retry of %s while the disk fails: %v, want store_unavailable", queued[0], m)
	}
	c.send(line("r1"))
	if m := c.next(5 * time.Second); m == nil || m["code"] != "store_unavailable" {
		t.Fatalf("a new line while the disk fails: %v, want store_unavailable", m)
	}
	refused = append(refused, "r1")

	setFileSizeLimit(t, cmd.Process.Pid, unix.RLIM_INFINITY)
	sent := map[string]uint64{"ok1": 1}
	for range queued {
		m := c.next(10 * time.Second)
		if m == nil || m["action"] != "Sent" {
			t.Fatalf("after recovery: %v, want Sent for the queued lines", m)
		}
		sent[m["clientMsgId"].(string)] = uint64(m["seq"].(float64))
	}
	for _, cid := range append(refused, queued[0]) { // retries: the refused are taken, the queued answered again
		c.send(line(cid))
		m := c.next(10 * time.Second)
		if m == nil || m["action"] != "Sent" || m["clientMsgId"] != cid {
			t.Fatalf("retry of %s after recovery: %v, want Sent", cid, m)
		}
		if seq, dup := sent[cid]; dup && seq != uint64(m["seq"].(float64)) {
			t.Fatalf("retry of %s got seq %v, first Sent %d", cid, m["seq"], seq)
		}
		sent[cid] = uint64(m["seq"].(float64))
	}

	c.send(map[string]any{"action": "History", "roomId": "lobby", "limit": 100})
	h := c.next(5 * time.Second)
	if h == nil || h["action"] != "History" {
		t.Fatalf("History: %v", h)
	}
	msgs := h["messages"].([]any)
	seen := map[string]bool{}
	for i, raw := range msgs {
		m := raw.(map[string]any)
		cid, _ := m["clientMsgId"].(string)
		if uint64(m["seq"].(float64)) != uint64(i+1) || seen[cid] || sent[cid] != uint64(i+1) {
			t.Fatalf("history entry %d = %v: want seq %d, each line once, at its Sent seq (%v)", i, m, i+1, sent)
		}
		seen[cid] = true
	}
	if len(msgs) != len(sent) {
		t.Fatalf("history holds %d lines, %d got Sent", len(msgs), len(sent))
	}
	t.Logf("%d lines waited for the disk, %d were refused and retried; %d stored", len(queued), len(refused), len(msgs))
}
