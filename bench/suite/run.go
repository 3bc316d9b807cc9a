package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/chatd/chatd/bench/report"
)

// jobs lists the scenario runs for target, in order.
func (c config) jobs(target string) []job {
	var out []job
	for _, s := range c.scenarios {
		switch s {
		case "connect":
			out = append(out, job{key: "connect", scenario: "connect", clients: c.connectClients})
		case "idle":
			out = append(out, job{key: "idle", scenario: "idle", clients: c.idleClients, duration: 5 * time.Second})
			if target == report.Baseline && c.goalIdleClients > 0 {
				// Compact presence: with the seed's, a 15,000-client ramp into one chat is
				// ~112 million presence frames, minutes of work before the idle figure.
				out = append(out, job{key: "idle15k", scenario: "idle", clients: c.goalIdleClients, duration: 5 * time.Second, presence: "compact"})
			}
		case "broadcast":
			out = append(out, job{key: "broadcast", scenario: "broadcast", clients: c.clients, senders: c.senders,
				rate: c.rate, duration: c.duration, warmup: c.warmup})
		case "private":
			out = append(out, job{key: "private", scenario: "private", clients: c.clients, senders: c.clients,
				rate: c.privateRate, duration: c.duration, warmup: c.warmup})
		case "churn":
			out = append(out, job{key: "churn", scenario: "churn", clients: c.churnClients, duration: c.duration})
		}
	}
	return out
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	log.Info("open-file limit for the servers and chatbench", "limit", limit)
	tmp, err := os.MkdirTemp("", "chatd-suite-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin, err := build(ctx, root, tmp, contains(cfg.targets, "node"))
	if err != nil {
		return err
	}
	started := time.Now()
	outDir := cfg.out
	if !filepath.IsAbs(outDir) {
		outDir = filepath.Join(root, outDir)
	}
	outDir = filepath.Join(outDir, started.UTC().Format("20060102-150405"))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	logf, err := os.Create(filepath.Join(outDir, "suite.log"))
	if err != nil {
		return fmt.Errorf("suite log: %w", err)
	}
	defer logf.Close()

	suite := &report.Suite{Started: started, Runs: cfg.runs, Targets: cfg.targets, Host: hostInfo()}
	suite.Notes = append(suite.Notes, fmt.Sprintf("flags: %s", strings.Join(os.Args[1:], " ")))
	for runIdx := range cfg.runs {
		for _, target := range cfg.targets {
			if err := ctx.Err(); err != nil {
				return err
			}
			runTarget(ctx, cfg, bin, tmp, outDir, runIdx, target, suite, logf, log)
			if err := save(suite, outDir); err != nil {
				return err
			}
		}
	}
	suite.Finished = time.Now()
	if err := save(suite, outDir); err != nil {
		return err
	}
	if err := suite.WriteText(os.Stdout); err != nil {
		return err
	}
	fmt.Printf("\nresults: %s\nreport:  %s\n", filepath.Join(outDir, "results.json"), filepath.Join(outDir, "report.html"))
	return nil
}

// runTarget runs every scenario of one run against one target, each on a
// freshly started server so one scenario's leftovers do not skew the next.
func runTarget(ctx context.Context, cfg config, bin binaries, tmp, outDir string, runIdx int, target string, suite *report.Suite, logf io.Writer, log *slog.Logger) {
	note := func(format string, a ...any) {
		msg := fmt.Sprintf("%s run %d: ", target, runIdx+1) + fmt.Sprintf(format, a...)
		log.Warn(msg)
		suite.Notes = append(suite.Notes, msg)
	}
	steps := cfg.jobs(target)
	if contains(cfg.scenarios, "sweep") {
		steps = append(steps, job{key: "sweep"})
	}
	for _, j := range steps {
		if ctx.Err() != nil {
			return
		}
		logPath := filepath.Join(outDir, fmt.Sprintf("%s-%s-run%d.log", target, j.key, runIdx+1))
		srv, err := startServer(target, bin, tmp, logPath)
		if err != nil {
			note("%s: %v", j.key, err)
			continue
		}
		log.Info("scenario", "target", target, "scenario", j.key, "run", runIdx+1, "url", srv.url(), "pid", srv.pid())
		if j.key == "sweep" {
			suite.Sweeps = append(suite.Sweeps, sweep(ctx, cfg, bin, srv, runIdx, logf, note))
		} else {
			res, err := runChatbench(ctx, bin.chatbench, cfg.args(j, srv), logf)
			if err != nil {
				note("%s: %v", j.key, err)
			} else {
				if res.Target == "" {
					res.Target = target
				}
				suite.Entries = append(suite.Entries, report.Entry{Run: runIdx, Key: j.key, Result: res})
			}
		}
		if !srv.alive() {
			note("%s: the server exited during the scenario; see %s", j.key, logPath)
		}
		srv.stop()
	}
}

// sweep raises the broadcast rate step by step on one server until a step
// loses messages or its p99 passes the limit.
func sweep(ctx context.Context, cfg config, bin binaries, srv *server, runIdx int, logf io.Writer, note func(string, ...any)) report.Sweep {
	sw := report.Sweep{Run: runIdx, Target: srv.name, Clients: cfg.sweepClients, LimitMS: cfg.sweepLimitMS}
	for _, rate := range cfg.sweepRates {
		if ctx.Err() != nil || !srv.alive() {
			break
		}
		j := job{key: "sweep", scenario: "broadcast", clients: cfg.sweepClients, senders: cfg.senders,
			rate: rate, duration: cfg.sweepDuration, warmup: time.Second}
		res, err := runChatbench(ctx, bin.chatbench, cfg.args(j, srv), logf)
		step := report.SweepStep{Rate: rate}
		if err != nil {
			note("sweep at %g msg/s: %v", rate, err)
		} else if m := res.Messages; m != nil {
			step.P99, step.Loss, step.PerSec = m.Latency.P99, m.Loss, m.PerSec
			step.OK = m.Loss == 0 && m.Latency.P99 <= cfg.sweepLimitMS && len(res.Errors) == 0
		}
		sw.Steps = append(sw.Steps, step)
		if !step.OK {
			break
		}
		sw.MaxRate = rate
	}
	return sw
}

// save writes results.json and report.html; called after every target so an
// interrupted suite leaves what it measured.
func save(s *report.Suite, dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		return fmt.Errorf("write results.json: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		return fmt.Errorf("create report.html: %w", err)
	}
	if err := s.WriteHTML(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func hostInfo() map[string]string {
	h := map[string]string{
		"cpus": fmt.Sprint(runtime.NumCPU()),
		"go":   runtime.Version(),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h["kernel"] = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		h["node"] = strings.TrimSpace(string(out))
	}
	return h
}

// rerender rebuilds report.html and prints the table from a results.json, so a
// change to the report reaches results already measured.
func rerender(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	var s report.Suite
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("parse %s/results.json: %w", dir, err)
	}
	if err := save(&s, dir); err != nil {
		return err
	}
	return s.WriteText(os.Stdout)
}
