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
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
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

// flags are the suite's command-line flags; configFrom turns them into a config.
func flags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "runs", Value: 1, Usage: "runs of every scenario per target (the table shows medians)"},
		&cli.StringFlag{Name: "targets", Value: "chatd,gorilla,node", Usage: "servers to measure, comma-separated (chatd, gorilla, node; chatd-cluster: 3 nodes and a nats-server on this box)"},
		&cli.StringFlag{Name: "scenarios", Value: strings.Join(allScenarios, ","), Usage: "scenarios to run, comma-separated"},
		&cli.StringFlag{Name: "out", Value: "bench/results", Usage: "`dir` under which a <timestamp> directory gets results.json and report.html"},
		&cli.IntFlag{Name: "clients", Value: 1000, Usage: "clients in the chat for broadcast and private"},
		&cli.IntFlag{Name: "senders", Value: 10, Usage: "clients sending in broadcast"},
		&cli.Float64Flag{Name: "rate", Value: 100, Usage: "broadcast: messages/s offered, all senders together"},
		&cli.Float64Flag{Name: "private-rate", Value: 1000, Usage: "private: messages/s offered, all pairs together"},
		&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "measured time of each message scenario"},
		&cli.DurationFlag{Name: "warmup", Value: 2 * time.Second, Usage: "unmeasured time before it"},
		&cli.IntFlag{Name: "payload-bytes", Value: 64, Usage: "text bytes per message"},
		&cli.IntFlag{Name: "connect-clients", Value: 1000, Usage: "clients the connect scenario opens (all in one chat: N²/2 presence frames)"},
		&cli.IntFlag{Name: "idle-clients", Value: 1000, Usage: "clients the idle scenario holds, on every target"},
		&cli.IntFlag{Name: "goal-idle-clients", Value: 15000, Usage: "an extra idle run on chatd only at this size with presence=compact, for the issue's goal (0: skip)"},
		&cli.IntFlag{Name: "churn-clients", Value: 500, Usage: "clients the churn scenario cycles"},
		&cli.IntFlag{Name: "sweep-clients", Value: 1000, Usage: "clients in the chat during the rate sweep"},
		&cli.StringFlag{Name: "sweep-rates", Value: "25,50,100,125,150,200,400,800,1600", Usage: "broadcast rates (msg/s) the sweep tries, in order, until one fails"},
		&cli.Float64Flag{Name: "sweep-limit-ms", Value: 100, Usage: "a sweep step fails on any loss or a p99 above this"},
		&cli.DurationFlag{Name: "sweep-duration", Value: 5 * time.Second, Usage: "measured time of each sweep step"},
		&cli.StringFlag{Name: "source-ips", Usage: "chatbench --source-ips, for more than ~28k connections"},
		&cli.StringFlag{Name: "rerender", Usage: "only rewrite report.html and the table from `dir`/results.json (no servers are run)"},
	}
}

// newApp is the suite's command line; action receives the checked config.
func newApp(action func(config) error) *cli.App {
	return &cli.App{
		Name:      "suite",
		Usage:     "run chatbench's scenarios against chatd and its peers and compare them",
		Flags:     flags(),
		ArgsUsage: " ",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("unexpected arguments: %q", c.Args().Slice())
			}
			cfg, err := configFrom(c)
			if err != nil {
				return err
			}
			return action(cfg)
		},
	}
}

func configFrom(ctx *cli.Context) (config, error) {
	c := config{
		runs:            ctx.Int("runs"),
		targets:         splitList(ctx.String("targets")),
		scenarios:       splitList(ctx.String("scenarios")),
		out:             ctx.String("out"),
		clients:         ctx.Int("clients"),
		senders:         ctx.Int("senders"),
		rate:            ctx.Float64("rate"),
		privateRate:     ctx.Float64("private-rate"),
		duration:        ctx.Duration("duration"),
		warmup:          ctx.Duration("warmup"),
		payload:         ctx.Int("payload-bytes"),
		connectClients:  ctx.Int("connect-clients"),
		idleClients:     ctx.Int("idle-clients"),
		goalIdleClients: ctx.Int("goal-idle-clients"),
		churnClients:    ctx.Int("churn-clients"),
		sweepClients:    ctx.Int("sweep-clients"),
		sweepLimitMS:    ctx.Float64("sweep-limit-ms"),
		sweepDuration:   ctx.Duration("sweep-duration"),
		sourceIPs:       ctx.String("source-ips"),
		rerender:        ctx.String("rerender"),
	}
	for _, t := range c.targets {
		if t != "chatd" && t != "gorilla" && t != "node" && t != clusterTarget {
			return c, fmt.Errorf("--targets: unknown target %q (chatd, gorilla, node, %s)", t, clusterTarget)
		}
	}
	for _, s := range c.scenarios {
		if !contains(allScenarios, s) {
			return c, fmt.Errorf("--scenarios: unknown scenario %q (%s)", s, strings.Join(allScenarios, ", "))
		}
	}
	for _, r := range splitList(ctx.String("sweep-rates")) {
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(func(cfg config) error {
		if cfg.rerender != "" {
			return rerender(cfg.rerender)
		}
		return run(ctx, cfg, log)
	})
	if err := app.RunContext(ctx, os.Args); err != nil {
		log.Error("suite", "err", err)
		os.Exit(1)
	}
}
