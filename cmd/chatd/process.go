package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
)

// stopWait is how long stop (and restart) wait for the server to exit.
const stopWait = 15 * time.Second

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:  "stop",
		Usage: "stop the server that holds --pid-file locked (clients get a close frame)",
		Flags: processFlags(),
		Action: func(c *cli.Context) error {
			pid, err := stopProcess(c.String("pid-file"), stopWait)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "chatd stopped (pid %d)\n", pid)
			return nil
		},
	}
}

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:  "restart",
		Usage: "stop the running server (if any) and start it again detached, with its own flags (kept in chatd.args beside --pid-file) and the ones given here instead of them",
		Flags: serverFlags(newSettings()),
		Action: func(c *cli.Context) error {
			l, err := restartLaunch(c)
			if err != nil { // before the running server is stopped
				return err
			}
			if _, err := stopProcess(c.String("pid-file"), stopWait); err != nil && !errors.Is(err, errNotRunning) {
				return err
			}
			return daemonize(c.App.Writer, l)
		},
	}
}

// restartLaunch is the last run's command and flags (from its run file) with the
// flags given to restart in place of theirs, validated.
func restartLaunch(c *cli.Context) (launch, error) {
	info, err := readRunInfo(argsPath(c.String("pid-file")))
	if err != nil {
		return launch{}, err
	}
	command, dir, base := "start", "", []string(nil)
	if info != nil {
		command, dir, base = info.Command, info.Dir, info.Args
	}
	if dir == "" {
		if dir, err = os.Getwd(); err != nil {
			return launch{}, fmt.Errorf("working directory: %w", err)
		}
	}
	return resolveLaunch(command, dir, mergeArgs(base, setFlagArgs(c)))
}

// stopProcess sends SIGTERM to the chatd holding pidFile and waits for it to exit.
func stopProcess(pidFile string, wait time.Duration) (int, error) {
	pid, err := runningServer(pidFile)
	if err != nil {
		return 0, err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return pid, fmt.Errorf("signal pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if exited(pid) {
			return pid, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return pid, fmt.Errorf("pid %d did not exit within %s", pid, wait)
}

// exited reports whether pid is gone (or a zombie waiting for its parent).
func exited(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && strings.HasPrefix(string(stat[i+1:]), " Z")
}

// lastLine is the last non-empty line of a log file, for an error message.
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 4096 {
		_, _ = f.Seek(-4096, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
