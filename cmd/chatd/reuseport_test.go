package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/server/chattest"
)

// TestReusePortSharesOnePort: two chatd processes with --reuse-port listen on one
// port and the kernel spreads the clients over both; once one is killed the other
// serves every new client. Without the flag on both, the second start fails naming
// --listen.
func TestReusePortSharesOnePort(t *testing.T) {
	const clients = 40 // all on one process by chance: 2^-39
	addr := freeAddr(t)
	procs := []*exec.Cmd{
		startHealthy(t, t.TempDir(), addr, "start", "--listen", addr, "--reuse-port"),
		startHealthy(t, t.TempDir(), addr, "start", "--listen", addr, "--reuse-port"),
	}
	// The second process's /healthz may have been the first's: wait until both answer.
	connsByPid(t, addr, len(procs))
	for i := range clients {
		c := chattest.Dial(t, fmt.Sprintf("ws://%s/?userName=u%d", addr, i))
		c.Expect("Authorized")
	}
	conns := connsByPid(t, addr, len(procs))
	var sum int64
	for _, p := range procs {
		if conns[p.Process.Pid] == 0 {
			t.Fatalf("process %d served none of %d clients: %v", p.Process.Pid, clients, conns)
		}
		sum += conns[p.Process.Pid]
	}
	if sum != clients {
		t.Fatalf("the processes hold %d connections, want %d: %v", sum, clients, conns)
	}

	if err := procs[0].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = procs[0].Wait()
	for i := range 10 {
		c := chattest.Dial(t, fmt.Sprintf("ws://%s/?userName=after%d", addr, i))
		c.Expect("Authorized")
		if st := statusOnNewConn(t, addr); st.Pid != procs[1].Process.Pid {
			t.Fatalf("after the kill /status came from pid %d, want %d", st.Pid, procs[1].Process.Pid)
		}
	}
}

func TestWithoutReusePortTheSecondStartFails(t *testing.T) {
	for _, flags := range [][2]string{{"", ""}, {"--reuse-port", ""}, {"", "--reuse-port"}} {
		addr := freeAddr(t)
		first := []string{"start", "--listen", addr}
		startHealthy(t, t.TempDir(), addr, append(first, strings.Fields(flags[0])...)...)
		out := failedStart(t, t.TempDir(), append([]string{"start", "--listen", addr}, strings.Fields(flags[1])...)...)
		if !strings.Contains(out, "--listen "+addr) || !strings.Contains(out, "address already in use") {
			t.Errorf("first %q, second %q: the second start said %q, want --listen and address already in use", flags[0], flags[1], out)
		}
	}
}

// failedStart runs chatd with args, which must fail, and returns its output. It is
// killed if it is still running after 20 s (it started when it should not have).
func failedStart(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := chatd(t, dir, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("%v exited 0, want a failure:\n%s", args, out.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v is still running, want a failed start:\n%s", args, out.String())
	}
	return out.String()
}

// connsByPid asks /status on new connections until n processes have answered and
// returns each one's open WebSocket connections by pid.
func connsByPid(t *testing.T, addr string, n int) map[int]int64 {
	t.Helper()
	conns := map[int]int64{}
	for range 1000 {
		if len(conns) == n {
			return conns
		}
		st := statusOnNewConn(t, addr)
		conns[st.Pid] = st.Connections
	}
	t.Fatalf("%d processes answered /status on %s in 1000 requests, want %d", len(conns), addr, n)
	return nil
}

// statusOnNewConn reads /status on a connection of its own (no keep-alive), so that
// with --reuse-port any of the processes may answer.
func statusOnNewConn(t *testing.T, addr string) engine.Status {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatalf("/status: %v", err)
	}
	defer resp.Body.Close()
	var st engine.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("/status: %v", err)
	}
	return st
}

// TestReusePortDaemons: start -d of several --reuse-port servers on one port each
// succeeds (each waits for its own pid to answer, not a sibling's), and status through
// each pid file reports that server.
func TestReusePortDaemons(t *testing.T) {
	addr := freeAddr(t)
	var dirs []string
	for range 3 {
		dir := t.TempDir()
		if out, err := chatd(t, dir, "start", "-d", "--listen", addr, "--reuse-port").CombinedOutput(); err != nil {
			t.Fatalf("start -d: %v\n%s", err, out)
		}
		t.Cleanup(func() { _ = chatd(t, dir, "stop").Run() })
		dirs = append(dirs, dir)
	}
	for _, dir := range dirs {
		pid, err := runningServer(filepath.Join(dir, "chatd.pid"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := chatd(t, dir, "status").CombinedOutput()
		if err != nil || strings.Contains(string(out), "warning") || !strings.Contains(string(out), fmt.Sprintf("(pid %d)", pid)) {
			t.Fatalf("status of pid %d: %v\n%s", pid, err, out)
		}
	}
}
