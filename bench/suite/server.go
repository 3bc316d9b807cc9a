package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// server is one started target.
type server struct {
	name string
	addr string
	cmd  *exec.Cmd
	pidN int
	done chan error
	log  *os.File
}

// freePort asks the kernel for a free loopback port.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer starts target on a free loopback port, logging to logPath, and
// waits until it accepts TCP connections.
func startServer(target string, bin binaries, tmp, logPath string) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	switch target {
	case "chatd":
		dataDir, err := os.MkdirTemp(tmp, "chatd-data-")
		if err != nil {
			return nil, fmt.Errorf("chatd data dir: %w", err)
		}
		// The rate limit is lifted: the benchmark's senders are meant to send
		// faster than a person does.
		cmd = exec.Command(bin.chatd, "start", "--listen", addr,
			"--data-dir", dataDir,
			"--pid-file", filepath.Join(dataDir, "chatd.pid"),
			"--log-file", filepath.Join(dataDir, "chatd.log"),
			"--log-level", "warn",
			"--rate-limit", "1000000", "--rate-burst", "1000000",
			"--max-connections", "1000000")
	case "gorilla":
		cmd = exec.Command(bin.gorilla, "--listen", addr)
	case "node":
		cmd = exec.Command("node", "server.js", "--listen", addr)
		cmd.Dir = bin.nodeDir
	default:
		return nil, fmt.Errorf("unknown target %q", target)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", target, err)
	}
	s := &server{name: target, addr: addr, cmd: cmd, pidN: cmd.Process.Pid, done: make(chan error, 1), log: logf}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(15 * time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) pid() int    { return s.pidN }
func (s *server) url() string { return "ws://" + s.addr + "/" }

func (s *server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("%s exited before it listened (%v); see %s", s.name, err, s.log.Name())
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not listen on %s within %s; see %s", s.name, s.addr, limit, s.log.Name())
}

// alive reports whether the server is still running (a crash mid-scenario
// must show in the report).
func (s *server) alive() bool {
	select {
	case err := <-s.done:
		s.done <- err
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, then SIGKILL after 10 s.
func (s *server) stop() {
	defer s.log.Close()
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
