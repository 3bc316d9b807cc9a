package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is one started target: one process, or (parts) a cluster of them.
type server struct {
	name string
	addr string
	cmd  *exec.Cmd
	pidN int
	done chan error
	log  *os.File
	// parts are a cluster target's processes: its nats-server first, then its chatd
	// nodes; the target's URLs are the nodes', its figures all the processes' summed.
	parts []*server
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
	if target == clusterTarget {
		return startCluster(bin, tmp, logPath)
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	switch target {
	case "chatd":
		if cmd, err = chatdCommand(bin, tmp, addr); err != nil {
			return nil, err
		}
	case "gorilla":
		cmd = exec.Command(bin.gorilla, "--listen", addr)
	case "node":
		cmd = exec.Command("node", "server.js", "--listen", addr)
		cmd.Dir = bin.nodeDir
	default:
		return nil, fmt.Errorf("unknown target %q", target)
	}
	return startProcess(target, addr, cmd, logPath)
}

// chatdCommand is a chatd on addr with a data dir of its own under tmp and extra flags.
// The rate limit is lifted: the benchmark's senders are meant to send faster than a
// person does.
func chatdCommand(bin binaries, tmp, addr string, extra ...string) (*exec.Cmd, error) {
	dataDir, err := os.MkdirTemp(tmp, "chatd-data-")
	if err != nil {
		return nil, fmt.Errorf("chatd data dir: %w", err)
	}
	args := append([]string{"start", "--listen", addr,
		"--data-dir", dataDir,
		"--pid-file", filepath.Join(dataDir, "chatd.pid"),
		"--log-file", filepath.Join(dataDir, "chatd.log"),
		"--log-level", "warn",
		"--rate-limit", "1000000", "--rate-burst", "1000000",
		"--max-connections", "1000000"}, extra...)
	return exec.Command(bin.chatd, args...), nil
}

// startProcess starts cmd, logging to logPath, and waits until addr accepts TCP
// connections.
func startProcess(target, addr string, cmd *exec.Cmd, logPath string) (*server, error) {
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

func (s *server) pid() int { return s.pids()[0] }

// pids are the target's processes: a cluster's nodes first, then its nats-server.
func (s *server) pids() []int {
	if s.parts == nil {
		return []int{s.pidN}
	}
	var pids []int
	for _, p := range append(s.parts[1:], s.parts[0]) {
		pids = append(pids, p.pidN)
	}
	return pids
}

// url is the target's WebSocket URL; a cluster's nodes' URLs, comma-separated
// (chatbench spreads its clients over them).
func (s *server) url() string {
	if s.parts == nil {
		return "ws://" + s.addr + "/"
	}
	var urls []string
	for _, p := range s.parts[1:] {
		urls = append(urls, p.url())
	}
	return strings.Join(urls, ",")
}

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
	if s.parts != nil {
		for _, p := range s.parts {
			if !p.alive() {
				return false
			}
		}
		return true
	}
	select {
	case err := <-s.done:
		s.done <- err
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, then SIGKILL after 10 s; a stopped server's stop does nothing.
func (s *server) stop() {
	if s.parts != nil {
		for i := len(s.parts) - 1; i >= 0; i-- { // the nodes, then their nats-server
			s.parts[i].stop()
		}
		return
	}
	defer s.log.Close()
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		err = <-s.done
	}
	s.done <- err // kept, so alive says false and a second stop returns at once
}
