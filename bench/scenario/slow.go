package scenario

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// SlowFigures say what clients that never read cost the server: its peak memory while
// they are cut off, and its memory once they are gone.
type SlowFigures struct {
	Clients       int    `json:"clients"`       // non-readers opened
	Cut           uint64 `json:"cut"`           // of them, closed by the server (their sockets saw the end)
	PingFlooders  int    `json:"pingFlooders"`  // clients sending RFC 6455 pings as fast as they can, never reading
	FloodersCut   uint64 `json:"floodersCut"`   // of them, closed by the server
	PeakRSSBytes  uint64 `json:"peakRssBytes"`  // the most the server held during the run
	AfterRSSBytes uint64 `json:"afterRssBytes"` // 5 s after the last cut (after the run's last message if none was cut)
	// LastCutSeconds is when the last cut came, in seconds from the non-readers' joining.
	LastCutSeconds float64 `json:"lastCutSeconds"`
	// WarmRSSBytes is the baseline: the server running the active clients' warmup
	// traffic, just before the non-readers joined.
	WarmRSSBytes uint64 `json:"warmRssBytes"`
	BaseRSSBytes uint64 `json:"baseRssBytes"` // before any client connected
}

// slow is broadcast with --slow-clients more clients in the chat that never read:
// every message is queued for them until the server cuts them. The active clients
// send for --warmup first, so that the baseline (the server's RSS just before the
// non-readers join) holds what their traffic fills anyway: the history's page caches,
// the rooms' recent lines, the code the run pages in. The figures are the active
// clients' latency and loss, the server's peak memory, and its memory 5 s after the
// last cut. With --slow-clients 0 it is the same run without them, to compare with.
func (r *run) slow(ctx context.Context) error {
	if r.o.SlowClients < 0 || r.o.PingFlooders < 0 {
		return fmt.Errorf("--slow-clients and --ping-flooders must not be negative")
	}
	if _, err := r.ramp(ctx, "ramp", r.o.Clients, r.o.RampRate); err != nil {
		return err
	}
	r.settle(ctx, time.Second, time.Minute)
	f := &SlowFigures{Clients: r.o.SlowClients, PingFlooders: r.o.PingFlooders, BaseRSSBytes: r.baseline.proc.RSSBytes}
	r.res.Slow = f
	readers, flooders := &nonReaders{stop: make(chan struct{})}, &nonReaders{stop: make(chan struct{})}
	var peak func() uint64
	var after *afterCut
	r.beforeMeasure = func() {
		if s, err := r.probe.sample(); err == nil && s.haveProc {
			f.WarmRSSBytes = s.proc.RSSBytes
		}
		readers = r.openNonReaders(r.o.SlowClients)
		flooders = r.openPingFlooders(r.o.PingFlooders)
		peak = r.sampleRSS(ctx)
		after = r.watchCuts(ctx, readers, flooders)
		time.Sleep(time.Second) // their upgrades and logins, before the measured messages
	}
	defer func() { readers.close(); flooders.close() }()
	err := r.broadcastExchange(ctx)
	if after == nil { // the exchange failed before its measurement
		return err
	}
	r.o.Progress.Update("after", 0, 0, "waiting for 5 s after the last cut")
	f.AfterRSSBytes, f.LastCutSeconds = after.wait()
	flooders.close() // each tells, once stopped, whether the server had cut it
	f.Cut, f.FloodersCut, f.PeakRSSBytes = readers.cut.Load(), flooders.cut.Load(), peak()
	return err
}

// afterCut samples the server's RSS 5 s after the latest cut of a non-reader or
// flooder, again after each later one.
type afterCut struct {
	r       *run
	groups  []*nonReaders
	joined  time.Time
	cancel  context.CancelFunc
	done    chan struct{}
	rss     uint64
	sampled int64 // the cut (unix ns) rss was sampled after
}

// afterCutDelay is how long after the last cut the memory is read.
const afterCutDelay = 5 * time.Second

