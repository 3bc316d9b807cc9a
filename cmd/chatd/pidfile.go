package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pidLock is the pid file of a running server, held with an exclusive flock for as
// long as the server runs: a pid file nobody holds locked is stale, whatever pid it
// names, so stop never signals a process that merely reused that pid.
type pidLock struct {
	f    *os.File
	path string
}

// lockPidFile creates (or takes over a stale) pid file, locks it and writes our pid.
func lockPidFile(path string) (*pidLock, error) {
	for range 3 { // a stopping server may unlink the file between our open and lock
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--pid-file: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			pid, _ := readPidFrom(f)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("already running with pid %d (--pid-file %s is locked)", pid, path)
			}
			return nil, fmt.Errorf("--pid-file %s: lock: %w", path, err)
		}
		if !sameFile(f, path) {
			f.Close()
			continue
		}
		if err := writePid(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--pid-file %s: %w", path, err)
		}
		return &pidLock{f: f, path: path}, nil
	}
	return nil, fmt.Errorf("--pid-file %s: replaced while locking it; is another chatd starting?", path)
}

func writePid(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(fmt.Appendf(nil, "%d\n", os.Getpid()), 0)
	return err
}

// release removes the pid file, then lets go of the lock (in that order, so nobody
// locks a file that is about to vanish without noticing: see lockPidFile).
func (l *pidLock) release() {
	os.Remove(l.path)
	l.f.Close()
}

// sameFile reports whether the open file f is still the one at path.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

func readPidFrom(f *os.File) (int, error) {
	b := make([]byte, 32)
	n, err := f.ReadAt(b, 0)
	if n == 0 && err != nil {
		return 0, fmt.Errorf("read pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("no pid in it (%q)", b[:n])
	}
	return pid, nil
}

// runningServer returns the pid of the chatd that holds pidFile locked. It fails with
// errNotRunning when there is no pid file or nobody holds it (a stale one: the pid it
// names is not signalled), and with another error when the pid file is held but the
// pid it names is not the holder or not a chatd.
func runningServer(pidFile string) (int, error) {
	f, err := os.Open(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("%w (no pid file %s)", errNotRunning, pidFile)
	}
	if err != nil {
		return 0, fmt.Errorf("--pid-file: %w", err)
	}
	defer f.Close()
	pid, err := readPidFrom(f)
	if err != nil {
		return 0, fmt.Errorf("--pid-file %s: %w", pidFile, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return 0, fmt.Errorf("%w (stale pid file %s: pid %d does not hold it; not signalled)", errNotRunning, pidFile, pid)
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		return 0, fmt.Errorf("--pid-file %s: lock: %w", pidFile, err)
	}
	if err := checkHolder(f, pid); err != nil {
		return 0, fmt.Errorf("--pid-file %s: %w; not signalled", pidFile, err)
	}
	if err := checkIsChatd(pid); err != nil {
		return 0, fmt.Errorf("--pid-file %s: %w; not signalled", pidFile, err)
	}
	return pid, nil
}

// checkHolder checks, in /proc/locks, that the flock on f is pid's. Without /proc
// (not Linux) it checks nothing: the lock alone says a server runs.
func checkHolder(f *os.File, pid int) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	holders, err := flockHolders(sys.Ino)
	if err != nil || len(holders) == 0 {
		return nil
	}
	for _, h := range holders {
		if h == pid {
			return nil
		}
	}
	return fmt.Errorf("it names pid %d but pid %d holds it locked", pid, holders[0])
}

// flockHolders reads the pids holding a granted FLOCK on inode ino from /proc/locks:
// "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF" (waiters' lines have "->").
func flockHolders(ino uint64) ([]int, error) {
	f, err := os.Open("/proc/locks")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	suffix := ":" + strconv.FormatUint(ino, 10)
	var pids []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" || !strings.HasSuffix(fields[5], suffix) {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, sc.Err()
}

// checkIsChatd checks that pid runs this program, or a program named chatd*.
func checkIsChatd(pid int) error {
	proc := fmt.Sprintf("/proc/%d", pid)
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return nil // no /proc: the lock is the only evidence there is
	}
	exe, err := os.Readlink(proc + "/exe")
	if err != nil {
		return fmt.Errorf("pid %d: %w", pid, err)
	}
	exe = strings.TrimSuffix(exe, " (deleted)") // the binary was replaced while it ran
	if own, err := os.Executable(); err == nil && sameExecutable(own, proc+"/exe") {
		return nil
	}
	if strings.HasPrefix(filepath.Base(exe), "chatd") {
		return nil
	}
	return fmt.Errorf("pid %d is %s, not chatd", pid, exe)
}

func sameExecutable(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
