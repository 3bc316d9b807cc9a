package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/gorilla/websocket"
)

var binary string // built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chatd-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "chatd")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func chatd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHATD_LOG_LEVEL=warn")
	return cmd
}

// startHealthy starts chatd with args in dir, kills it when the test ends, and waits
// until it answers at addr.
func startHealthy(t *testing.T, dir, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := chatd(t, dir, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitHealthy(t, addr)
	return cmd
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	chattest.Eventually(t, 10*time.Second, "chatd /healthz", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func TestInvalidFlagsNameTheFlag(t *testing.T) {
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"--ping-interval", "0s"}, "--ping-interval"},
		{[]string{"--ping-max-missed", "0"}, "--ping-max-missed"},
		{[]string{"--max-write-buffer", "10"}, "--max-write-buffer"},
		{[]string{"--socket-send-buffer", "100"}, "--socket-send-buffer"},
		{[]string{"--default-color", "red"}, "--default-color"},
		{[]string{"--log-format", "xml"}, "--log-format"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--ping-interval", "soon"}, "ping-interval"},
		{[]string{"--tls-cert", "x.pem"}, "--tls-cert"},
		{[]string{"--debug-listen", "0.0.0.0:6060"}, "--debug-listen"},
		{[]string{"--debug-listen", "6060"}, "--debug-listen"},
	}
	for _, tt := range tests {
		args := append([]string{"start", "--listen", "127.0.0.1:0"}, tt.args...)
		out, err := chatd(t, t.TempDir(), args...).CombinedOutput()
		if err == nil {
			t.Errorf("%v: started, want an error", tt.args)
			continue
		}
		if !strings.Contains(string(out), tt.flag) {
			t.Errorf("%v: message %q does not name %s", tt.args, out, tt.flag)
		}
	}
}

func TestEnvironmentVariables(t *testing.T) {
	cmd := chatd(t, t.TempDir(), "start", "--listen", "127.0.0.1:0")
	cmd.Env = append(cmd.Env, "CHATD_PING_MAX_MISSED=-1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--ping-max-missed") {
		t.Fatalf("CHATD_PING_MAX_MISSED=-1: err %v, output %q", err, out)
	}
}

// TestStartForegroundStatusAndSIGTERM: start serves chat, status prints its figures,
// and SIGTERM closes clients with 1001 and exits 0.
func TestStartForegroundStatusAndSIGTERM(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	cmd := chatd(t, dir, "start", "--listen", addr, "--log-level", "info")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitHealthy(t, addr)

	c := chattest.Dial(t, "ws://"+addr+"/?userName=Ann")
	if m := c.Expect("Authorized"); m["userName"] != "Ann" {
		t.Fatalf("Authorized = %v", m)
	}
	bye := chattest.Dial(t, "ws://"+addr+"/?userName=Bo")
	bye.Expect("Authorized")
	_ = bye.Conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))
	var out []byte
	var err error
	chattest.Eventually(t, 10*time.Second, "status with Bo's close counted by name", func() bool {
		out, err = chatd(t, dir, "status").CombinedOutput() // found through chatd.pid
		return err == nil && strings.Contains(string(out), "closes       normal closure 1")
	})
	checkStatusLines(t, string(out), addr, filepath.Join(dir, "data"))
	if pid, err := runningServer(filepath.Join(dir, "chatd.pid")); err != nil || pid != cmd.Process.Pid {
		t.Fatalf("pid file: pid %d, %v; want %d, locked", pid, err, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Conn.ReadMessage()
	for err == nil {
		_, _, err = c.Conn.ReadMessage()
	}
	if !strings.Contains(err.Error(), "1001") {
		t.Errorf("client saw %v, want close 1001", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("chatd did not exit after SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dir, "chatd.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	if want := "url=http://" + addr + "/"; !strings.Contains(stderr.String(), want) {
		t.Errorf("the startup log does not say %s:\n%s", want, stderr.String())
	}
}

// TestDebugListenServesProfiles: --debug-listen serves pprof on loopback, apart
// from the chat port, which does not serve it.
func TestDebugListenServesProfiles(t *testing.T) {
	addr, debugAddr := freeAddr(t), freeAddr(t)
	cmd := chatd(t, t.TempDir(), "start", "--listen", addr, "--debug-listen", debugAddr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitHealthy(t, addr)
	resp, err := http.Get("http://" + debugAddr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("debug heap: %d %.200q", resp.StatusCode, body)
	}
	resp, err = http.Get("http://" + addr + "/debug/pprof/heap")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Error("the chat port serves /debug/pprof/")
	}
}

// TestDaemonStartStopRestart: start -d returns once the daemon serves; restart gives a
// new pid; stop ends it.
func TestDaemonStartStopRestart(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	out, err := chatd(t, dir, "start", "-d", "--listen", addr, "--log-level", "info").CombinedOutput()
	if err != nil {
		t.Fatalf("start -d: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = chatd(t, dir, "stop").Run() })
	pid1, err := runningServer(filepath.Join(dir, "chatd.pid"))
	if err != nil {
		t.Fatalf("no live daemon after start -d: %v %s", err, out)
	}
	waitHealthy(t, addr)

	if out, err := chatd(t, dir, "start", "-d", "--listen", addr).CombinedOutput(); err == nil || !strings.Contains(string(out), "already running") {
		t.Fatalf("a second start -d: %v %s", err, out)
	}
	if out, err := chatd(t, dir, "restart", "--listen", addr, "--log-level", "info").CombinedOutput(); err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	pid2, err := runningServer(filepath.Join(dir, "chatd.pid"))
	if err != nil || pid2 == pid1 {
		t.Fatalf("after restart pid %d (%v), before %d", pid2, err, pid1)
	}
	waitHealthy(t, addr)
	if out, err := chatd(t, dir, "stop").CombinedOutput(); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	if !exited(pid2) {
		t.Fatalf("pid %d still alive after stop", pid2)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "chatd.log")); !bytes.Contains(log, []byte("chatd worker started")) {
		t.Errorf("log file lacks the start line:\n%s", log)
	}
	if out, err := chatd(t, dir, "stop").CombinedOutput(); err == nil || !strings.Contains(string(out), "not running") {
		t.Errorf("stop with nothing running: %v %s", err, out)
	}
}

func TestEchoCommand(t *testing.T) {
	addr := freeAddr(t)
	cmd := chatd(t, t.TempDir(), "echo", "--listen", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	waitHealthy(t, addr)
	c := chattest.Dial(t, "ws://"+addr+"/")
	c.Send(`{"anything":1}`)
	if m := c.Next(); m["anything"] != float64(1) {
		t.Fatalf("echo = %v", m)
	}
	// echo's message cap is 16 MiB (the chat's is 64 KiB): a 4 MiB message comes back.
	big := bytes.Repeat([]byte("e"), 4<<20)
	if err := c.Conn.WriteMessage(websocket.BinaryMessage, big); err != nil {
		t.Fatal(err)
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, got, err := c.Conn.ReadMessage(); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("a 4 MiB echo: %d bytes, %v", len(got), err)
	}
}

func TestVersion(t *testing.T) {
	out, err := chatd(t, t.TempDir(), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "chatd ") {
		t.Fatalf("version: %v %s", err, out)
	}
}
