package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/server"
	"github.com/urfave/cli/v2"
)

// daemonChildEnv marks the process that start -d spawned, so it runs in the foreground.
const daemonChildEnv = "CHATD_DAEMON_CHILD"

func startCommand() *cli.Command {
	s := newSettings()
	return &cli.Command{
		Name:  "start",
		Usage: "run the chat server (in the foreground, or detached with -d)",
		Flags: append(serverFlags(s),
			&cli.BoolFlag{Name: "daemon", Aliases: []string{"d"}, Usage: "detach: run in the background, log to --log-file, pid in --pid-file"},
		),
		Action: func(c *cli.Context) error {
			if err := s.finish(c, stderr); err != nil {
				return err
			}
			if c.Bool("daemon") && os.Getenv(daemonChildEnv) == "" {
				// The parent builds nothing: it checks the settings so that a mistake
				// fails here, in the terminal, not in the detached child's log.
				if err := s.Validate(); err != nil {
					return err
				}
				return daemonize(c)
			}
			return serve(c, s.Engine.Logger, func() (func() error, func(), error) {
				srv, err := server.New(s.Config)
				if err != nil {
					return nil, nil, err
				}
				return srv.Start, srv.Stop, nil
			})
		},
	}
}

// chatd echo's defaults for --max-message-bytes and --max-write-buffer: RFC 6455
// conformance suites send messages up to 16 MiB and read each echo before the next,
// so a connection's write cap must hold a whole one.
const (
	echoMaxMessage     = 16 << 20
	echoMaxWriteBuffer = 2 * echoMaxMessage
)

func echoCommand() *cli.Command {
	s := newSettings()
	s.Engine.MaxMessageBytes, s.Engine.MaxWriteBuffer = echoMaxMessage, echoMaxWriteBuffer
	s.Engine.MaxTotalWriteBuffer = max(s.Engine.MaxTotalWriteBuffer, echoMaxWriteBuffer)
	return &cli.Command{
		Name:  "echo",
		Usage: "run the raw engine as an echo server (for benchmarks and RFC 6455 conformance)",
		Flags: serverFlags(s),
		Action: func(c *cli.Context) error {
			if err := s.finish(c, stderr); err != nil {
				return err
			}
			return serve(c, s.Engine.Logger, func() (func() error, func(), error) {
				w, err := engine.New(s.Engine, engine.Echo{})
				if err != nil {
					return nil, nil, err
				}
				return w.Start, w.Stop, nil
			})
		},
	}
}

// serve builds a server with build, runs it in the foreground until SIGINT or
// SIGTERM, then stops it cleanly (clients get a close frame) and returns nil, so the
// process exits 0. A start that fails cleans up after itself.
func serve(c *cli.Context, log *slog.Logger, build func() (start func() error, stop func(), err error)) error {
	pidFile := c.String("pid-file")
	if pid, alive := readPid(pidFile); alive && pid != os.Getpid() {
		return fmt.Errorf("already running with pid %d (--pid-file %s)", pid, pidFile)
	}
	if addr := c.String("debug-listen"); addr != "" {
		stopDebug, err := startDebug(addr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	start, stop, err := build()
	if err != nil {
		return err
	}
	if err := start(); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
		stop()
		return fmt.Errorf("--pid-file: %w", err)
	}
	defer os.Remove(pidFile)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	got := <-sig
	log.Info("stopping", "signal", got.String())
	stop()
	return nil
}

var errNotRunning = errors.New("chatd is not running")
