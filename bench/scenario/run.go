package scenario

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/bench/loadgen"
	"github.com/chatd/chatd/protocol"
)

// Scenarios are the names Run knows.
var Scenarios = []string{"connect", "idle", "broadcast", "private", "churn", "rooms", "history", "slow", "failover"}

// run is one scenario's state.
type run struct {
	o       *Options
	id      string
	res     *Result
	pool    *loadgen.Pool
	probe   serverProbe
	tracker *Tracker // deliveries
	acks    *Tracker // history: Sent answers

	// room returns the room a client's messages go to and it counts deliveries from
	// ("" = the default room); isDelivery says whether a chat frame is a delivery to c.
	room       func(c *loadgen.Client) string
	isDelivery func(c *loadgen.Client, f *loadgen.Frame) bool

	baseline serverSample
	// beforeMeasure, if set, runs once the warmup's messages are sent, with the sending
	// paused (slow: the warm baseline, then the non-readers join).
	beforeMeasure func()
	joined        atomic.Int64
	mu            sync.Mutex
	rateLimited   map[int]uint64  // by sender index
	seqs          []atomic.Uint64 // failover: the last seq each client saw (its since=)
}

// Run runs one scenario to its end (or ctx's) and returns its figures.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	need := o.Clients + o.SlowClients + o.PingFlooders // churn too: one cycle's clients are open at a time
	if _, err := loadgen.RaiseFileLimit(need, o.ExtraFiles); err != nil {
		return nil, err
	}
	if err := loadgen.CheckPorts(need, o.SourceIPs); err != nil {
		return nil, err
	}
	r := &run{
		o:           &o,
		id:          runID(),
		probe:       serverProbe{pid: o.ServerPID, others: o.OtherPIDs, statusURL: o.StatusURL},
		rateLimited: make(map[int]uint64),
		res:         &Result{Scenario: o.Scenario, Target: o.Target, URL: strings.Join(o.URLs, ","), Started: time.Now().UTC(), Settings: o.settings()},
	}
	r.tracker = NewTracker(r.id, o.Clients)
	r.acks = NewTracker(r.id, o.Clients)
	r.room = func(*loadgen.Client) string { return "" }
	r.isDelivery = func(*loadgen.Client, *loadgen.Frame) bool { return true }
	var scenario func(context.Context) error
	switch o.Scenario {
	case "connect":
		scenario = r.connect
	case "idle":
		scenario = r.idle
	case "broadcast":
		scenario = r.broadcast
	case "private":
		scenario = r.private
	case "rooms":
		scenario = r.rooms
	case "history":
		scenario = r.history
	case "churn":
		scenario = r.churn
	case "slow":
		scenario = r.slow
	case "failover":
		scenario = r.failover
		r.seqs = make([]atomic.Uint64, o.Clients)
	default:
		return nil, fmt.Errorf("unknown scenario %q (want one of %v)", o.Scenario, Scenarios)
	}
	cfg := loadgen.Config{
		URLs: o.URLs, SourceIPs: o.SourceIPs, DialTimeout: o.DialTimeout, Logger: o.Logger, Pollers: o.Pollers,
		NamePrefix: "cb" + r.id + "-", OnChat: r.onChat, OnOther: r.onOther,
	}
	cfg.Query = url.Values{}
	if o.Presence == "compact" {
		cfg.Query.Set("presence", "compact")
		r.note("clients log in with presence=compact")
	}
	r.route(&cfg)
	pool, err := loadgen.New(cfg)
	if err != nil {
		return nil, err
	}
	r.pool = pool
	defer pool.Close()
	// The baseline comes before the first dial (and after the pool's own goroutines
	// and epoll fds, should the server share this process).
	if r.baseline, err = r.probe.sample(); err != nil {
		return nil, err
	}
	err = scenario(ctx)
	r.res.Errors = r.errors()
	if d := pool.Stats().Dropped.Load(); d > 0 {
		r.note("the server closed %d logged-in clients during the run%s", d, r.closeReasons())
	}
	if ctx.Err() != nil {
		r.note("interrupted: figures cover the run up to the interruption")
	}
	r.closeAll()
	return r.res, err
}

// route sets which node each client dials: failover puts every client on the first
// URL, opted in to resume; --sender-url puts the senders on their own node(s) and the
// receivers round robin on --url.
func (r *run) route(cfg *loadgen.Config) {
	switch {
	case r.o.Scenario == "failover":
		cfg.Query.Set("resume", "")
		cfg.Pick = func(int) int { return 0 }
	case len(r.o.SenderURLs) > 0:
		senders, ns := r.senderCount(), len(r.o.SenderURLs)
		cfg.URLs = append(append([]string(nil), r.o.SenderURLs...), r.o.URLs...)
		cfg.Pick = func(i int) int {
			if i < senders {
				return i % ns
			}
			return ns + (i-senders)%len(r.o.URLs)
		}
		r.note("senders on %v, receivers on %v: only the receivers' deliveries count", r.o.SenderURLs, r.o.URLs)
	}
}

func (r *run) note(format string, args ...any) {
	r.res.Notes = append(r.res.Notes, fmt.Sprintf(format, args...))
}

func (r *run) onChat(c *loadgen.Client, f *loadgen.Frame, at time.Duration) {
	if c.Index < len(r.seqs) && f.Seq > r.seqs[c.Index].Load() {
		r.seqs[c.Index].Store(f.Seq) // one frame at a time per client
	}
	if r.isDelivery(c, f) {
		r.tracker.Deliver(c.Index, f.Text, at)
	}
}

