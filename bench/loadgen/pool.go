package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/engine/nbiofix"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// Config is how a Pool connects. Zero values mean defaults.
type Config struct {
	// URLs are ws://host:port/ of the server, or of each node of a cluster: client i
	// dials URLs[i % len(URLs)], so clients spread round robin over the nodes. Each
	// client adds its query.
	URLs []string
	// Pick, when set, chooses the URL client i dials (an index into URLs), for example
	// senders on one node and receivers on the others; out of range: round robin.
	Pick        func(i int) int
	SourceIPs   []net.IP      // local addresses to bind, round robin; none: the kernel's choice
	DialTimeout time.Duration // TCP connect to Authorized; default 10s
	Pollers     int           // nbio pollers; default: number of CPUs
	NamePrefix  string        // nickname prefix; default "bench"
	Query       url.Values    // extra query parameters of every login (e.g. presence=compact)
	Logger      *slog.Logger  // default slog.Default()
	// OnChat is called with every PublicMessage and PrivateMessage, on nbio's
	// goroutines, one at a time per client. It must not block.
	OnChat func(c *Client, f *Frame, at time.Duration)
	// OnOther is called like OnChat with every other frame the client does not
	// handle itself (Sent, RoomJoined, Error, ...). It must not block.
	OnOther func(c *Client, f *Frame, at time.Duration)
}

// DefaultDialTimeout is how long a client may take from TCP connect to Authorized.
const DefaultDialTimeout = 10 * time.Second

// Pool is a set of simulated clients on one nbio client engine.
type Pool struct {
	cfg      Config
	bases    []*url.URL // Config.URLs, parsed
	engine   *nbhttp.Engine
	upgrader *websocket.Upgrader
	epoch    time.Time
	stats    Stats

	mu      sync.Mutex
	clients []*Client
	dialed  uint64
	next    atomic.Uint64 // next source IP
}

// New starts the nbio engine of a Pool. Stop it with Close.
func New(cfg Config) (*Pool, error) {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.NamePrefix == "" {
		cfg.NamePrefix = "bench"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	bases, err := parseURLs(cfg.URLs)
	if err != nil {
		return nil, err
	}
	nbiofix.RouteLogs(cfg.Logger)
	engine := nbhttp.NewEngine(nbhttp.Config{
		Name:                    "chatbench",
		NPoller:                 cfg.Pollers,
		ReleaseWebsocketPayload: true, // frames are parsed inside the handler
		// Handlers run on the poller that read the data: they never block, and handing
		// each frame to a pooled goroutine cost more than the handler (stack growth,
		// scheduling) and queued 101s and frames behind each other under load.
		ClientExecutor: func(f func()) { f() },
		// Client conns run their frame parser through the engine's Execute, which is
		// nbio's server executor: inline too, for the same reason.
		ServerExecutor: func(f func()) { f() },
	})
	if err := engine.Start(); err != nil {
		return nil, fmt.Errorf("start nbio client engine: %w", err)
	}
	up := websocket.NewUpgrader()
	up.Engine = engine
	up.KeepaliveTime = 0
	p := &Pool{cfg: cfg, bases: bases, engine: engine, upgrader: up, epoch: time.Now()}
	p.stats.errors = make(map[string]uint64)
	p.stats.serverErrors = make(map[string]uint64)
	p.installHandlers()
	return p, nil
}

// parseURLs checks the servers' URLs (ws:// only) and makes them the base of each
// client's handshake request.
func parseURLs(urls []string) ([]*url.URL, error) {
	if len(urls) == 0 {
		return nil, errors.New("--url: no server URL")
	}
	var bases []*url.URL
	for _, raw := range urls {
		base, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("--url %q: %w", raw, err)
		}
		if base.Scheme != "ws" {
			return nil, fmt.Errorf("--url %q: only ws:// is supported", raw)
		}
		base.Scheme = "http"
		if base.Path == "" {
			base.Path = "/"
		}
		bases = append(bases, base)
	}
	return bases, nil
}

// Now is the time since the pool started, on the monotonic clock: every timestamp a
// Pool hands out is on this scale.
func (p *Pool) Now() time.Duration { return time.Since(p.epoch) }

// Query is a copy of the pool's extra login parameters.
func (p *Pool) Query() url.Values {
	q := url.Values{}
	for k, v := range p.cfg.Query {
		q[k] = append([]string(nil), v...)
	}
	return q
}

// Stats is the pool's live counters.
func (p *Pool) Stats() *Stats { return &p.stats }

// Clients returns every client dialed so far, in dial order.
func (p *Pool) Clients() []*Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Client(nil), p.clients...)
}

// Authorized returns the clients that are logged in now, in dial order.
func (p *Pool) Authorized() []*Client {
	var out []*Client
	for _, c := range p.Clients() {
		if c.State() == StateAuthorized {
			out = append(out, c)
		}
	}
	return out
}

// CloseAll closes every open client with a normal close frame.
func (p *Pool) CloseAll() {
	for _, c := range p.Clients() {
		c.Close()
	}
}

// Forget drops closed clients from the pool's list, so a long churn run does not keep
// every client it ever made.
func (p *Pool) Forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.clients[:0]
	for _, c := range p.clients {
		if s := c.State(); s != StateClosed && s != StateFailed {
			kept = append(kept, c)
		}
	}
	clear(p.clients[len(kept):])
	p.clients = kept
}

// WaitClosed waits until no client is open or dialing, or ctx ends.
func (p *Pool) WaitClosed(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for p.stats.Live() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d clients to close: %w", p.stats.Live(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Close closes every client and stops the engine.
func (p *Pool) Close() {
	p.CloseAll()
	nbiofix.WaitPollersStarted(p.epoch)
	p.engine.Stop()
}
