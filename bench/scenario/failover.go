package scenario

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/chatd/chatd/bench/loadgen"
)

// failoverAttempts bounds the dials of one client after the kill, over the other nodes.
const failoverAttempts = 3

// failClient is one client of the killed node, through its reconnect.
type failClient struct {
	orig     *loadgen.Client
	token    string
	userID   uint64
	cur      *loadgen.Client // the reconnect under way (nil: not dialed yet)
	attempts int
	closed   bool // its close was seen
	done     bool
}

// failover opens --clients opt-in clients (resume=) on the first URL, sends SIGKILL to
// --kill-pid once all are logged in, and has each client, as its connection drops,
// dial the other URLs round robin with its resume token and since=. The figure is the
// time from the kill to the last client resumed (Authorized, resumed, same userId).
// At most MaxInFlight reconnects are dialing at once, as in a ramp: a storm of real
// clients would be spread by their backoff.
func (r *run) failover(ctx context.Context) error {
	if _, err := r.ramp(ctx, "ramp", r.o.Clients, r.o.RampRate); err != nil {
		return err
	}
	r.settle(ctx, time.Second, time.Minute)
	var fcs []*failClient
	for _, c := range r.pool.Authorized() {
		token, _ := c.Resume()
		if token == "" {
			return fmt.Errorf("failover: client %d got no resumeToken (is the server opt-in aware?)", c.Index)
		}
		fcs = append(fcs, &failClient{orig: c, token: token, userID: c.UserID()})
	}
	others, err := loadgen.New(loadgen.Config{
		URLs: r.o.URLs[1:], SourceIPs: r.o.SourceIPs, DialTimeout: r.o.DialTimeout,
		Logger: r.o.Logger, Pollers: r.o.Pollers, Query: r.pool.Query(),
	})
	if err != nil {
		return err
	}
	defer func() {
		others.CloseAll()
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = others.WaitClosed(wctx)
		others.Close()
	}()
	if err := syscall.Kill(r.o.KillPID, syscall.SIGKILL); err != nil {
		return fmt.Errorf("failover: kill -9 %d: %w", r.o.KillPID, err)
	}
	f := r.reconnect(ctx, fcs, others, r.pool.Now(), others.Now())
	r.res.Failover = f
	r.res.Connect = &ConnectFigures{Attempted: r.o.Clients, Authorized: len(fcs)}
	if f.Resumed < f.Clients {
		r.note("%d of %d clients did not resume (new identity %d, failed %d, not closed %d)",
			f.Clients-f.Resumed, f.Clients, f.NewIdentity, f.Failed, f.NotClosed)
	}
	return nil
}

// reconnecting is the state of the reconnects after the kill, on one goroutine.
type reconnecting struct {
	r            *run
	others       *loadgen.Pool
	f            *FailoverFigures
	lat          *Latency
	killA, killB time.Duration // the kill, on the first pool's clock and on others'
	lastClose    time.Duration
	lastResumed  time.Duration
	dialing      int64 // reconnects in flight, bounded as a ramp's dials are
	left         int   // clients not done
}

// reconnect drives every client's reconnect until each has resumed, got a new
// identity or failed failoverAttempts times, or --duration has passed since the kill.
func (r *run) reconnect(ctx context.Context, fcs []*failClient, others *loadgen.Pool, killA, killB time.Duration) *FailoverFigures {
	s := &reconnecting{r: r, others: others, f: &FailoverFigures{Clients: len(fcs)}, lat: NewLatency(), killA: killA, killB: killB, left: len(fcs)}
	f := s.f
	deadline := time.Now().Add(r.o.Duration)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for s.left > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		s.dialing = others.Stats().Dialing.Load()
		for _, fc := range fcs {
			if !fc.done {
				s.step(fc)
			}
		}
		r.o.Progress.Update("failover", f.Resumed, f.Clients, fmt.Sprintf("new identity %d failed %d", f.NewIdentity, f.Failed))
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	for _, fc := range fcs {
		f.Attempts += fc.attempts
		if !fc.done && fc.cur == nil {
			f.NotClosed++
		} else if !fc.done {
			f.Failed++
		}
	}
	f.KillToLastCloseMs = ms(s.lastClose)
	f.KillToLastResumedMs = ms(s.lastResumed)
	f.Resume = s.lat.Percentiles()
	r.o.Progress.Done("failover", fmt.Sprintf("resumed %d of %d, last %.0f ms after the kill", f.Resumed, f.Clients, f.KillToLastResumedMs))
	return f
}

// step moves one client on: its close seen, its (next) dial, its outcome.
func (s *reconnecting) step(fc *failClient) {
	if fc.cur == nil {
		if !fc.closed && fc.orig.State() == loadgen.StateClosed {
			fc.closed = true
			s.lastClose = max(s.lastClose, s.r.pool.Now()-s.killA)
		}
		if fc.closed && s.dialing < MaxInFlight {
			s.redial(fc)
		}
		return
	}
	switch fc.cur.State() {
	case loadgen.StateAuthorized, loadgen.StateClosed:
		fc.done, s.left = true, s.left-1
		if _, resumed := fc.cur.Resume(); !resumed || fc.cur.UserID() != fc.userID {
			s.f.NewIdentity++
			return
		}
		s.f.Resumed++
		at := fc.cur.Timing().Authorized - s.killB
		s.lastResumed = max(s.lastResumed, at)
		s.lat.Record(at)
	case loadgen.StateFailed:
		if fc.attempts >= failoverAttempts {
			fc.done, s.left = true, s.left-1
			s.f.Failed++
		} else if s.dialing < MaxInFlight {
			s.redial(fc)
		}
	}
}

// redial dials fc's next attempt on the next surviving node, as fc with its token and
// the last lobby seq it saw.
func (s *reconnecting) redial(fc *failClient) {
	fc.attempts++
	s.dialing++
	q := url.Values{"resume": {fc.token}, "since": {"lobby:" + strconv.FormatUint(s.r.lastSeq(fc.orig), 10)}}
	fc.cur = s.others.DialAs(fc.orig.Name, q)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// lastSeq is the highest seq c has seen in a chat frame (its since= on reconnect).
func (r *run) lastSeq(c *loadgen.Client) uint64 {
	if c.Index < len(r.seqs) {
		return r.seqs[c.Index].Load()
	}
	return 0
}
