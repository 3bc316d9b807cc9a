// Command suite runs chatbench's scenarios against chatd and its peers (the
// gorilla/websocket server in bench/peers/gorilla and seed 001's Node server in
// bench/peers/node) on this machine, with the same client and settings, and
// writes the comparison: a table with ratios on stdout, and
// bench/results/<timestamp>/results.json and report.html.
//
//	go run ./bench/suite                 # the default suite, ~10 minutes on 2 cores
//	go run ./bench/suite --runs 3        # medians of 3 runs
//	go run ./bench/suite --targets chatd,gorilla --scenarios broadcast,sweep
//
// It builds chatd, chatbench and the gorilla peer into a temporary directory
// and runs `npm ci` for the Node peer itself. Every server listens on
// 127.0.0.1 on a free port, is started fresh for each target and run, and is
// measured from /proc through chatbench's --server-pid.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// config is the suite's flags.
type config struct {
	runs      int
	targets   []string
	scenarios []string
	out       string

	clients, senders  int
	rate, privateRate float64
	duration, warmup  time.Duration
	payload           int
	connectClients    int
	idleClients       int
	goalIdleClients   int
	churnClients      int
	sweepClients      int
	sweepRates        []float64
	sweepLimitMS      float64
	sweepDuration     time.Duration
	sourceIPs         string
	rerender          string
}

var allScenarios = []string{"connect", "idle", "broadcast", "private", "churn", "sweep"}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	fs.IntVar(&c.runs, "runs", 1, "runs of every scenario per target (the table shows medians)")
	targets := fs.String("targets", "chatd,gorilla,node", "servers to measure, comma-separated (chatd, gorilla, node)")
	scenarios := fs.String("scenarios", strings.Join(allScenarios, ","), "scenarios to run, comma-separated")
	fs.StringVar(&c.out, "out", "bench/results", "`dir` under which a <timestamp> directory gets results.json and report.html")
	fs.IntVar(&c.clients, "clients", 1000, "clients in the chat for broadcast and private")
	fs.IntVar(&c.senders, "senders", 10, "clients sending in broadcast")
	fs.Float64Var(&c.rate, "rate", 100, "broadcast: messages/s offered, all senders together")
	fs.Float64Var(&c.privateRate, "private-rate", 1000, "private: messages/s offered, all pairs together")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time of each message scenario")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "unmeasured time before it")
	fs.IntVar(&c.payload, "payload-bytes", 64, "text bytes per message")
	fs.IntVar(&c.connectClients, "connect-clients", 1000, "clients the connect scenario opens (all in one chat: N²/2 presence frames)")
	fs.IntVar(&c.idleClients, "idle-clients", 1000, "clients the idle scenario holds, on every target")
	fs.IntVar(&c.goalIdleClients, "goal-idle-clients", 15000, "an extra idle run on chatd only at this size with presence=compact, for the issue's goal (0: skip)")
	fs.IntVar(&c.churnClients, "churn-clients", 500, "clients the churn scenario cycles")
	fs.IntVar(&c.sweepClients, "sweep-clients", 1000, "clients in the chat during the rate sweep")
	rates := fs.String("sweep-rates", "25,50,100,125,150,200,400,800,1600", "broadcast rates (msg/s) the sweep tries, in order, until one fails")
	fs.Float64Var(&c.sweepLimitMS, "sweep-limit-ms", 100, "a sweep step fails on any loss or a p99 above this")
	fs.DurationVar(&c.sweepDuration, "sweep-duration", 5*time.Second, "measured time of each sweep step")
	fs.StringVar(&c.sourceIPs, "source-ips", "", "chatbench --source-ips, for more than ~28k connections")
	fs.StringVar(&c.rerender, "rerender", "", "only rewrite report.html and the table from `dir`/results.json (no servers are run)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.targets = splitList(*targets)
	c.scenarios = splitList(*scenarios)
	for _, t := range c.targets {
		if t != "chatd" && t != "gorilla" && t != "node" {
			return c, fmt.Errorf("--targets: unknown target %q (chatd, gorilla, node)", t)
		}
	}
	for _, s := range c.scenarios {
		if !contains(allScenarios, s) {
			return c, fmt.Errorf("--scenarios: unknown scenario %q (%s)", s, strings.Join(allScenarios, ", "))
		}
	}
	for _, r := range splitList(*rates) {
		var v float64
		if _, err := fmt.Sscan(r, &v); err != nil || v <= 0 {
			return c, fmt.Errorf("--sweep-rates: %q is not a positive number", r)
		}
		c.sweepRates = append(c.sweepRates, v)
	}
	if c.runs < 1 {
		return c, fmt.Errorf("--runs must be at least 1, got %d", c.runs)
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.rerender != "" {
		err = rerender(cfg.rerender)
	} else {
		err = run(ctx, cfg, log)
	}
	if err != nil {
		log.Error("suite", "err", err)
		os.Exit(1)
	}
}
