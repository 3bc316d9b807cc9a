package scenario

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// ProcSample is a process's resources at one moment, from /proc.
type ProcSample struct {
	CPUSeconds float64 // utime + stime since the process started
	RSSBytes   uint64
	FDs        int
}

// ReadProc samples /proc/PID.
func ReadProc(pid int) (ProcSample, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	var s ProcSample
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, fmt.Errorf("server pid %d: %w", pid, err)
	}
	if s.CPUSeconds, err = ParseStatCPU(string(stat)); err != nil {
		return s, fmt.Errorf("server pid %d: %w", pid, err)
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, fmt.Errorf("server pid %d: %w", pid, err)
	}
	if s.RSSBytes, err = ParseStatusRSS(string(status)); err != nil {
		return s, fmt.Errorf("server pid %d: %w", pid, err)
	}
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return s, fmt.Errorf("server pid %d: list fds: %w", pid, err)
	}
	s.FDs = len(fds)
	return s, nil
}

// ParseStatCPU reads utime+stime (fields 14 and 15) of /proc/PID/stat, in seconds. The
// command name (field 2) may hold spaces and parentheses, so fields count from the last ')'.
func ParseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc stat: no ')' in %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the name", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc stat: utime %q stime %q", f[11], f[12])
	}
	return float64(utime+stime) / clockTicks, nil
}

// ParseStatusRSS reads VmRSS of /proc/PID/status, in bytes.
func ParseStatusRSS(status string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse /proc status: VmRSS line %q", line)
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc status: VmRSS line %q: %w", line, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("parse /proc status: no VmRSS line")
}

// StatusSample is the part of chatd's /status the bench reads.
type StatusSample struct {
	Connections int64             `json:"connections"`
	Goroutines  int               `json:"goroutines"`
	SysBytes    uint64            `json:"sysBytes"`
	Closes      map[string]uint64 `json:"closes"`
}

// slowCloseKey is how chatd's /status names closes of slow consumers.
const slowCloseKey = "slow consumer: write buffer full"

// ReadStatus fetches chatd's /status.
func ReadStatus(url string) (StatusSample, error) {
	var s StatusSample
	client := http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(url)
	if err != nil {
		return s, fmt.Errorf("read %s: %w", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return s, fmt.Errorf("read %s: status %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("read %s: %w", url, err)
	}
	return s, nil
}
