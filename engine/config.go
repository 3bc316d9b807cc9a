package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is what the engine reads: the listener, the transport's limits and the
// shutdown. Start from DefaultConfig: New uses every value as it is (a zero keeps its
// meaning, or is refused) and never fills one in. Each field's comment names its
// chatd flag, which Validate names when the value is wrong.
type Config struct {
	Listen  string // --listen: host:port for ws://, HTTP and the status page
	Pollers int    // --pollers: nbio poller goroutines (0: one per CPU)
	Writers int    // --writers: goroutines that write a batch's frames, the owner included (0: one per CPU)

	ReusePort bool // --reuse-port: SO_REUSEPORT on Listen, so several chatd processes (one cluster node per core) share the port

	TLSCert string // --tls-cert: PEM certificate; with TLSKey, Listen serves wss:// and https://
	TLSKey  string // --tls-key

	MaxConnections      int           // --max-connections: WebSocket and HTTP connections at once
	MaxMessageBytes     int           // --max-message-bytes: largest frame or message accepted
	MaxWriteBuffer      int           // --max-write-buffer: unsent bytes per connection before it is cut off
	MaxTotalWriteBuffer int           // --max-total-write-buffer: unsent bytes of all connections together before the biggest holders are cut
	SocketSendBuffer    int           // --socket-send-buffer: SO_SNDBUF of a WebSocket connection (0: the kernel's autotuning)
	MaxHeaderBytes      int           // --max-header-bytes: a request's line and headers, at most
	MaxUploadBuffer     int           // --max-upload-buffer: upload bodies (HandleUpload) held in memory at once
	MaxPingsPerSecond   int           // --max-pings-per-second: RFC 6455 pings a connection may send
	HandshakeTimeout    time.Duration // --handshake-timeout: time to send a complete HTTP request
	AllowedOrigins      []string      // --allowed-origins: browser origins allowed besides the same host; "*" allows all
	TrustedProxies      []string      // --trusted-proxies: addresses and CIDRs of reverse proxies whose X-Forwarded-For names the client (proxy.go)
	ShutdownGrace       time.Duration // --shutdown-grace: time clients get to answer the close frame at stop (0: none)

	StatusToken string // --status-token: when set, /status (and /metrics) need "Authorization: Bearer" it; /healthz stays open

	Version string       // reported by /status
	Logger  *slog.Logger // where the engine logs; nil: slog.Default()
}

// httpHeadroom is how many plain HTTP connections are accepted beyond
// --max-connections, for monitoring at capacity.
const httpHeadroom = 256

// DefaultSocketSendBuffer is --socket-send-buffer's default. The kernel's autotuning
// lets a socket whose peer never reads take up to tcp_wmem's maximum (4 MiB here)
// of kernel memory, outside every budget of the process, and the owner spends its CPU
// copying frames into it: 500 non-readers took 7 s of both cores to fill theirs while
// the readers' p99 doubled. Linux doubles the value for its bookkeeping, so a socket
// holds about 256 KiB: a 250 KB replay in one go, and 2.5 MB/s to a client 100 ms away.
const DefaultSocketSendBuffer = 128 << 10

// DefaultListen is --listen's default, the seed's port.
const DefaultListen = ":27800"

// DefaultConfig is the engine's configuration with every default in place.
func DefaultConfig() Config {
	return Config{
		Listen:              DefaultListen,
		MaxConnections:      100_000,
		MaxMessageBytes:     64 << 10,
		MaxWriteBuffer:      4 << 20,
		MaxTotalWriteBuffer: defaultTotalWriteBuffer(),
		SocketSendBuffer:    DefaultSocketSendBuffer,
		MaxHeaderBytes:      8 << 10,
		MaxUploadBuffer:     64 << 20,
		MaxPingsPerSecond:   10,
		HandshakeTimeout:    10 * time.Second,
		ShutdownGrace:       time.Second,
	}
}

// Validate reports every invalid setting, each naming its flag.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, flag, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...)))
		}
	}
	check(c.Listen != "", "listen", "must be host:port, got nothing")
	check(c.Listen == "" || validListen(c.Listen), "listen", "must be host:port (:27800, 127.0.0.1:27800, [::1]:27800) with a port 0..65535, got %q", c.Listen)
	check(c.Pollers >= 0, "pollers", "must not be negative, got %d", c.Pollers)
	check(c.Writers >= 0 && c.Writers <= 256, "writers", "must be 0..256 (0: one per CPU), got %d", c.Writers)
	check(c.MaxConnections > 0, "max-connections", "must be positive, got %d", c.MaxConnections)
	check(c.MaxMessageBytes >= 128, "max-message-bytes", "must be at least 128, got %d", c.MaxMessageBytes)
	check(c.MaxMessageBytes <= maxMessageLimit, "max-message-bytes", "must be at most %d (1 GiB), got %d", maxMessageLimit, c.MaxMessageBytes)
	check(c.MaxWriteBuffer >= 4096, "max-write-buffer", "must be at least 4096, got %d", c.MaxWriteBuffer)
	check(c.MaxTotalWriteBuffer >= c.MaxWriteBuffer, "max-total-write-buffer", "must be at least --max-write-buffer (%d), got %d", c.MaxWriteBuffer, c.MaxTotalWriteBuffer)
	check(c.SocketSendBuffer == 0 || c.SocketSendBuffer >= 4096, "socket-send-buffer", "must be 0 (the kernel's autotuning) or at least 4096, got %d", c.SocketSendBuffer)
	check(c.MaxHeaderBytes >= 1024 && c.MaxHeaderBytes <= 1<<20, "max-header-bytes", "must be 1024..1048576, got %d", c.MaxHeaderBytes)
	check(c.MaxPingsPerSecond >= 1, "max-pings-per-second", "must be at least 1, got %d", c.MaxPingsPerSecond)
	check(c.MaxUploadBuffer > 0, "max-upload-buffer", "must be positive, got %d", c.MaxUploadBuffer)
	check(c.HandshakeTimeout > 0, "handshake-timeout", "must be positive, got %s", c.HandshakeTimeout)
	check(c.ShutdownGrace >= 0, "shutdown-grace", "must not be negative, got %s", c.ShutdownGrace)
	check((c.TLSCert == "") == (c.TLSKey == ""), "tls-cert", "--tls-cert and --tls-key go together")
	_, perr := parseTrustedProxies(c.TrustedProxies)
	check(perr == nil, "trusted-proxies", "%v", perr)
	check(validToken(c.StatusToken), "status-token", "must be printable ASCII without spaces (an HTTP header carries it)")
	return errors.Join(errs...)
}

// validListen reports whether addr is host:port with a numeric port; the host may be
// empty (every interface), an IP or a name. Binding it is Start's test.
func validListen(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || strings.ContainsAny(host, " /") {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n <= 65535
}
