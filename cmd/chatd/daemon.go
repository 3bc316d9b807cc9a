package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/urfave/cli/v2"
)

// daemonStartWait is how long start -d waits for its child to answer /status.
const daemonStartWait = 10 * time.Second

// launch is a server to start detached: `chatd <command> <args>` in dir.
type launch struct {
	command string // start or echo
	args    []string
	dir     string
	listen  string // --listen, to find the child at
	tls     bool
	logFile string // --log-file, resolved against dir
	pidFile string // --pid-file, resolved against dir
	token   string // --status-token, to read the child's /status
}

// startLaunch is what start -d detaches: itself, with the flags it was given.
func startLaunch(c *cli.Context) (launch, error) {
	dir, err := os.Getwd()
	if err != nil {
		return launch{}, fmt.Errorf("working directory: %w", err)
	}
	return launch{
		command: "start", args: setFlagArgs(c), dir: dir,
		listen: c.String("listen"), tls: c.String("tls-cert") != "",
		logFile: c.String("log-file"), pidFile: c.String("pid-file"), token: c.String("status-token"),
	}, nil
}

// resolveLaunch parses args as command's flags would (and validates the settings),
// so that restart fails before it stops anything.
func resolveLaunch(command, dir string, args []string) (launch, error) {
	l := launch{command: command, args: args, dir: dir}
	s := commandSettings(command)
	app := &cli.App{
		Name: "chatd", Flags: serverFlags(s), Writer: io.Discard, ErrWriter: io.Discard,
		Action: func(c *cli.Context) error {
			if err := s.finish(c, io.Discard); err != nil {
				return err
			}
			l.listen, l.tls = c.String("listen"), c.String("tls-cert") != ""
			l.token = c.String("status-token")
			l.logFile, l.pidFile = inDir(dir, c.String("log-file")), inDir(dir, c.String("pid-file"))
			if command == "echo" {
				return s.Engine.Validate()
			}
			return s.Validate()
		},
	}
	app.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return usageError(&cli.Command{Name: command, Flags: app.Flags}, err)
	}
	if err := app.Run(append([]string{"chatd"}, args...)); err != nil {
		return l, fmt.Errorf("%s (flags: %v)", err, args)
	}
	return l, nil
}

// daemonize starts l in a new session, detached from the terminal, logging to its
// --log-file, and returns once that child itself answers /status: a server that
// was already on the port does not count, and a child that fails is reported with
// its last log line. A child that never answers is killed, so none is left behind.
func daemonize(out io.Writer, l launch) error {
	if pid, err := runningServer(l.pidFile); err == nil {
		return fmt.Errorf("already running with pid %d (--pid-file %s)", pid, l.pidFile)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	logFile, err := os.OpenFile(l.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("--log-file: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(exe, append([]string{l.command}, l.args...)...)
	cmd.Dir = l.dir
	cmd.Env = append(os.Environ(), daemonChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	exitedCh := make(chan error, 1)
	go func() { exitedCh <- cmd.Wait() }()
	if err := awaitChild(l, cmd.Process.Pid, exitedCh); err != nil {
		return err
	}
	fmt.Fprintf(out, "chatd started as a daemon (pid %d), listening on %s, log %s\n", cmd.Process.Pid, l.listen, l.logFile)
	return nil
}

func awaitChild(l launch, pid int, exitedCh <-chan error) error {
	deadline := time.After(daemonStartWait)
	var last error
	for {
		select {
		case err := <-exitedCh:
			return fmt.Errorf("daemon exited at start (%v): %s (log %s)", err, lastLine(l.logFile), l.logFile)
		case <-deadline:
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return fmt.Errorf("daemon (pid %d) did not answer at %s within %s (%v), so it was killed; see %s", pid, l.listen, daemonStartWait, last, l.logFile)
		case <-time.After(50 * time.Millisecond):
		}
		st, err := fetchStatus(childAddr(l), l.tls, l.token, time.Second)
		switch {
		case err != nil:
			last = err
		case st.Pid != pid:
			last = fmt.Errorf("pid %d answers there, not the daemon", st.Pid)
		default:
			return nil
		}
	}
}

// childAddr is where the child listens: --listen, or with port 0 the address its
// run file names once it is up.
func childAddr(l launch) string {
	if _, port, _ := net.SplitHostPort(l.listen); port == "0" {
		if info, _ := readRunInfo(argsPath(l.pidFile)); info != nil {
			return dialAddr(info.Listen)
		}
	}
	return dialAddr(l.listen)
}

// fetchStatus reads a server's /status on a new connection. With TLS the certificate is not checked: the
// address is the operator's own, and the answer is only believed for its pid.
func fetchStatus(addr string, useTLS bool, token string, timeout time.Duration) (engine.Status, error) {
	var st engine.Status
	scheme := "http"
	// A connection of its own each time: with --reuse-port another process may answer
	// on the port, and asking again on a new connection may reach the one wanted.
	tr := &http.Transport{DisableKeepAlives: true}
	client := http.Client{Timeout: timeout, Transport: tr}
	if useTLS {
		scheme = "https"
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // see above
	}
	url := scheme + "://" + addr + "/status"
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return st, fmt.Errorf("%s: %w", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return st, fmt.Errorf("%s: 401: give the server's --status-token (or CHATD_STATUS_TOKEN)", url)
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("read %s: %w", url, err)
	}
	return st, nil
}

// dialAddr turns a listen address into one to connect to: ":27800" and
// "0.0.0.0:27800" and "[::]:27800" (which takes IPv4 too) are 127.0.0.1:27800.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

var errNotRunning = errors.New("chatd is not running")
