package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
)

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:  "stop",
		Usage: "stop the server whose pid is in --pid-file (clients get a close frame)",
		Flags: processFlags(),
		Action: func(c *cli.Context) error {
			pid, err := stopProcess(c.String("pid-file"), 15*time.Second)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "chatd stopped (pid %d)\n", pid)
			return nil
		},
	}
}

func restartCommand() *cli.Command {
	s := newSettings()
	return &cli.Command{
		Name:  "restart",
		Usage: "stop the running server (if any) and start it again detached",
		Flags: serverFlags(s),
		Action: func(c *cli.Context) error {
			if err := s.finish(c, stderr); err != nil {
				return err
			}
			if err := s.Validate(); err != nil { // before the running server is stopped
				return err
			}
			if _, err := stopProcess(c.String("pid-file"), 15*time.Second); err != nil && !errors.Is(err, errNotRunning) {
				return err
			}
			return daemonize(c)
		},
	}
}

// readPid reads a pid file and reports whether that process is alive.
func readPid(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

// stopProcess sends SIGTERM and waits for the process to exit.
func stopProcess(pidFile string, wait time.Duration) (int, error) {
	pid, alive := readPid(pidFile)
	if !alive {
		return 0, fmt.Errorf("%w (no live pid in %s)", errNotRunning, pidFile)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return pid, fmt.Errorf("signal pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return pid, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return pid, fmt.Errorf("pid %d did not exit within %s", pid, wait)
}

// daemonize starts this program again as `start` in a new session, detached from the
// terminal, logging to --log-file, and returns once it answers /healthz.
func daemonize(c *cli.Context) error {
	if pid, alive := readPid(c.String("pid-file")); alive {
		return fmt.Errorf("already running with pid %d (--pid-file %s)", pid, c.String("pid-file"))
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	logFile, err := os.OpenFile(c.String("log-file"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("--log-file: %w", err)
	}
	defer logFile.Close()
	args := []string{"start"}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if name == "daemon" || !c.IsSet(name) {
			continue
		}
		for _, v := range flagValues(c, name) {
			args = append(args, "--"+name+"="+v)
		}
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), daemonChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	url := "http://" + dialAddr(c.String("listen")) + "/healthz"
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("daemon exited at start (%v); see %s", err, c.String("log-file"))
		case <-deadline:
			return fmt.Errorf("daemon (pid %d) did not answer %s within 10s; see %s", cmd.Process.Pid, url, c.String("log-file"))
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			fmt.Fprintf(c.App.Writer, "chatd started as a daemon (pid %d), listening on %s, log %s\n", cmd.Process.Pid, c.String("listen"), c.String("log-file"))
			return nil
		}
	}
}

func flagValues(c *cli.Context, name string) []string {
	if v := c.StringSlice(name); len(v) > 0 {
		return v
	}
	return []string{fmt.Sprint(c.Value(name))}
}

// dialAddr turns a listen address into one to connect to: ":27800" is 127.0.0.1:27800.
func dialAddr(listen string) string {
	if strings.HasPrefix(listen, ":") {
		return "127.0.0.1" + listen
	}
	if strings.HasPrefix(listen, "0.0.0.0:") {
		return "127.0.0.1" + strings.TrimPrefix(listen, "0.0.0.0")
	}
	if strings.HasPrefix(listen, "[::]:") {
		return "127.0.0.1" + strings.TrimPrefix(listen, "[::]")
	}
	return listen
}
