package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/chatd/chatd/protocol"
)

// Config is every setting chatd has. Zero values mean defaults, filled in by
// WithDefaults; each field has a chatd flag of the name given in its comment, and
// Validate names that flag when a value is wrong.
type Config struct {
	Listen  string // --listen: host:port for ws://, HTTP and the status page
	Pollers int    // --pollers: nbio poller goroutines (default: number of CPUs)
	Writers int    // --writers: goroutines that write a batch's frames, the owner included (default: number of CPUs)

	TLSCert string // --tls-cert: PEM certificate; with TLSKey, Listen serves wss:// and https://
	TLSKey  string // --tls-key

	MaxConnections   int           // --max-connections: WebSocket and HTTP connections at once
	MaxMessageBytes  int           // --max-message-bytes: largest frame or message accepted
	MaxWriteBuffer   int           // --max-write-buffer: unsent bytes per connection before it is cut off
	HandshakeTimeout time.Duration // --handshake-timeout: time to send a complete HTTP request
	AllowedOrigins   []string      // --allowed-origins: browser origins allowed besides the same host; "*" allows all

	PingInterval     time.Duration // --ping-interval: how often the chat sends Ping
	PingMaxMissed    int           // --ping-max-missed: unanswered Pings before ConnectionLost
	MaxNameLength    int           // --max-name-length: characters kept of a nickname
	MaxTextLength    int           // --max-text-length: characters allowed in one chat message
	DefaultName      string        // --default-name: nickname when none (or nothing valid) is given
	DefaultColor     string        // --default-color: color when none (or an invalid one) is given
	RateLimit        float64       // --rate-limit: chat messages per second per connection
	RateBurst        int           // --rate-burst: messages a connection may send at once above the rate
	ShutdownGrace    time.Duration // --shutdown-grace: time clients get to answer the close frame at stop
	StatusCallBudget time.Duration // time /status waits for the owner before answering without chat figures

	// Rooms, history, acknowledged delivery and resume (docs/PROTOCOL.md).
	DataDir              string        // --data-dir: where the history database and the resume key live
	HistoryFlushInterval time.Duration // --history-flush-interval: how long messages gather before one commit
	HistoryOnJoin        int           // --history-on-join: messages a client gets on joining a room (-1: none)
	AckTimeout           time.Duration // --ack-timeout: unacknowledged messages are resent after this (ack=1 clients)
	ResumeGrace          time.Duration // --resume-grace: how long a resume token keeps a user's identity after it leaves
	PresenceFullLimit    int           // --presence-full-limit: above this many members, compact presence sends counts only
	PresenceInterval     time.Duration // --presence-interval: how often compact presence changes are sent, batched
	MaxRoomsPerUser      int           // --max-rooms-per-user: rooms a user may be in besides the default one
	MaxRoomMembers       int           // --max-room-members: members a room may have (the default room: unlimited)

	Version string       // reported by /status
	Logger  *slog.Logger // where the engine logs; slog.Default() if nil
}

