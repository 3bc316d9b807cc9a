package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/chatd/chatd/engine"
	"github.com/urfave/cli/v2"
)

func env(name string) []string { return []string{"CHATD_" + name} }

// processFlags are shared by every command that finds or runs a server process.
func processFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "listen", Value: engine.DefaultListen, EnvVars: env("LISTEN"), Usage: "`host:port` to listen on (WebSocket, HTTP, /status)"},
		&cli.StringFlag{Name: "pid-file", Value: "chatd.pid", EnvVars: env("PID_FILE"), Usage: "where start writes the server's pid; stop, restart and status read it"},
		&cli.StringFlag{Name: "log-file", Value: "chatd.log", EnvVars: env("LOG_FILE"), Usage: "where a daemon (start -d) writes its log"},
	}
}

// serverFlags are the settings of a running server.
func serverFlags() []cli.Flag {
	d := engine.Config{}.WithDefaults()
	return append(processFlags(),
		&cli.IntFlag{Name: "pollers", EnvVars: env("POLLERS"), Usage: "nbio poller goroutines (0: one per CPU)"},
		&cli.IntFlag{Name: "writers", Value: d.Writers, EnvVars: env("WRITERS"), Usage: "goroutines that write a batch's frames in parallel, the owner included (default: one per CPU; 1: the owner alone)"},
		&cli.StringFlag{Name: "tls-cert", EnvVars: env("TLS_CERT"), Usage: "PEM certificate `file`; with --tls-key, serve wss:// and https://"},
		&cli.StringFlag{Name: "tls-key", EnvVars: env("TLS_KEY"), Usage: "PEM private key `file` for --tls-cert"},
		&cli.IntFlag{Name: "max-connections", Value: d.MaxConnections, EnvVars: env("MAX_CONNECTIONS"), Usage: "connections at once; more are refused"},
		&cli.IntFlag{Name: "max-message-bytes", Value: d.MaxMessageBytes, EnvVars: env("MAX_MESSAGE_BYTES"), Usage: "largest WebSocket message accepted; larger closes the connection with 1009"},
		&cli.IntFlag{Name: "max-write-buffer", Value: d.MaxWriteBuffer, EnvVars: env("MAX_WRITE_BUFFER"), Usage: "unsent bytes a connection may hold before it is cut off as a slow consumer (4001)"},
		&cli.DurationFlag{Name: "handshake-timeout", Value: d.HandshakeTimeout, EnvVars: env("HANDSHAKE_TIMEOUT"), Usage: "time a new connection has to send its HTTP request"},
		&cli.StringSliceFlag{Name: "allowed-origins", EnvVars: env("ALLOWED_ORIGINS"), Usage: "browser origins (https://example.com) allowed besides the server's own host; * allows all"},
		&cli.DurationFlag{Name: "ping-interval", Value: d.PingInterval, EnvVars: env("PING_INTERVAL"), Usage: "how often every client gets a Ping"},
		&cli.IntFlag{Name: "ping-max-missed", Value: d.PingMaxMissed, EnvVars: env("PING_MAX_MISSED"), Usage: "unanswered Pings before a client is dropped with ConnectionLost"},
		&cli.IntFlag{Name: "max-name-length", Value: d.MaxNameLength, EnvVars: env("MAX_NAME_LENGTH"), Usage: "characters kept of a nickname"},
		&cli.IntFlag{Name: "max-text-length", Value: d.MaxTextLength, EnvVars: env("MAX_TEXT_LENGTH"), Usage: "characters allowed in one chat message"},
		&cli.StringFlag{Name: "default-name", Value: d.DefaultName, EnvVars: env("DEFAULT_NAME"), Usage: "nickname for a client that gives none"},
		&cli.StringFlag{Name: "default-color", Value: d.DefaultColor, EnvVars: env("DEFAULT_COLOR"), Usage: "color for a client that gives none or an invalid one"},
		&cli.Float64Flag{Name: "rate-limit", Value: d.RateLimit, EnvVars: env("RATE_LIMIT"), Usage: "messages per second a client may send"},
		&cli.IntFlag{Name: "rate-burst", Value: d.RateBurst, EnvVars: env("RATE_BURST"), Usage: "messages a client may send at once above --rate-limit"},
		&cli.DurationFlag{Name: "shutdown-grace", Value: d.ShutdownGrace, EnvVars: env("SHUTDOWN_GRACE"), Usage: "time clients get to answer the close frame when the server stops"},
		&cli.StringFlag{Name: "data-dir", Value: d.DataDir, EnvVars: env("DATA_DIR"), Usage: "`dir` for the history database (chatd.db) and the resume-token key"},
		&cli.DurationFlag{Name: "history-flush-interval", Value: d.HistoryFlushInterval, EnvVars: env("HISTORY_FLUSH_INTERVAL"), Usage: "how long messages gather before one durable commit (group commit; a commit in progress gathers the next batch anyway)"},
		&cli.IntFlag{Name: "history-on-join", Value: d.HistoryOnJoin, EnvVars: env("HISTORY_ON_JOIN"), Usage: "recent messages a client gets on login and on joining a room (-1: none)"},
		&cli.DurationFlag{Name: "ack-timeout", Value: d.AckTimeout, EnvVars: env("ACK_TIMEOUT"), Usage: "resend messages an ack=1 client has not acknowledged after this long"},
		&cli.DurationFlag{Name: "resume-grace", Value: d.ResumeGrace, EnvVars: env("RESUME_GRACE"), Usage: "how long after leaving (or a restart) a resume token gets the same name and userId back"},
		&cli.IntFlag{Name: "presence-full-limit", Value: d.PresenceFullLimit, EnvVars: env("PRESENCE_FULL_LIMIT"), Usage: "rooms with more members send presence=compact clients member counts only"},
		&cli.DurationFlag{Name: "presence-interval", Value: d.PresenceInterval, EnvVars: env("PRESENCE_INTERVAL"), Usage: "how often presence=compact clients get the joins and leaves, batched in one frame"},
		&cli.IntFlag{Name: "max-rooms-per-user", Value: d.MaxRoomsPerUser, EnvVars: env("MAX_ROOMS_PER_USER"), Usage: "rooms a user may join besides the default room"},
		&cli.IntFlag{Name: "max-room-members", Value: d.MaxRoomMembers, EnvVars: env("MAX_ROOM_MEMBERS"), Usage: "members a room may have (the default room is not limited)"},
		&cli.StringFlag{Name: "debug-listen", EnvVars: env("DEBUG_LISTEN"), Usage: "loopback `host:port` for Go's profiler (/debug/pprof/); empty: off"},
		&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: env("LOG_LEVEL"), Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: env("LOG_FORMAT"), Usage: "text or json"},
	)
}

