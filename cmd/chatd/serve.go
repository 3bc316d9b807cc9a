package main

import (
	"errors"
	"log/slog"
	"net"
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
				l, err := startLaunch(c)
				if err != nil {
					return err
				}
				return daemonize(c.App.Writer, l)
			}
			return serve(c, s.Engine.Logger, func() (*served, error) {
				srv, err := server.New(s.Config)
				if err != nil {
					return nil, err
				}
				return &served{start: srv.Start, stop: srv.Stop, addr: srv.Worker.Addr, webClient: true}, nil
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

// commandSettings are the defaults command's flags start from.
func commandSettings(command string) *settings {
	s := newSettings()
	if command == "echo" {
		s.Engine.MaxMessageBytes, s.Engine.MaxWriteBuffer = echoMaxMessage, echoMaxWriteBuffer
		s.Engine.MaxTotalWriteBuffer = max(s.Engine.MaxTotalWriteBuffer, echoMaxWriteBuffer)
	}
	return s
}

func echoCommand() *cli.Command {
	s := commandSettings("echo")
	return &cli.Command{
		Name:  "echo",
		Usage: "run the raw engine as an echo server (for benchmarks and RFC 6455 conformance)",
		Flags: serverFlags(s),
		Action: func(c *cli.Context) error {
			if err := s.finish(c, stderr); err != nil {
				return err
			}
			if s.Cluster != nil {
				return errors.New("--nats: chatd echo is the raw engine, not a chat node")
			}
			return serve(c, s.Engine.Logger, func() (*served, error) {
				w, err := engine.New(s.Engine, engine.Echo{})
				if err != nil {
					return nil, err
				}
				return &served{start: w.Start, stop: w.Stop, addr: w.Addr}, nil
			})
		},
	}
}

// served is a built server, ready to start.
type served struct {
	start     func() error
	stop      func()
	addr      func() net.Addr // once started
	webClient bool            // it serves the browser client at /
}

// serve builds a server with build, runs it in the foreground until SIGINT or
// SIGTERM, then stops it cleanly (clients get a close frame) and returns nil, so the
// process exits 0. A start that fails cleans up after itself and returns its error.
// The pid file is locked first, so a second server on it fails before it opens
// anything; it stays locked until the server has stopped.
func serve(c *cli.Context, log *slog.Logger, build func() (*served, error)) error {
	syscall.Umask(0o077) // the data dir, database, logs, pid and run files: owner only
	pidFile := c.String("pid-file")
	lock, err := lockPidFile(pidFile)
	if err != nil {
		return err
	}
	defer lock.release()
	if addr := c.String("debug-listen"); addr != "" {
		stopDebug, err := startDebug(addr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	srv, err := build()
	if err != nil {
		return err
	}
	if err := srv.start(); err != nil {
		return err
	}
	tls := c.String("tls-cert") != ""
	addr := srv.addr().String()
	if err := writeRunInfo(argsPath(pidFile), runInfo{
		Command: c.Command.Name, Dir: workingDir(), Args: setFlagArgs(c), Listen: addr, TLS: tls,
	}); err != nil {
		log.Warn("restart and status cannot find this server's flags", "err", err)
	}
	if srv.webClient {
		logURL(log, addr, tls)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	got := <-sig
	log.Info("stopping", "signal", got.String())
	srv.stop()
	return nil
}

// logURL says where to open the chat: the address bound, as a browser on this
// machine reaches it.
func logURL(log *slog.Logger, addr string, tls bool) {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	url := scheme + "://" + dialAddr(addr) + "/"
	if host, _, _ := net.SplitHostPort(addr); host == "" || net.ParseIP(host).IsUnspecified() {
		log.Info("open the chat in a browser", "url", url, "elsewhere", "this machine's address instead of 127.0.0.1")
		return
	}
	log.Info("open the chat in a browser", "url", url)
}

func workingDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	return dir
}
