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

// reconnect drives every client's reconnect until each has resumed, got a new
// identity or failed failoverAttempts times, or --duration has passed since the kill.
// killA and killB are the kill's time on the two pools' clocks.
func (r *run) reconnect(ctx context.Context, fcs []*failClient, others *loadgen.Pool, killA, killB time.Duration) *FailoverFigures {
	f := &FailoverFigures{Clients: len(fcs)}
	lat := NewLatency()
	var lastClose, lastResumed time.Duration
	var dialing int64 // reconnects in flight, bounded as a ramp's dials are
	left := len(fcs)
	deadline := time.Now().Add(r.o.Duration)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for left > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		dialing = others.Stats().Dialing.Load()
		for _, fc := range fcs {
			if fc.done {
				continue
			}
			if fc.cur == nil {
				if !fc.closed && fc.orig.State() == loadgen.StateClosed {
					fc.closed = true
					lastClose = max(lastClose, r.pool.Now()-killA)
				}
				if !fc.closed || dialing >= MaxInFlight {
					continue
				}
				r.redial(fc, others)
				dialing++
				continue
			}
			switch fc.cur.State() {
			case loadgen.StateAuthorized, loadgen.StateClosed:
				fc.done, left = true, left-1
				_, resumed := fc.cur.Resume()
				if !resumed || fc.cur.UserID() != fc.userID {
					f.NewIdentity++
					continue
				}
				f.Resumed++
				at := fc.cur.Timing().Authorized - killB
				lastResumed = max(lastResumed, at)
				lat.Record(at)
			case loadgen.StateFailed:
				if fc.attempts >= failoverAttempts {
					fc.done, left = true, left-1
					f.Failed++
				} else if dialing < MaxInFlight {
					r.redial(fc, others)
					dialing++
				}
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
	f.KillToLastCloseMs = ms(lastClose)
	f.KillToLastResumedMs = ms(lastResumed)
	f.Resume = lat.Percentiles()
	r.o.Progress.Done("failover", fmt.Sprintf("resumed %d of %d, last %.0f ms after the kill", f.Resumed, f.Clients, f.KillToLastResumedMs))
	return f
}

// redial dials fc's next attempt on the next surviving node, as fc with its token and
// the last lobby seq it saw.
func (r *run) redial(fc *failClient, others *loadgen.Pool) {
	fc.attempts++
	q := url.Values{"resume": {fc.token}, "since": {"lobby:" + strconv.FormatUint(r.lastSeq(fc.orig), 10)}}
	fc.cur = others.DialAs(fc.orig.Name, q)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// lastSeq is the highest seq c has seen in a chat frame (its since= on reconnect).
func (r *run) lastSeq(c *loadgen.Client) uint64 {
	if c.Index < len(r.seqs) {
		return r.seqs[c.Index].Load()
	}
	return 0
}
