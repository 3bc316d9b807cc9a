package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
)

// startBound is the most a failed start may take before it exits: a failed listen
// must exit (non-zero), never hang. The real figure is far below it.
const startBound = 5 * time.Second

// runBounded runs cmd and fails the test if it does not exit within bound.
func runBounded(t *testing.T, cmd *exec.Cmd, bound time.Duration) (string, error) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(bound):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not exit within %s:\n%s", cmd.Args, bound, out.String())
		return "", nil
	}
}

// TestFailedListenExitsAtOnce: a --listen that is not host:port, a host that does
// not resolve, and a port in use each make start and start -d exit non-zero with a
// message naming --listen, within startBound, and leave no server (no locked pid file).
func TestFailedListenExitsAtOnce(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct{ listen, want string }{
		{"27800", "must be host:port"},
		{"localhost", "must be host:port"},
		{":99999", "must be host:port"},
		{":http", "must be host:port"},
		{"127.0.0.1:-1", "must be host:port"},
		{"no.such.host.invalid:27800", "--listen"},
		{busy.Addr().String(), "address already in use"},
	}
	for _, tt := range tests {
		for _, daemon := range []bool{false, true} {
			dir := t.TempDir()
			args := []string{"start", "--listen", tt.listen, "--data-dir", ""}
			if daemon {
				args = append(args, "-d")
			}
			out, err := runBounded(t, chatd(t, dir, args...), startBound)
			if err == nil || !strings.Contains(out, tt.want) || !strings.Contains(out, "--listen") {
				t.Errorf("%v: err %v, output %q; want an error naming --listen and %q", args, err, out, tt.want)
			}
			if lines := strings.Count(strings.TrimSpace(out), "\n") + 1; lines != 1 {
				t.Errorf("%v: %d lines of output, want 1:\n%s", args, lines, out)
			}
			if pid, err := runningServer(filepath.Join(dir, "chatd.pid")); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("%v: pid %d is left running", args, pid)
			}
		}
	}
}

// TestUsageErrorsAreOneLine: a flag value that does not parse is one line naming the
// flag (and for a duration without a unit, what was meant), not the help text.
func TestUsageErrorsAreOneLine(t *testing.T) {
	tests := []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"start", "--ping-interval", "5"}, "", "--ping-interval: 5 is not a duration; did you mean 5s?"},
		{[]string{"start", "--shutdown-grace", "0.5"}, "", "--shutdown-grace: 0.5 is not a duration; did you mean 0.5s?"},
		{[]string{"restart", "--ack-timeout=30"}, "", "--ack-timeout: 30 is not a duration; did you mean 30s?"},
		{[]string{"echo", "--handshake-timeout", "10"}, "", "--handshake-timeout: 10 is not a duration; did you mean 10s?"},
		{[]string{"start"}, "CHATD_PING_INTERVAL=5", "CHATD_PING_INTERVAL (--ping-interval): 5 is not a duration; did you mean 5s?"},
		{[]string{"start", "--ping-interval", "soon"}, "", `--ping-interval: "soon" is not a duration`},
		{[]string{"start", "--max-connections", "lots"}, "", `--max-connections: "lots" is not a valid value`},
		{[]string{"start", "--bogus"}, "", "flag provided but not defined: -bogus"},
		{[]string{"stop", "--bogus"}, "", "flag provided but not defined: -bogus"},
		{[]string{"status", "--json=maybe"}, "", "--json"},
	}
	for _, tt := range tests {
		cmd := chatd(t, t.TempDir(), tt.args...)
		if tt.env != "" {
			cmd.Env = append(cmd.Env, tt.env)
		}
		out, err := runBounded(t, cmd, startBound)
		if err == nil || !strings.Contains(out, tt.want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("%v %s: err %v, output\n%s\nwant one line with %q", tt.args, tt.env, err, out, tt.want)
		}
	}
}

// TestDaemonNeedsItsOwnChild: start -d on a port another chatd serves fails (that
// server's answer does not count), leaves no daemon behind, and the other server
// keeps serving.
func TestDaemonNeedsItsOwnChild(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	other := chatd(t, dir, "start", "--listen", addr, "--pid-file", "other.pid", "--data-dir", "")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	waitHealthy(t, addr)

	out, err := runBounded(t, chatd(t, dir, "start", "-d", "--listen", addr, "--data-dir", ""), startBound)
	if err == nil || !strings.Contains(out, "daemon exited at start") || !strings.Contains(out, "address already in use") {
		t.Fatalf("start -d on another chatd's port: %v %s", err, out)
	}
	if pid, err := runningServer(filepath.Join(dir, "chatd.pid")); err == nil {
		t.Fatalf("a daemon (pid %d) is left behind", pid)
	}
	st, err := fetchStatus(addr, false, "", 5*time.Second)
	if err != nil || st.Pid != other.Process.Pid {
		t.Fatalf("the other server: %+v %v", st, err)
	}
}

// TestStopSignalsOnlyItsChatd: a pid file nobody holds locked (a crash's), one held
// by a process that is not chatd, one whose pid is not the holder's, and one without
// a pid are all refused, and the process they name is not signalled.
func TestStopSignalsOnlyItsChatd(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1) to hold a pid file locked from another program")
	}
	tests := []struct {
		name   string
		lockBy bool   // flock(1) holds the pid file
		pid    string // what the file says: "victim", "locker" or literal text
		want   string
	}{
		{"stale", false, "victim", "stale pid file"},
		{"held by another program", true, "locker", "not chatd"},
		{"names another pid", true, "victim", "holds it locked"},
		{"no pid", false, "garbage", "no pid in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "chatd.pid")
			victim := exec.Command("sleep", "30")
			if err := victim.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = victim.Process.Kill(); _ = victim.Wait() })
			write := func(pid int) {
				text := strconv.Itoa(pid)
				if tt.pid == "garbage" {
					text = "garbage"
				}
				if err := os.WriteFile(pidFile, []byte(text+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write(victim.Process.Pid)
			if tt.lockBy {
				locker := exec.Command("flock", "--exclusive", pidFile, "sleep", "30")
				if err := locker.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = locker.Process.Kill(); _ = locker.Wait() })
				chattest.Eventually(t, 5*time.Second, "flock holds the pid file", func() bool {
					f, _ := os.Open(pidFile)
					defer f.Close()
					return errors.Is(syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB), syscall.EWOULDBLOCK)
				})
				if tt.pid == "locker" {
					write(locker.Process.Pid)
				}
			}
			out, err := runBounded(t, chatd(t, dir, "stop"), startBound)
			if err == nil || !strings.Contains(out, tt.want) || !strings.Contains(out, "not signalled") && tt.pid != "garbage" {
				t.Errorf("stop: %v %s; want %q and not signalled", err, out, tt.want)
			}
			if syscall.Kill(victim.Process.Pid, 0) != nil || exited(victim.Process.Pid) {
				t.Errorf("stop signalled pid %d", victim.Process.Pid)
			}
		})
	}
}
