package engine

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/engine/nbiofix"
	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
)

// Worker is one Workerman-style worker on an nbio engine: it accepts WebSocket (and
// plain HTTP) connections on Config.Listen and runs a Handler on its owner goroutine.
type Worker struct {
	cfg     Config
	handler Handler
	log     *slog.Logger
	loop    *loop
	stats   stats
	mux     *http.ServeMux
	proxies trustedProxies         // --trusted-proxies
	uploads map[string]uploadRoute // HandleUpload's routes: "METHOD /path" -> its cap
	bodies  bodyBudget             // --max-upload-buffer
	engine  *nbhttp.Engine
	// dataHandler is nbhttp's handler of a connection's reads, one func value for all
	// of them (session.adopt).
	dataHandler func(*nbio.Conn, []byte)
	addr        net.Addr
	bound       net.Listener // bound by Start before nbio starts; handed to nbio by listen
	dataDir     string       // reported by /status (SetDataDir)
	started     time.Time
	nextID      atomic.Uint64
	held        atomic.Int64  // bytes the transports hold unsent, all connections (Conn.held)
	parked      atomic.Int64  // what parked frames cost the write budgets, all connections (park.go)
	done        chan struct{} // closed when the owner goroutine has returned

	closeNames   map[int]string // close codes by name, the engine's and the handler's
	releaseEvery time.Duration  // how often releaseMemory looks; tests shorten it
	releaseGap   int            // checks between two releases (0: releaseSpacing); tests widen it
	releaseSoon  atomic.Bool    // a slow consumer holding much was cut: release without waiting out the spacing
	onRelease    func()         // what else gives memory back at a release (OnRelease)
	shared       [][]byte       // the handler's SharedMessages, capped at their length
	sharedLen    int            // the longest of them: longer payloads are not looked up
	ownerStarted atomic.Bool    // startOwner ran: Stop has an owner to stop
	onBatch      func(time.Duration)
	stopOnce     sync.Once
}

// New makes a Worker running h with cfg (start from DefaultConfig). It fails if cfg
// is invalid.
func New(cfg Config, h Handler) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	w := &Worker{
		cfg:        cfg,
		handler:    h,
		log:        cfg.Logger,
		loop:       newLoop(),
		mux:        http.NewServeMux(),
		done:       make(chan struct{}),
		closeNames: closeNames(h),
	}
	w.bodies.limit = int64(cfg.MaxUploadBuffer)
	w.proxies, _ = parseTrustedProxies(cfg.TrustedProxies) // checked by Validate
	w.shareMessages(h)
	w.mux.HandleFunc("GET /healthz", w.serveHealth)
	w.mux.Handle("GET /status", RequireToken(cfg.StatusToken, http.HandlerFunc(w.serveStatus)))
	return w, nil
}

// shareMessages reads h's SharedMessages, if it has any. Each is capped at its
// length, so a handler's append to one copies instead of writing into it.
func (w *Worker) shareMessages(h Handler) {
	sh, ok := h.(SharedMessages)
	if !ok {
		return
	}
	for _, m := range sh.SharedMessages() {
		w.shared = append(w.shared, m[:len(m):len(m)])
		w.sharedLen = max(w.sharedLen, len(m))
	}
}

// Handle adds an HTTP route served on the same port (before Start).
func (w *Worker) Handle(pattern string, h http.Handler) { w.mux.Handle(pattern, h) }

// Addr is the address the worker listens on, known after Start (useful with port 0).
func (w *Worker) Addr() net.Addr { return w.addr }

// Start runs OnWorkerStart on the owner, then starts listening. It returns once the
// listener is up.
func (w *Worker) Start() error { return w.StartWhenReady(nil) }

