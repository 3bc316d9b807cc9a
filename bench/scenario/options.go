package scenario

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/chatd/chatd/bench/progress"
)

// Options are one run's settings (chatbench's flags).
type Options struct {
	Scenario     string
	URLs         []string // ws://host:port/ of the server or of each node; clients go round robin
	Target       string   // label of the server under test
	Clients      int
	Senders      int
	Rate         float64 // offered messages/s, all senders together (connect: connects/s, 0 = unpaced)
	RampRate     float64 // connects/s while other scenarios ramp (0 = unpaced)
	Duration     time.Duration
	Warmup       time.Duration
	PayloadBytes int
	Rooms        int // rooms scenario: K
	Cycles       int // churn
	SlowClients  int // slow: clients that never read, besides --clients
	PingFlooders int // slow: clients that send RFC 6455 pings as fast as they can and never read
	SourceIPs    []net.IP
	ServerPID    int // read CPU, RSS and fds from /proc/PID
	// OtherPIDs are more processes of the server under test (a cluster's other nodes
	// and its nats-server): their CPU, RSS and fds are added to ServerPID's.
	OtherPIDs   []int
	StatusURL   string // chatd's /status
	DialTimeout time.Duration
	Pollers     int    // nbio pollers of the client pool (0: one per CPU)
	Presence    string // "compact": log in with presence=compact (chatd's opt-in); "" or "full": the seed's presence
	// ExtraFiles are open files this process needs besides the clients (an in-process server's).
	ExtraFiles int
	// KillPID is the failover scenario's victim: the pid of the node at URLs[0].
	KillPID int
	// SenderURLs, when set, are the nodes the senders dial (broadcast); the receivers
	// dial URLs, and only their deliveries count (every one crosses the cluster).
	SenderURLs []string
	Progress   *progress.Reporter
	Logger     *slog.Logger
}

// MaxInFlight bounds the clients dialing at once, so an unpaced ramp does not flood
// the server's accept queue.
const MaxInFlight = 500

// drainTimeout is how long a run waits, after its last send, for deliveries that are
// still on their way, once no more arrive.
const drainTimeout = 3 * time.Second

func (o *Options) validate() error {
	switch {
	case len(o.URLs) == 0:
		return fmt.Errorf("--url: no server URL")
	case o.Clients <= 0:
		return fmt.Errorf("--clients must be at least 1, got %d", o.Clients)
	case o.Senders < 0 || o.Senders > o.Clients:
		return fmt.Errorf("--senders must be 0..%d (the clients), got %d", o.Clients, o.Senders)
	case o.Rate < 0:
		return fmt.Errorf("--rate must be >= 0, got %g", o.Rate)
	case o.Duration <= 0 || o.Duration > 24*time.Hour:
		return fmt.Errorf("--duration must be in (0, 24h], got %s", o.Duration)
	case o.Warmup < 0:
		return fmt.Errorf("--warmup must be >= 0, got %s", o.Warmup)
	case o.Presence != "" && o.Presence != "full" && o.Presence != "compact":
		return fmt.Errorf("--presence must be full or compact, got %q", o.Presence)
	case o.Scenario == "failover" && (len(o.URLs) < 2 || o.KillPID <= 0):
		return fmt.Errorf("failover needs two --url or more (the first is killed) and --kill-pid")
	case len(o.SenderURLs) > 0 && o.Scenario != "broadcast":
		return fmt.Errorf("--sender-url is for the broadcast scenario only")
	case o.PayloadBytes < 0 || o.PayloadBytes > 60_000:
		return fmt.Errorf("--payload-bytes must be 0..60000, got %d", o.PayloadBytes)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

func (o *Options) settings() Settings {
	return Settings{
		Clients: o.Clients, Senders: o.Senders, Rate: o.Rate, DurationSec: o.Duration.Seconds(),
		WarmupSec: o.Warmup.Seconds(), PayloadBytes: o.PayloadBytes, Rooms: o.Rooms, SourceIPs: len(o.SourceIPs),
	}
}

// runID names one run in message texts and room ids.
func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