func (r *run) onOther(c *loadgen.Client, f *loadgen.Frame, at time.Duration) {
	switch f.Action {
	case protocol.ActionRoomJoined:
		if f.RoomID == r.room(c) {
			r.joined.Add(1)
		}
	case protocol.ActionSent:
		r.acks.Deliver(c.Index, clientMsgIDText(f.ClientMsgID), at)
	case protocol.ActionError:
		if f.Code == "rate_limited" {
			r.mu.Lock()
			r.rateLimited[c.Index]++
			r.mu.Unlock()
		}
	}
}

// closeReasons lists the server's closes since the baseline by reason, from /status.
func (r *run) closeReasons() string {
	if !r.baseline.haveStatus {
		return ""
	}
	now, err := r.probe.sample()
	if err != nil {
		return ""
	}
	reasons := make([]string, 0, len(now.status.Closes))
	for reason, n := range now.status.Closes {
		if d := n - r.baseline.status.Closes[reason]; d > 0 {
			reasons = append(reasons, fmt.Sprintf("%s: %d", reason, d))
		}
	}
	sort.Strings(reasons)
	return " (server closes since the start: " + strings.Join(reasons, ", ") + ")"
}

// errors merges client failures and the server's Error codes ("server:<code>").
func (r *run) errors() map[string]uint64 {
	out := r.pool.Stats().Errors()
	for code, n := range r.pool.Stats().ServerErrors() {
		out["server:"+code] += n
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// closeAll closes every client and waits a little for the closes to go out.
func (r *run) closeAll() {
	r.pool.CloseAll()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = r.pool.WaitClosed(ctx)
}

// ramp dials n clients at rate connects/s (0: as fast as MaxInFlight allows) and
// waits until each is logged in or failed.
func (r *run) ramp(ctx context.Context, phase string, n int, rate float64) (time.Duration, error) {
	stats := r.pool.Stats()
	authBefore := stats.Authorized.Load()
	failBefore := stats.Failed.Load()
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	detail := func() string {
		return fmt.Sprintf("authorized %d failed %d dialing %d", stats.Authorized.Load()-authBefore, stats.Failed.Load()-failBefore, stats.Dialing.Load())
	}
	dialed := 0
	for dialed < n {
		due := n
		if rate > 0 {
			due = min(n, int(rate*time.Since(start).Seconds())+1)
		}
		for dialed < due && stats.Dialing.Load() < MaxInFlight {
			r.pool.Dial()
			dialed++
		}
		r.o.Progress.Update(phase, int(stats.Authorized.Load()-authBefore), n, detail())
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-tick.C:
		}
	}
	deadline := time.Now().Add(r.dialTimeout() + 5*time.Second)
	for stats.Dialing.Load() > 0 && time.Now().Before(deadline) {
		r.o.Progress.Update(phase, int(stats.Authorized.Load()-authBefore), n, detail())
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-tick.C:
		}
	}
	took := time.Since(start)
	r.o.Progress.Done(phase, fmt.Sprintf("%s in %.1fs", detail(), took.Seconds()))
	if got := stats.Authorized.Load() - authBefore; got == 0 {
		return took, fmt.Errorf("%s: no client logged in (errors %v)", phase, stats.Errors())
	}
	return took, nil
}

func (r *run) dialTimeout() time.Duration {
	if r.o.DialTimeout > 0 {
		return r.o.DialTimeout
	}
	return loadgen.DefaultDialTimeout
}

// settle waits until the clients stop receiving frames for quiet (the presence storm
// of a ramp is over), at most limit.
func (r *run) settle(ctx context.Context, quiet, limit time.Duration) {
	stats := r.pool.Stats()
	deadline := time.Now().Add(limit)
	last, lastChange := stats.Frames.Load(), time.Now()
	for time.Now().Before(deadline) && time.Since(lastChange) < quiet {
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
		if n := stats.Frames.Load(); n != last {
			last, lastChange = n, time.Now()
		}
		r.o.Progress.Update("settle", 0, 0, fmt.Sprintf("frames received %d", last))
	}
	if time.Since(lastChange) < quiet {
		r.note("frames still arriving after %s of settling", limit)
	}
}

// hold waits for d while showing progress, or until ctx ends.
func (r *run) hold(ctx context.Context, phase string, d time.Duration) {
	start := time.Now()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for time.Since(start) < d {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		el := time.Since(start)
		r.o.Progress.Update(phase, int(el.Milliseconds()), int(d.Milliseconds()), fmt.Sprintf("open %d", r.pool.Stats().Open.Load()))
	}
	r.o.Progress.Done(phase, fmt.Sprintf("held %d clients for %.1fs", r.pool.Stats().Open.Load(), time.Since(start).Seconds()))
}

// clientMsgIDText turns a clientMsgId "cb-run-id-µs" back into a tracker text.
func clientMsgIDText(id string) string {
	b := []byte(id)
	for i := range b {
		if b[i] == '-' {
			b[i] = ' '
		}
	}
	return string(b)
}

// clientMsgID is the clientMsgId of message id with its send time in µs.
func clientMsgID(run string, id uint64, sendTime time.Duration) string {
	return "cb-" + run + "-" + strconv.FormatUint(id, 10) + "-" + strconv.FormatInt(int64(sendTime/time.Microsecond), 10)
}