func (r *run) watchCuts(ctx context.Context, groups ...*nonReaders) *afterCut {
	ctx, cancel := context.WithCancel(ctx)
	a := &afterCut{r: r, groups: groups, joined: time.Now(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for ctx.Err() == nil {
			if last := a.lastCut(); last != 0 && last != a.sampled && time.Since(time.Unix(0, last)) >= afterCutDelay {
				a.sample(last)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return a
}

func (a *afterCut) lastCut() int64 {
	var last int64
	for _, g := range a.groups {
		last = max(last, g.lastCut.Load())
	}
	return last
}

func (a *afterCut) sample(cut int64) {
	if s, err := a.r.probe.sample(); err == nil && s.haveProc {
		a.rss, a.sampled = s.proc.RSSBytes, cut
	}
}

// wait gives the RSS 5 s after the last cut, waiting for that moment if it is still to
// come, and when the last cut came; without cuts, the RSS 5 s from now.
func (a *afterCut) wait() (rss uint64, lastCut float64) {
	a.cancel()
	<-a.done
	last := a.lastCut()
	if last == 0 {
		time.Sleep(afterCutDelay)
		a.sample(0)
		return a.rss, 0
	}
	if last != a.sampled {
		time.Sleep(time.Until(time.Unix(0, last).Add(afterCutDelay)))
		a.sample(last)
	}
	return a.rss, time.Unix(0, last).Sub(a.joined).Seconds()
}

// nonReaders are raw sockets upgraded with a tiny receive window and never read.
type nonReaders struct {
	conns   []net.Conn
	cut     atomic.Uint64
	lastCut atomic.Int64 // unix ns of the latest cut seen
	wg      sync.WaitGroup
	stop    chan struct{}
	once    sync.Once
}

// openNonReaders opens n raw sockets that never read; each notices its cut by a
// write that fails.
func (r *run) openNonReaders(n int) *nonReaders {
	return r.openRaw(n, "slow", (*nonReaders).waitCut)
}

// openPingFlooders opens n raw sockets that never read and send masked 125-byte
// pings, 32 to a write, as fast as the server takes them, until they are cut or the
// run ends.
func (r *run) openPingFlooders(n int) *nonReaders {
	return r.openRaw(n, "pinger", (*nonReaders).flood)
}

// openRaw dials n raw sockets named prefix-i, each run by its own goroutine until
// the run ends.
func (r *run) openRaw(n int, prefix string, run func(*nonReaders, net.Conn)) *nonReaders {
	nr := &nonReaders{stop: make(chan struct{})}
	for i := range n {
		if c := r.dialRaw(i, prefix); c != nil {
			nr.conns = append(nr.conns, c)
			nr.wg.Add(1)
			go run(nr, c)
		}
	}
	return nr
}

// dialRaw opens the i-th raw socket, logged in as a client named prefix-i (a seed
// client, or presence=compact with --presence compact), with a 4 KB receive buffer; nil
// if it failed (noted).
func (r *run) dialRaw(i int, prefix string) net.Conn {
	u, _ := url.Parse(r.o.URLs[i%len(r.o.URLs)]) // round robin over the nodes, as the pool's clients
	c, err := net.DialTimeout("tcp", u.Host, r.dialTimeout())
	if err != nil {
		r.note("%s %d: %v", prefix, i, err)
		return nil
	}
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	query := fmt.Sprintf("userName=%s%s-%d", prefix, r.id, i)
	if r.o.Presence == "compact" { // like the pool's clients
		query += "&presence=compact"
	}
	req := fmt.Sprintf("GET /?%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", query, u.Host)
	if _, err := c.Write([]byte(req)); err != nil {
		c.Close()
		return nil
	}
	return c
}

// pingBurst is 32 masked pings with 125-byte payloads (the RFC's largest).
var pingBurst = func() []byte {
	frame := append([]byte{0x89, 0x80 | 125, 1, 2, 3, 4}, make([]byte, 125)...)
	return bytes.Repeat(frame, 32)
}()

func (nr *nonReaders) flood(c net.Conn) {
	defer nr.wg.Done()
	for {
		select {
		case <-nr.stop:
			if closedByServer(c) {
				nr.cut.Add(1) // seen only now: not a time to read the memory by
			}
			return
		default:
		}
		_ = c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Write(pingBurst); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue // the server's window is full: it has not read these yet
			}
			nr.sawCut()
			return
		}
	}
}

// sawCut counts a cut seen as it happens.
func (nr *nonReaders) sawCut() {
	nr.cut.Add(1)
	nr.lastCut.Store(time.Now().UnixNano())
}

// waitCut notices the server's close without reading the stream: it peeks with a
// write that fails once the server reset the connection.
func (nr *nonReaders) waitCut(c net.Conn) {
	defer nr.wg.Done()
	for {
		select {
		case <-nr.stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		// A masked empty Pong: harmless to the server, and it fails once the server closed.
		if _, err := c.Write([]byte{0x8a, 0x80, 0, 0, 0, 0}); err != nil {
			nr.sawCut()
			return
		}
	}
}

// closedByServer reads what c still holds, once the run is over: a flooder cut while
// its writes still went into the kernel's buffers sees the end here.
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 4096)
	for range 1024 { // at most 4 MiB of the pongs it never read
		if _, err := c.Read(buf); err != nil {
			ne, ok := err.(net.Error)
			return !ok || !ne.Timeout()
		}
	}
	return false
}

func (nr *nonReaders) close() {
	nr.once.Do(func() {
		close(nr.stop)
		nr.wg.Wait() // a flooder reads what it was sent before its socket closes
		for _, c := range nr.conns {
			c.Close()
		}
	})
}

// sampleRSS samples the server's RSS every 50 ms until ctx ends; the returned func
// stops it and gives the peak.
func (r *run) sampleRSS(ctx context.Context) func() uint64 {
	var peak atomic.Uint64
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if s, err := (serverProbe{pid: r.probe.pid, others: r.probe.others}).sample(); r.probe.pid > 0 && err == nil && s.proc.RSSBytes > peak.Load() {
				peak.Store(s.proc.RSSBytes) // every process's, summed
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() uint64 { cancel(); <-done; return peak.Load() }
}