// Defaults, as the seed has them where it has them.
const (
	DefaultListen          = ":27800"
	DefaultMaxConnections  = 100_000
	DefaultMaxMessageBytes = 64 << 10
	DefaultMaxWriteBuffer  = 4 << 20
	DefaultPingInterval    = 5 * time.Second
	DefaultPingMaxMissed   = 3
	DefaultMaxNameLength   = 32
	DefaultMaxTextLength   = 4000
	DefaultName            = "Инкогнито"
	DefaultColor           = "#000000"
	DefaultRateLimit       = 20
	DefaultRateBurst       = 40

	DefaultDataDir              = "./data"
	DefaultHistoryFlushInterval = 2 * time.Millisecond
	DefaultHistoryOnJoin        = 50
	DefaultAckTimeout           = 5 * time.Second
	DefaultResumeGrace          = 2 * time.Minute
	DefaultPresenceFullLimit    = 1000
	DefaultPresenceInterval     = 200 * time.Millisecond
	DefaultMaxRoomsPerUser      = 32
	DefaultMaxRoomMembers       = 10_000
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	set := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setD := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	set(&c.MaxConnections, DefaultMaxConnections)
	set(&c.Writers, runtime.NumCPU())
	set(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	set(&c.MaxWriteBuffer, DefaultMaxWriteBuffer)
	set(&c.PingMaxMissed, DefaultPingMaxMissed)
	set(&c.MaxNameLength, DefaultMaxNameLength)
	set(&c.MaxTextLength, DefaultMaxTextLength)
	set(&c.RateBurst, DefaultRateBurst)
	setD(&c.HandshakeTimeout, 10*time.Second)
	setD(&c.PingInterval, DefaultPingInterval)
	setD(&c.ShutdownGrace, time.Second)
	setD(&c.StatusCallBudget, 2*time.Second)
	set(&c.HistoryOnJoin, DefaultHistoryOnJoin)
	set(&c.PresenceFullLimit, DefaultPresenceFullLimit)
	set(&c.MaxRoomsPerUser, DefaultMaxRoomsPerUser)
	set(&c.MaxRoomMembers, DefaultMaxRoomMembers)
	setD(&c.HistoryFlushInterval, DefaultHistoryFlushInterval)
	setD(&c.AckTimeout, DefaultAckTimeout)
	setD(&c.ResumeGrace, DefaultResumeGrace)
	setD(&c.PresenceInterval, DefaultPresenceInterval)
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.DefaultName == "" {
		c.DefaultName = DefaultName
	}
	if c.DefaultColor == "" {
		c.DefaultColor = DefaultColor
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports the first invalid setting, naming its flag.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, flag, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...)))
		}
	}
	check(c.Pollers >= 0, "pollers", "must not be negative, got %d", c.Pollers)
	check(c.Writers >= 1 && c.Writers <= 256, "writers", "must be 1..256, got %d", c.Writers)
	check(c.MaxConnections > 0, "max-connections", "must be positive, got %d", c.MaxConnections)
	check(c.MaxMessageBytes >= 128, "max-message-bytes", "must be at least 128, got %d", c.MaxMessageBytes)
	check(c.MaxWriteBuffer >= 4096, "max-write-buffer", "must be at least 4096, got %d", c.MaxWriteBuffer)
	check(c.HandshakeTimeout > 0, "handshake-timeout", "must be positive, got %s", c.HandshakeTimeout)
	check(c.PingInterval >= 10*time.Millisecond, "ping-interval", "must be at least 10ms, got %s", c.PingInterval)
	check(c.PingMaxMissed >= 1, "ping-max-missed", "must be at least 1, got %d", c.PingMaxMissed)
	check(c.MaxNameLength >= 1 && c.MaxNameLength <= 256, "max-name-length", "must be 1..256, got %d", c.MaxNameLength)
	check(c.MaxTextLength >= 1, "max-text-length", "must be at least 1, got %d", c.MaxTextLength)
	check(c.RateLimit > 0, "rate-limit", "must be positive, got %g", c.RateLimit)
	check(c.RateBurst >= 1, "rate-burst", "must be at least 1, got %d", c.RateBurst)
	check(c.ShutdownGrace >= 0, "shutdown-grace", "must not be negative, got %s", c.ShutdownGrace)
	check((c.TLSCert == "") == (c.TLSKey == ""), "tls-cert", "--tls-cert and --tls-key go together")
	check(validName(c.DefaultName), "default-name", "must be a valid nickname (letters, digits, - _ and spaces), got %q", c.DefaultName)
	check(c.HistoryFlushInterval >= 0 && c.HistoryFlushInterval <= time.Second, "history-flush-interval", "must be 0..1s, got %s", c.HistoryFlushInterval)
	check(c.HistoryOnJoin >= -1 && c.HistoryOnJoin <= 1000, "history-on-join", "must be -1..1000, got %d", c.HistoryOnJoin)
	check(c.AckTimeout >= 10*time.Millisecond, "ack-timeout", "must be at least 10ms, got %s", c.AckTimeout)
	check(c.ResumeGrace >= time.Second, "resume-grace", "must be at least 1s, got %s", c.ResumeGrace)
	check(c.PresenceFullLimit >= 1, "presence-full-limit", "must be at least 1, got %d", c.PresenceFullLimit)
	check(c.PresenceInterval >= 10*time.Millisecond && c.PresenceInterval <= 10*time.Second, "presence-interval", "must be 10ms..10s, got %s", c.PresenceInterval)
	check(c.MaxRoomsPerUser >= 1, "max-rooms-per-user", "must be at least 1, got %d", c.MaxRoomsPerUser)
	check(c.MaxRoomMembers >= 2, "max-room-members", "must be at least 2, got %d", c.MaxRoomMembers)
	check(validColor(c.DefaultColor), "default-color", "must be #rgb or #rrggbb, got %q", c.DefaultColor)
	return errors.Join(errs...)
}

func validName(name string) bool { return name != "" && protocol.FilterName(name, 0) == name }

func validColor(color string) bool { return protocol.ValidColor(color) }