// StartWhenReady is Start with ready (if not nil) run after the owner started and
// before the port is bound: a cluster node catches up with the cluster there, its
// commits reaching the running owner, and no client is accepted meanwhile, not even
// into a backlog that --reuse-port siblings would share. An error from ready stops the
// owner and is returned.
func (w *Worker) StartWhenReady(ready func() error) error {
	w.startOwner()
	if ready != nil {
		if err := ready(); err != nil {
			w.quit()
			return err
		}
	}
	// Bind before nbio starts its pollers: when nbio's own listen fails it stops the
	// pollers it has just started, and that stop can hang for ever (see
	// nbiofix.PollerStartGrace), so a busy port or a bad address must fail here.
	ln, err := w.cfg.listenTCP(w.cfg.Listen)
	if err != nil {
		w.quit()
		return fmt.Errorf("--listen %s: %w", w.cfg.Listen, err)
	}
	w.bound = ln
	conf, err := w.nbioConfig()
	if err != nil {
		ln.Close()
		w.quit()
		return err
	}
	w.engine = nbhttp.NewEngine(conf)
	w.engine.Engine.BodyAllocator = nbiofix.HeapAllocator{}
	w.dataHandler = w.engine.DataHandler
	if w.cfg.TLSCert != "" {
		w.dataHandler = w.engine.TLSDataHandler
	}
	w.engine.Engine.OnWrittenSize(func(c *nbio.Conn, _ []byte, n int) {
		if s, ok := c.Session().(*session); ok {
			if conn := s.conn.Load(); conn != nil {
				conn.written(n)
			}
		}
	})
	w.engine.OnOpen(func(net.Conn) { nbiofix.Accepted() })
	w.engine.Engine.OnData(func(c *nbio.Conn, data []byte) {
		nbiofix.BeforeRead()
		w.adopt(c) // the engine's session parses every request head and frame
		c.DataHandler()(c, data)
	})
	if err := w.engine.Start(); err != nil {
		w.quit()
		return fmt.Errorf("listen on %s: %w", w.cfg.Listen, err)
	}
	w.log.Info("chatd worker started", "addr", w.addr.String(), "tls", w.cfg.TLSCert != "", "pollers", w.cfg.Pollers)
	return nil
}

// StartLocal runs OnWorkerStart and the owner without a listener: connections come
// only through Attach. It is the seam for running a Handler on the real owner loop
// and write path over in-memory transports (see package enginetest).
func (w *Worker) StartLocal() { w.startOwner() }

func (w *Worker) startOwner() {
	nbiofix.RouteLogs(w.log)
	w.started = time.Now()
	w.loop.writers = newWriters(w.writerCount())
	w.ownerStarted.Store(true)
	go w.run()
	w.Call(func() { w.safely(nil, func() { w.handler.OnWorkerStart(w) }) })
	// What the process's setup freed goes back at once, before releaseMemory takes its
	// base: the accounts' dummy password hash alone is a 19 MB argon2 buffer, which the
	// runtime kept resident (a fresh chatd at 42 MB RSS instead of 24 MB) and handed to
	// the first connections, so their memory did not show.
	debug.FreeOSMemory()
	go w.releaseMemory()
}

func (w *Worker) writerCount() int {
	if w.cfg.Writers == 0 {
		return runtime.NumCPU()
	}
	return w.cfg.Writers
}

