package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/server"
	"github.com/urfave/cli/v2"
)

func env(name string) []string { return []string{"CHATD_" + name} }

// processFlags are shared by every command that finds or runs a server process.
func processFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "listen", Value: engine.DefaultListen, EnvVars: env("LISTEN"), Usage: "`host:port` to listen on (WebSocket, HTTP, /status)"},
		&cli.StringFlag{Name: "pid-file", Value: "chatd.pid", EnvVars: env("PID_FILE"), Usage: "where start writes the server's pid; stop, restart and status read it"},
		&cli.StringFlag{Name: "log-file", Value: "chatd.log", EnvVars: env("LOG_FILE"), Usage: "where a daemon (start -d) writes its log"},
		&cli.StringFlag{Name: "status-token", EnvVars: env("STATUS_TOKEN"), Usage: "when set, /status and /metrics need \"Authorization: Bearer TOKEN\" (status sends it); /healthz stays open"},
	}
}

// settings is what a server command's flags are parsed into: each flag writes its
// field of the layers' configs directly (Destination), starting from their defaults,
// so a value typed as 0 stays 0 and is kept or refused, never replaced.
type settings struct {
	server.Config
	origins    cli.StringSlice // --allowed-origins, copied into Engine.AllowedOrigins
	proxies    cli.StringSlice // --trusted-proxies, copied into Engine.TrustedProxies
	moderators cli.StringSlice // --moderators, copied into Chat.Moderators
	nats       cli.StringSlice // --nats: with any URL, Cluster is set from cluster
	cluster    cluster.Config  // --nats-* and --node-name (cluster_flags.go)
}

func newSettings() *settings { return &settings{Config: server.DefaultConfig()} }

