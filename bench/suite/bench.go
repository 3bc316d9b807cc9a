package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/bench/scenario"
)

// job is one chatbench invocation.
type job struct {
	key      string // the suite's name for it (idle15k is idle at the goal's size)
	scenario string // chatbench subcommand
	clients  int
	senders  int
	rate     float64
	duration time.Duration
	warmup   time.Duration
	presence string // chatbench --presence; empty: full, the seed's
}

// args are chatbench's flags for job against s; every target gets the same.
func (c config) args(j job, s *server) []string {
	a := []string{j.scenario,
		"--url", s.url(),
		"--target", s.name,
		"--clients", strconv.Itoa(j.clients),
		"--json",
	}
	for _, pid := range s.pids() { // a cluster's processes are summed
		a = append(a, "--server-pid", strconv.Itoa(pid))
	}
	if j.senders > 0 {
		a = append(a, "--senders", strconv.Itoa(j.senders))
	}
	if j.rate > 0 {
		a = append(a, "--rate", strconv.FormatFloat(j.rate, 'f', -1, 64))
	}
	if j.duration > 0 {
		a = append(a, "--duration", j.duration.String())
	}
	if j.warmup > 0 {
		a = append(a, "--warmup", j.warmup.String())
	}
	if j.scenario == "broadcast" || j.scenario == "private" {
		a = append(a, "--payload-bytes", strconv.Itoa(c.payload))
	}
	if j.presence != "" {
		a = append(a, "--presence", j.presence)
	}
	if c.sourceIPs != "" {
		a = append(a, "--source-ips", c.sourceIPs)
	}
	return a
}

// runChatbench runs one job and parses its --json Result. chatbench's
// progress (stderr) goes to the terminal and to logw.
func runChatbench(ctx context.Context, bin string, args []string, logw io.Writer) (scenario.Result, error) {
	var res scenario.Result
	// A generous bound: ramps of thousands of clients take a while on 2 cores.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout = &stdout
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(os.Stderr, logw, &stderr)
	fmt.Fprintf(logw, "$ chatbench %s\n", strings.Join(args, " "))
	runErr := cmd.Run()
	out := bytes.TrimSpace(stdout.Bytes())
	if len(out) > 0 {
		if err := json.Unmarshal(out, &res); err != nil {
			return res, fmt.Errorf("chatbench %s: parse --json output: %w (exit: %v)", args[0], err, runErr)
		}
		// A result with an error exit is still a measurement; the caller notes it.
		if runErr != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("chatbench exited with %v: %s", runErr, lastLine(stderr.String())))
		}
		return res, nil
	}
	if runErr == nil {
		runErr = fmt.Errorf("no output")
	}
	return res, fmt.Errorf("chatbench %s: %w: %s", args[0], runErr, lastLine(stderr.String()))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