// configFrom reads the server flags into the one Config struct and validates it.
func configFrom(c *cli.Context, logOut io.Writer) (engine.Config, error) {
	logger, err := newLogger(c.String("log-level"), c.String("log-format"), logOut)
	if err != nil {
		return engine.Config{}, err
	}
	cfg := engine.Config{
		Listen:           c.String("listen"),
		Pollers:          c.Int("pollers"),
		Writers:          c.Int("writers"),
		TLSCert:          c.String("tls-cert"),
		TLSKey:           c.String("tls-key"),
		MaxConnections:   c.Int("max-connections"),
		MaxMessageBytes:  c.Int("max-message-bytes"),
		MaxWriteBuffer:   c.Int("max-write-buffer"),
		HandshakeTimeout: c.Duration("handshake-timeout"),
		AllowedOrigins:   c.StringSlice("allowed-origins"),
		PingInterval:     c.Duration("ping-interval"),
		PingMaxMissed:    c.Int("ping-max-missed"),
		MaxNameLength:    c.Int("max-name-length"),
		MaxTextLength:    c.Int("max-text-length"),
		DefaultName:      c.String("default-name"),
		DefaultColor:     c.String("default-color"),
		RateLimit:        c.Float64("rate-limit"),
		RateBurst:        c.Int("rate-burst"),
		ShutdownGrace:    c.Duration("shutdown-grace"),

		DataDir:              c.String("data-dir"),
		HistoryFlushInterval: c.Duration("history-flush-interval"),
		HistoryOnJoin:        c.Int("history-on-join"),
		AckTimeout:           c.Duration("ack-timeout"),
		ResumeGrace:          c.Duration("resume-grace"),
		PresenceFullLimit:    c.Int("presence-full-limit"),
		PresenceInterval:     c.Duration("presence-interval"),
		MaxRoomsPerUser:      c.Int("max-rooms-per-user"),
		MaxRoomMembers:       c.Int("max-room-members"),

		Version: version,
		Logger:  logger,
	}
	// Every flag has a non-zero default, so a zero here was typed by the operator and
	// must be validated, not silently replaced by the default.
	if err := cfg.Validate(); err != nil {
		return engine.Config{}, err
	}
	return cfg, nil
}

func newLogger(level, format string, out io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: want debug, info, warn or error, got %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(out, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(out, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format: want text or json, got %q", format)
	}
}

var stderr io.Writer = os.Stderr