// serverFlags are the settings of a running server, bound to s.
func serverFlags(s *settings) []cli.Flag {
	e, ch := &s.Engine, &s.Chat
	flags := append(processFlags(),
		&cli.BoolFlag{Name: "reuse-port", Destination: &e.ReusePort, EnvVars: env("REUSE_PORT"), Usage: "SO_REUSEPORT on --listen: several chatd processes (one cluster node per core) share the port and the kernel spreads connections over them; each must have it"},
		&cli.IntFlag{Name: "pollers", Value: e.Pollers, Destination: &e.Pollers, EnvVars: env("POLLERS"), Usage: "nbio poller goroutines (0: one per CPU)"},
		&cli.IntFlag{Name: "writers", Value: e.Writers, Destination: &e.Writers, EnvVars: env("WRITERS"), Usage: "goroutines that write a batch's frames in parallel, the owner included (0: one per CPU; 1: the owner alone)"},
		&cli.StringFlag{Name: "tls-cert", Destination: &e.TLSCert, EnvVars: env("TLS_CERT"), Usage: "PEM certificate `file`; with --tls-key, serve wss:// and https://"},
		&cli.StringFlag{Name: "tls-key", Destination: &e.TLSKey, EnvVars: env("TLS_KEY"), Usage: "PEM private key `file` for --tls-cert"},
		&cli.IntFlag{Name: "max-connections", Value: e.MaxConnections, Destination: &e.MaxConnections, EnvVars: env("MAX_CONNECTIONS"), Usage: "connections at once; more are refused"},
		&cli.IntFlag{Name: "max-message-bytes", Value: e.MaxMessageBytes, Destination: &e.MaxMessageBytes, EnvVars: env("MAX_MESSAGE_BYTES"), Usage: "largest WebSocket message accepted; larger closes the connection with 1009"},
		&cli.IntFlag{Name: "max-write-buffer", Value: e.MaxWriteBuffer, Destination: &e.MaxWriteBuffer, EnvVars: env("MAX_WRITE_BUFFER"), Usage: "unsent bytes a connection may hold before it is cut off as a slow consumer (4001)"},
		&cli.IntFlag{Name: "max-total-write-buffer", Value: e.MaxTotalWriteBuffer, Destination: &e.MaxTotalWriteBuffer, EnvVars: env("MAX_TOTAL_WRITE_BUFFER"), Usage: "unsent bytes all connections may hold together; past it the biggest holders are cut (4001) (default: a quarter of the memory the process may use)"},
		&cli.IntFlag{Name: "socket-send-buffer", Value: e.SocketSendBuffer, Destination: &e.SocketSendBuffer, EnvVars: env("SOCKET_SEND_BUFFER"), Usage: "the kernel's send buffer of a WebSocket connection (SO_SNDBUF; Linux holds twice it), bytes that leave the --max-write-buffer budget (0: the kernel's autotuning, up to net.ipv4.tcp_wmem's maximum)"},
		&cli.IntFlag{Name: "max-header-bytes", Value: e.MaxHeaderBytes, Destination: &e.MaxHeaderBytes, EnvVars: env("MAX_HEADER_BYTES"), Usage: "largest request line plus headers (and at most 100 header fields); past either: 431 and close"},
		&cli.IntFlag{Name: "max-upload-buffer", Value: e.MaxUploadBuffer, Destination: &e.MaxUploadBuffer, EnvVars: env("MAX_UPLOAD_BUFFER"), Usage: "bytes of file uploads held in memory at once, all clients together; past it an upload gets 503"},
		&cli.IntFlag{Name: "max-pings-per-second", Value: e.MaxPingsPerSecond, Destination: &e.MaxPingsPerSecond, EnvVars: env("MAX_PINGS_PER_SECOND"), Usage: "RFC 6455 pings a connection may send per second (each answered with a pong); past it: 1008"},
		&cli.DurationFlag{Name: "handshake-timeout", Value: e.HandshakeTimeout, Destination: &e.HandshakeTimeout, EnvVars: env("HANDSHAKE_TIMEOUT"), Usage: "time a new connection has to send its HTTP request"},
		&cli.StringSliceFlag{Name: "allowed-origins", Destination: &s.origins, EnvVars: env("ALLOWED_ORIGINS"), Usage: "browser origins (https://example.com) allowed besides the server's own host; * allows all"},
		&cli.StringSliceFlag{Name: "trusted-proxies", Destination: &s.proxies, EnvVars: env("TRUSTED_PROXIES"), Usage: "addresses or CIDRs of reverse proxies (127.0.0.1, 10.0.0.0/8) whose X-Forwarded-For names the client for the per-address limits; empty: every peer is its own address"},
		&cli.DurationFlag{Name: "shutdown-grace", Value: e.ShutdownGrace, Destination: &e.ShutdownGrace, EnvVars: env("SHUTDOWN_GRACE"), Usage: "time clients get to answer the close frame when the server stops (0: close at once)"},
		&cli.DurationFlag{Name: "ping-interval", Value: ch.PingInterval, Destination: &ch.PingInterval, EnvVars: env("PING_INTERVAL"), Usage: "how often every client gets a Ping"},
		&cli.IntFlag{Name: "ping-max-missed", Value: ch.PingMaxMissed, Destination: &ch.PingMaxMissed, EnvVars: env("PING_MAX_MISSED"), Usage: "unanswered Pings before a client is dropped with ConnectionLost"},
		&cli.IntFlag{Name: "max-name-length", Value: ch.MaxNameLength, Destination: &ch.MaxNameLength, EnvVars: env("MAX_NAME_LENGTH"), Usage: "characters kept of a nickname"},
		&cli.IntFlag{Name: "max-text-length", Value: ch.MaxTextLength, Destination: &ch.MaxTextLength, EnvVars: env("MAX_TEXT_LENGTH"), Usage: "characters allowed in one chat message"},
		&cli.StringFlag{Name: "default-name", Value: ch.DefaultName, Destination: &ch.DefaultName, EnvVars: env("DEFAULT_NAME"), Usage: "nickname for a client that gives none"},
		&cli.StringFlag{Name: "default-color", Value: ch.DefaultColor, Destination: &ch.DefaultColor, EnvVars: env("DEFAULT_COLOR"), Usage: "color for a client that gives none or an invalid one"},
		&cli.Float64Flag{Name: "rate-limit", Value: ch.RateLimit, Destination: &ch.RateLimit, EnvVars: env("RATE_LIMIT"), Usage: "messages per second a client may send"},
		&cli.IntFlag{Name: "rate-burst", Value: ch.RateBurst, Destination: &ch.RateBurst, EnvVars: env("RATE_BURST"), Usage: "messages a client may send at once above --rate-limit"},
		&cli.StringFlag{Name: "data-dir", Value: s.DataDir, Destination: &s.DataDir, EnvVars: env("DATA_DIR"), Usage: "`dir` for the history database (chatd.db) and the resume-token key (empty: keep no history; nothing survives a restart)"},
		&cli.IntFlag{Name: "store-cache", Value: s.StoreCacheKiB, Destination: &s.StoreCacheKiB, EnvVars: env("STORE_CACHE"), Usage: "SQLite's page cache per connection of the history database, in `KiB` (up to 6 connections; smaller saves memory and costs the writer CPU)"},
		&cli.DurationFlag{Name: "history-flush-interval", Value: ch.HistoryFlushInterval, Destination: &ch.HistoryFlushInterval, EnvVars: env("HISTORY_FLUSH_INTERVAL"), Usage: "the longest an idle history writer lets messages gather before one durable commit (0: commit at once); a busy one commits again as soon as a commit ends, with everything queued meanwhile"},
		&cli.IntFlag{Name: "history-on-join", Value: ch.HistoryOnJoin, Destination: &ch.HistoryOnJoin, EnvVars: env("HISTORY_ON_JOIN"), Usage: "recent messages a client gets on login and on joining a room (0 or -1: none)"},
		&cli.DurationFlag{Name: "ack-timeout", Value: ch.AckTimeout, Destination: &ch.AckTimeout, EnvVars: env("ACK_TIMEOUT"), Usage: "resend messages an ack=1 client has not acknowledged after this long"},
		&cli.DurationFlag{Name: "resume-grace", Value: ch.ResumeGrace, Destination: &ch.ResumeGrace, EnvVars: env("RESUME_GRACE"), Usage: "how long after leaving (or a restart) a resume token gets the same name and userId back"},
		&cli.IntFlag{Name: "presence-full-limit", Value: ch.PresenceFullLimit, Destination: &ch.PresenceFullLimit, EnvVars: env("PRESENCE_FULL_LIMIT"), Usage: "rooms with more members send presence=compact clients member counts only (0: every room)"},
		&cli.DurationFlag{Name: "presence-interval", Value: ch.PresenceInterval, Destination: &ch.PresenceInterval, EnvVars: env("PRESENCE_INTERVAL"), Usage: "how often presence=compact clients get the joins and leaves, batched in one frame"},
		&cli.IntFlag{Name: "max-rooms-per-user", Value: ch.MaxRoomsPerUser, Destination: &ch.MaxRoomsPerUser, EnvVars: env("MAX_ROOMS_PER_USER"), Usage: "rooms a user may join besides the default room (0: the default room only)"},
		&cli.IntFlag{Name: "max-room-members", Value: ch.MaxRoomMembers, Destination: &ch.MaxRoomMembers, EnvVars: env("MAX_ROOM_MEMBERS"), Usage: "members a room may have (the default room is not limited)"},
		&cli.DurationFlag{Name: "store-timeout", Value: ch.StoreTimeout, Destination: &ch.StoreTimeout, EnvVars: env("STORE_TIMEOUT"), Usage: "how long a history commit may fail or hang before chat lines are refused with store_unavailable"},
		&cli.DurationFlag{Name: "buzz-interval", Value: ch.BuzzInterval, Destination: &ch.BuzzInterval, EnvVars: env("BUZZ_INTERVAL"), Usage: "at most one Buzz per sender and recipient this often (100ms..1h)"},
		&cli.DurationFlag{Name: "edit-window", Value: ch.EditWindow, Destination: &ch.EditWindow, EnvVars: env("EDIT_WINDOW"), Usage: "how long after sending its author may edit a message (at least 100ms)"},
		&cli.StringSliceFlag{Name: "moderators", Destination: &s.moderators, EnvVars: env("MODERATORS"), Usage: "account names (comma-separated) that may delete any message; anonymous users never may"},
		&cli.StringFlag{Name: "durability", Value: string(ch.Durability), Destination: (*string)(&ch.Durability), EnvVars: env("DURABILITY"), Usage: "what a line that got Sent survives: power (fsync per commit: a power cut of the machine) or crash (no fsync per commit: kill -9 of chatd, not a power cut)"},
		&cli.Int64Flag{Name: "max-file-bytes", Value: s.Files.MaxFileBytes, Destination: &s.Files.MaxFileBytes, EnvVars: env("MAX_FILE_BYTES"), Usage: "the largest file a user may upload (POST /api/files); bigger: 413 file_too_large"},
		&cli.Int64Flag{Name: "file-quota", Value: s.Files.QuotaPerDay, Destination: &s.Files.QuotaPerDay, EnvVars: env("FILE_QUOTA"), Usage: "bytes one user may upload in any 24 hours; past it: 429 quota_exceeded"},
		&cli.Int64Flag{Name: "file-quota-per-ip", Value: s.Files.QuotaPerIP, Destination: &s.Files.QuotaPerIP, EnvVars: env("FILE_QUOTA_PER_IP"), Usage: "bytes one client address may upload in any 24 hours, whatever names it uses; past it: 429 quota_exceeded"},
		&cli.StringFlag{Name: "metrics-listen", Destination: &s.MetricsListen, EnvVars: env("METRICS_LISTEN"), Usage: "`host:port` of a listener of its own for /metrics (127.0.0.1:9090); empty: /metrics on --listen"},
		// Accounts (engine/accounts).
		&cli.DurationFlag{Name: "session-ttl", Value: s.Accounts.SessionTTL, Destination: &s.Accounts.SessionTTL, EnvVars: env("SESSION_TTL"), Usage: "how long a login token from /api/register or /api/login is valid"},
		&cli.StringFlag{Name: "jwt-key", Destination: &s.Accounts.JWTKeyFile, EnvVars: env("JWT_KEY"), Usage: "`file` to accept JWTs as login tokens: a PEM RSA or EC public key (RS256/ES256), anything else an HS256 secret (trailing whitespace trimmed); claims sub, name, exp"},
		&cli.BoolFlag{Name: "allow-anonymous", Value: s.Accounts.AllowAnonymous, Destination: &s.Accounts.AllowAnonymous, EnvVars: env("ALLOW_ANONYMOUS"), Usage: "let clients without a token log in as anonymous users (false: a token is required)"},
	)
	flags = append(flags, clusterFlags(s)...)
	flags = append(flags,
		&cli.StringFlag{Name: "debug-listen", EnvVars: env("DEBUG_LISTEN"), Usage: "loopback `host:port` for Go's profiler (/debug/pprof/); empty: off"},
		&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: env("LOG_LEVEL"), Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: env("LOG_FORMAT"), Usage: "text or json"},
	)
	// --listen is a process flag too (stop and status find the server by it).
	flags[0].(*cli.StringFlag).Destination = &e.Listen
	for _, f := range flags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "status-token" {
			sf.Destination = &e.StatusToken // a process flag too: status sends it
		}
	}
	return flags
}

// finish completes s from the flags that are not a config field (the logger, the
// origins). The layers' constructors validate the rest.
func (s *settings) finish(c *cli.Context, logOut io.Writer) error {
	logger, err := newLogger(c.String("log-level"), c.String("log-format"), logOut)
	if err != nil {
		return err
	}
	s.Engine.Logger = logger
	s.Engine.Version = version
	s.Engine.AllowedOrigins = s.origins.Value()
	s.Engine.TrustedProxies = s.proxies.Value()
	s.Chat.Moderators = s.moderators.Value()
	return s.finishCluster(c)
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