func (w *Worker) nbioConfig() (nbhttp.Config, error) {
	conf := nbhttp.Config{
		Name:    "chatd",
		Network: "tcp",
		NPoller: w.cfg.Pollers,
		// Room above --max-connections for plain HTTP, so /healthz and /status still
		// answer at capacity; WebSocket upgrades past it get 503 (session.upgrade).
		MaxLoad:                w.cfg.MaxConnections + httpHeadroom,
		MaxWriteBufferSize:     w.cfg.MaxWriteBuffer,
		MaxHTTPBodySize:        w.maxBodyLimit(),
		MessageHandlerPoolSize: httpHandlers,
		KeepaliveTime:          w.cfg.HandshakeTimeout,
		Handler:                w.proxies.forwardedFor(w.mux),
		Listen:                 w.listen,
	}
	if w.cfg.TLSCert == "" {
		conf.Addrs = []string{w.cfg.Listen}
		return conf, nil
	}
	cert, err := tls.LoadX509KeyPair(w.cfg.TLSCert, w.cfg.TLSKey)
	if err != nil {
		return conf, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	conf.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	conf.AddrsTLS = []string{w.cfg.Listen}
	return conf, nil
}

func (w *Worker) listen(network, addr string) (net.Listener, error) {
	if ln := w.bound; ln != nil && addr == w.cfg.Listen {
		w.bound, w.addr = nil, ln.Addr()
		return ln, nil
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	if w.addr == nil {
		w.addr = ln.Addr()
	}
	return ln, nil
}

// Stop closes every connection with CloseGoingAway, gives clients ShutdownGrace to
// answer, stops the engine and the owner. Safe to call more than once.
func (w *Worker) Stop() {
	w.stopOnce.Do(func() {
		if !w.ownerStarted.Load() {
			return // never started (a server whose setup failed after New): nothing runs
		}
		w.Call(func() {
			w.safely(nil, func() { w.handler.OnWorkerStop(w) })
			for _, c := range w.loop.conns {
				c.Close(CloseGoingAway)
			}
		})
		deadline := time.Now().Add(w.cfg.ShutdownGrace + 100*time.Millisecond)
		for w.stats.connections.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if w.engine != nil {
			nbiofix.WaitPollersStarted(w.started)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = w.engine.Shutdown(ctx)
			cancel()
		}
		w.quit()
		w.log.Info("chatd worker stopped")
	})
}

func (w *Worker) quit() {
	w.loop.post(event{kind: evQuit})
	<-w.done
}

// Post runs fn on the owner, soon. Safe from any goroutine.
func (w *Worker) Post(fn func()) { w.loop.post(event{kind: evFunc, fn: fn}) }

// Call runs fn on the owner and waits for it. Never call it from the owner.
func (w *Worker) Call(fn func()) {
	done := make(chan struct{})
	w.Post(func() { defer close(done); fn() })
	select {
	case <-done:
	case <-w.done:
	}
}

// clock is the worker's monotonic clock in milliseconds (wrapping after 49 days), for
// state that every connection keeps and a time.Time would make bigger.
func (w *Worker) clock() uint32 { return uint32(time.Since(w.started).Milliseconds()) }

// Conns is the number of open WebSocket connections. Safe from any goroutine.
func (w *Worker) Conns() int { return int(w.stats.connections.Load()) }

// run is the owner goroutine.
func (w *Worker) run() {
	defer close(w.done)
	var batch []event
	for range w.loop.wake {
		var start time.Time
		if w.onBatch != nil {
			start = time.Now()
		}
		batch = w.loop.take(batch)
		for i := range batch {
			if batch[i].kind == evQuit {
				w.loop.flush()
				w.loop.writers.stop()
				return
			}
			w.dispatch(&batch[i])
			if i%256 == 255 {
				w.loop.flush() // bound the latency a long batch adds
			}
		}
		w.loop.flush()
		if w.onBatch != nil {
			w.onBatch(time.Since(start))
		}
	}
}

// ObserveBatches has fn run on the owner after each batch the owner ran, with how
// long the batch took, its flush included: for a metrics histogram. Call it before
// Start; fn must be quick and must not block.
func (w *Worker) ObserveBatches(fn func(time.Duration)) { w.onBatch = fn }

func (w *Worker) dispatch(ev *event) {
	c := ev.conn
	switch ev.kind {
	case evOpen:
		w.loop.addConn(c)
		_ = c.t.SetReadDeadline(time.Time{}) // see nbiofix.ClearHandshakeReadDeadline
		w.safely(c, func() { w.handler.OnConnect(c) })
		if !c.Closing() {
			w.safely(c, func() { w.handler.OnWebSocketConnect(c, ev.req) })
		}
	case evMessage:
		if c.Closing() {
			return
		}
		w.stats.messagesIn.Add(1)
		w.safely(c, func() { w.handler.OnMessage(c, Message{Data: ev.data, Binary: ev.binary}) })
	case evClose:
		w.closed(c, *ev.reason)
	case evDrain:
		c.unpark()
	case evFail:
		if !c.closed {
			c.fail(*ev.reason)
		}
	case evFunc:
		ev.fn()
	}
}

// closed ends a connection nbio closed: its memory is released and OnClose runs.
func (w *Worker) closed(c *Conn, reason CloseReason) {
	if c.closed {
		return
	}
	if c.holding() >= cutReleaseBytes {
		w.releaseSoon.Store(true)
	}
	c.dropParked()
	c.closed = true
	c.out, c.shared = nil, false
	if !c.flags.set(flagDropped) {
		w.held.Add(-c.held.Swap(0)) // nbio dropped what it held for it
	}
	w.loop.removeConn(c)
	if c.closing != nil {
		reason = *c.closing
	}
	w.countClose(reason.Code)
	w.safely(nil, func() { w.handler.OnClose(c, reason) })
}

// safely runs a callback so that a panic in it costs one connection, not the server.
func (w *Worker) safely(c *Conn, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("handler panic", "conn", connID(c), "panic", r, "stack", string(debug.Stack()))
			w.stats.panics.Add(1)
			if c != nil {
				c.Close(CloseInternal)
			}
		}
	}()
	fn()
}

