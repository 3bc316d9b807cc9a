package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/chat"
	"github.com/urfave/cli/v2"
)

// daemonChildEnv marks the process that start -d spawned, so it runs in the foreground.
const daemonChildEnv = "CHATD_DAEMON_CHILD"

func startCommand() *cli.Command {
	return &cli.Command{
		Name:  "start",
		Usage: "run the chat server (in the foreground, or detached with -d)",
		Flags: append(serverFlags(),
			&cli.BoolFlag{Name: "daemon", Aliases: []string{"d"}, Usage: "detach: run in the background, log to --log-file, pid in --pid-file"},
		),
		Action: func(c *cli.Context) error {
			if _, err := configFrom(c, stderr); err != nil {
				return err
			}
			if c.Bool("daemon") && os.Getenv(daemonChildEnv) == "" {
				return daemonize(c)
			}
			return serve(c, chatServer)
		},
	}
}

func echoCommand() *cli.Command {
	return &cli.Command{
		Name:  "echo",
		Usage: "run the raw engine as an echo server (for benchmarks and RFC 6455 conformance)",
		Flags: serverFlags(),
		Action: func(c *cli.Context) error {
			return serve(c, func(cfg engine.Config) (*engine.Worker, error) { return engine.New(cfg, engine.Echo{}) })
		},
	}
}

// serve runs a worker in the foreground until SIGINT or SIGTERM, then stops it cleanly
// (clients get a close frame) and returns nil, so the process exits 0.
func serve(c *cli.Context, newWorker func(engine.Config) (*engine.Worker, error)) error {
	cfg, err := configFrom(c, stderr)
	if err != nil {
		return err
	}
	pidFile := c.String("pid-file")
	if pid, alive := readPid(pidFile); alive && pid != os.Getpid() {
		return fmt.Errorf("already running with pid %d (--pid-file %s)", pid, pidFile)
	}
	if addr := c.String("debug-listen"); addr != "" {
		stopDebug, err := startDebug(addr, cfg.Logger)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	w, err := newWorker(cfg)
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
		w.Stop()
		return fmt.Errorf("--pid-file: %w", err)
	}
	defer os.Remove(pidFile)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	got := <-sig
	cfg.Logger.Info("stopping", "signal", got.String())
	w.Stop()
	return nil
}

var errNotRunning = errors.New("chatd is not running")

func chatServer(cfg engine.Config) (*engine.Worker, error) {
	w, _, err := chat.NewServer(cfg)
	return w, err
}
