package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/chatd/chatd/engine/server/chattest"
)

// checkStatusLines: chatd status starts with users and connections, then names the
// listen address, the data dir and the uptime, and counts closes by name.
func checkStatusLines(t *testing.T, out, addr, dataDir string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	wantPrefix := []string{"users        ", "connections  ", "listen       " + addr + " (pid ", "data dir     " + dataDir, "uptime       ", "closes       "}
	if len(lines) < len(wantPrefix) {
		t.Fatalf("status:\n%s", out)
	}
	for i, p := range wantPrefix {
		if !strings.HasPrefix(lines[i], p) {
			t.Errorf("status line %d is %q, want it to start with %q\n%s", i+1, lines[i], p, out)
		}
	}
}

// TestRestartKeepsTheServersFlags: restart brings the server back with the flags it
// was started with (here a loopback --listen and --max-name-length 7), with the ones
// given to restart in place of theirs (--max-name-length 9); a restart with a bad
// flag leaves the running server alone.
func TestRestartKeepsTheServersFlags(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	pidFile := filepath.Join(dir, "chatd.pid")
	out, err := chatd(t, dir, "start", "-d", "--listen", addr, "--max-name-length", "7").CombinedOutput()
	if err != nil {
		t.Fatalf("start -d: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = chatd(t, dir, "stop").Run() })
	pid1, err := runningServer(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := fetchStatus(addr, false, "", 5e9); err != nil || st.Pid != pid1 {
		t.Fatalf("/status of the daemon: %+v %v, want pid %d", st, err, pid1)
	}
	login := func() string {
		c := chattest.Dial(t, "ws://"+addr+"/?userName=Abcdefghijkl")
		defer c.Conn.Close()
		return c.Expect("Authorized")["userName"].(string)
	}
	if got := login(); got != "Abcdefg" {
		t.Fatalf("before restart the name is %q, want 7 characters", got)
	}

	if out, err := chatd(t, dir, "restart", "--max-name-length", "0").CombinedOutput(); err == nil || !strings.Contains(string(out), "--max-name-length") {
		t.Fatalf("restart with a bad flag: %v %s", err, out)
	}
	if pid, err := runningServer(pidFile); err != nil || pid != pid1 {
		t.Fatalf("a refused restart touched the server: pid %d %v", pid, err)
	}

	if out, err := chatd(t, dir, "restart", "--max-name-length", "9").CombinedOutput(); err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	pid2, err := runningServer(pidFile)
	if err != nil || pid2 == pid1 {
		t.Fatalf("after restart pid %d (%v), before %d", pid2, err, pid1)
	}
	if got := login(); got != "Abcdefghi" { // on the same loopback address, 9 characters
		t.Fatalf("after restart the name is %q, want 9 characters", got)
	}
	if out, err := chatd(t, dir, "stop").CombinedOutput(); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	// After a stop the run file is kept: restart starts the last run again.
	if out, err := chatd(t, dir, "restart").CombinedOutput(); err != nil {
		t.Fatalf("restart after stop: %v\n%s", err, out)
	}
	if got := login(); got != "Abcdefghi" {
		t.Fatalf("restart after stop: the name is %q, want 9 characters", got)
	}
}

// TestPrivateFilesAndLockedPidFile: the data dir is 0700 and every file chatd writes
// is 0600 (a database left 0644 by an older chatd too); the pid file is locked while
// the server runs, so a second start on it fails before opening anything.
func TestPrivateFilesAndLockedPidFile(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	out, err := chatd(t, dir, "start", "-d", "--listen", addr, "--data-dir", "data/", "--log-level", "info").CombinedOutput()
	if err != nil {
		t.Fatalf("start -d: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = chatd(t, dir, "stop").Run() })
	c := chattest.Dial(t, "ws://"+addr+"/?userName=Ann")
	c.Expect("Authorized")
	c.Conn.Close()

	f, err := os.Open(filepath.Join(dir, "chatd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("the pid file is not locked while the server runs: %v", err)
	}
	f.Close()
	second := freeAddr(t)
	if out, err := chatd(t, dir, "start", "--listen", second, "--data-dir", "data").CombinedOutput(); err == nil || !strings.Contains(string(out), "already running") {
		t.Errorf("a second start on the same pid file: %v %s", err, out)
	}

	checkModes(t, dir)

	// A database an older chatd left 0644 is 0600 once a server has opened it.
	if out, err := chatd(t, dir, "stop").CombinedOutput(); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	if err := os.Chmod(filepath.Join(dir, "data", "chatd.db"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := chatd(t, dir, "restart").CombinedOutput(); err != nil {
		t.Fatalf("restart: %v %s", err, out)
	}
	checkModes(t, dir)
}

func checkModes(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{"data", 0o700 | os.ModeDir}, {"data/chatd.db", 0o600}, {"data/chatd.db-wal", 0o600},
		{"data/chatd.db-shm", 0o600}, {"data/resume.key", 0o600},
		{"chatd.pid", 0o600}, {"chatd.args", 0o600}, {"chatd.log", 0o600},
	} {
		st, err := os.Stat(filepath.Join(dir, f.path))
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
		} else if st.Mode() != f.mode {
			t.Errorf("%s is %v, want %v", f.path, st.Mode(), f.mode)
		}
	}
}
