package main

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestClusterTargetServesAcrossNodes: the chatd-cluster target starts a nats-server
// and three chatd nodes; its URL lists the nodes, chatbench gets every process's pid
// to sum, a line sent on one node arrives on another, and stop ends every process.
func TestClusterTargetServesAcrossNodes(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := binaries{chatd: filepath.Join(dir, "chatd"), natsd: filepath.Join(dir, "natsd")}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for pkg, out := range map[string]string{"./cmd/chatd": bin.chatd, "./bench/natsd": bin.natsd} {
		if err := command(ctx, root, "go", "build", "-o", out, pkg); err != nil {
			t.Fatalf("build %s: %v", pkg, err)
		}
	}
	srv, err := startServer(clusterTarget, bin, dir, filepath.Join(dir, "cluster.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	urls, pids := strings.Split(srv.url(), ","), srv.pids()
	if len(urls) != clusterNodes || len(pids) != clusterNodes+1 {
		t.Fatalf("urls %v, pids %v: want %d nodes and a nats-server", urls, pids, clusterNodes)
	}
	c, _ := parseFlags(nil)
	if args := c.args(job{scenario: "broadcast", clients: 10}, srv); countOf(args, "--server-pid") != len(pids) {
		t.Fatalf("chatbench args %v: want a --server-pid per process", args)
	}

	from, to := dial(t, urls[0]+"?userName=A&resume="), dial(t, urls[2]+"?userName=B&resume=")
	if err := from.WriteJSON(map[string]any{"text": "across", "clientMsgId": "x1"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_ = to.SetReadDeadline(deadline) // the test's last read on this connection if it times out
		var m map[string]any
		if err := to.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for the line on the other node: %v", err)
		}
		if m["action"] == "PublicMessage" && m["text"] == "across" {
			break
		}
	}

	srv.stop()
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d still runs after stop", pid)
		}
	}
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func countOf(args []string, flag string) int {
	n := 0
	for i := range args {
		if args[i] == flag {
			n++
		}
	}
	return n
}