func connID(c *Conn) uint64 {
	if c == nil {
		return 0
	}
	return c.id
}

// Attach opens a connection over t, a transport that is not one of nbio's sockets
// (an in-memory one in tests): the owner runs OnConnect and OnWebSocketConnect for it
// as for a socket, and its frames go through the same buffered write path. The
// caller delivers what the peer sends with Receive and reports the end with Detach.
func (w *Worker) Attach(t Transport, req *Request) *Conn { return w.open(t, req, false, nil) }

// Receive hands the owner a message that arrived on an attached connection.
func (w *Worker) Receive(c *Conn, m Message) {
	w.loop.post(event{kind: evMessage, conn: c, data: m.Data, binary: m.Binary})
}

// Detach reports that an attached connection's transport closed, for reason (unless
// the server had started closing it: then OnClose gets the server's reason).
func (w *Worker) Detach(c *Conn, reason CloseReason) {
	w.stats.connections.Add(-1)
	w.loop.post(event{kind: evClose, conn: c, reason: &reason})
}

// open makes the Conn of a connection that just became a WebSocket over t and hands
// it to the owner.
// known runs before the owner hears of the connection: the session publishes it
// there for nbio's written-size callback, which must find it from the first frame the
// owner writes (a frame it missed stayed counted as unsent forever, and the
// connection's frames waited for a drain that never came).
func (w *Worker) open(t Transport, req *Request, tracked bool, known func(*Conn)) *Conn {
	c := &Conn{id: w.nextID.Add(1), t: t, w: w, tracked: tracked}
	if known != nil {
		known(c)
	}
	w.stats.connections.Add(1)
	w.stats.accepted.Add(1)
	w.loop.post(event{kind: evOpen, conn: c, req: req})
	return c
}

// checkOrigin lets through what the seed's clients send (no Origin, or a non-URL such
// as the Qt client's "SimpleChatClient"), browsers on the same host, and browsers on
// --allowed-origins. An origin check protects browsers' users; other clients can send
// any Origin they like anyway. What a browser sends for a page that has no web origin
// of its own ("null" from a sandboxed iframe, file://, chrome-extension://, or an
// origin that does not parse) is refused unless --allowed-origins is "*": any web site
// could open such a page in its visitors' browsers.
func (w *Worker) checkOrigin(origin, host string) bool {
	if origin == "" || !strings.Contains(origin, "://") && origin != "null" {
		return true // not a browser
	}
	u, err := url.Parse(origin)
	webOrigin := err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	if webOrigin && strings.EqualFold(u.Host, host) {
		return true
	}
	for _, allowed := range w.cfg.AllowedOrigins {
		if allowed == "*" || webOrigin && strings.EqualFold(strings.TrimRight(allowed, "/"), origin) {
			return true
		}
	}
	return false
}

// memStats reads the runtime's memory figures for /status.
func memStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}
