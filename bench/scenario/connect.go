package scenario

import (
	"context"
	"fmt"
	"time"
)

// connect opens the clients at --rate connects/s into one chat and reports the ramp:
// connects/s, TCP connect to Authorized, and the presence traffic it caused.
func (r *run) connect(ctx context.Context) error {
	if _, err := r.ramp(ctx, "connect", r.o.Clients, r.o.Rate); err != nil {
		return err
	}
	r.settle(ctx, time.Second, r.o.Duration)
	stats := r.pool.Stats()
	lat, up := NewLatency(), NewLatency()
	var first, last time.Duration
	authorized := 0
	for _, c := range r.pool.Clients() {
		t := c.Timing()
		if first == 0 || t.DialStart < first {
			first = t.DialStart
		}
		if t.Authorized == 0 {
			continue
		}
		authorized++
		last = max(last, t.Authorized)
		lat.Record(t.Authorized - t.DialStart)
		up.Record(t.Upgraded - t.DialStart)
	}
	f := &ConnectFigures{
		Attempted:      len(r.pool.Clients()),
		Authorized:     authorized,
		Latency:        lat.Percentiles(),
		Upgrade:        up.Percentiles(),
		PresenceFrames: stats.Connected.Load() + stats.Disconnected.Load() + stats.UserListEntries.Load() + stats.PresenceBatches.Load(),
		PresenceBytes:  stats.PresenceBytes.Load(),
	}
	if span := last - first; span > 0 {
		f.PerSec = float64(authorized) / span.Seconds()
	}
	r.res.Connect = f
	end, err := r.probe.sample()
	if err != nil {
		return err
	}
	r.res.Server = r.probe.figures(r.baseline, r.baseline, end, authorized, 0)
	if authorized < f.Attempted {
		r.note("%d of %d clients did not log in", f.Attempted-authorized, f.Attempted)
	}
	return nil
}

// idle holds the clients once the ramp has settled and reports the server's memory
// per connection against the baseline read before the first dial.
func (r *run) idle(ctx context.Context) error {
	if _, err := r.ramp(ctx, "ramp", r.o.Clients, r.o.RampRate); err != nil {
		return err
	}
	r.settle(ctx, 2*time.Second, 5*time.Minute)
	r.hold(ctx, "idle", r.o.Duration)
	open := int(r.pool.Stats().Open.Load())
	end, err := r.probe.sample()
	if err != nil {
		return err
	}
	r.res.Connect = &ConnectFigures{Attempted: len(r.pool.Clients()), Authorized: open}
	r.res.Server = r.probe.figures(r.baseline, r.baseline, end, open, 0)
	if r.res.Server == nil {
		r.note("no --server-pid or --status-url: no server figures")
	}
	return nil
}

// churn connects and closes the clients --cycles times, then checks that the
// server's fds, goroutines and RSS come back near their baseline.
func (r *run) churn(ctx context.Context) error {
	cycles := max(r.o.Cycles, 1)
	for i := range cycles {
		if _, err := r.ramp(ctx, fmt.Sprintf("churn %d/%d", i+1, cycles), r.o.Clients, r.o.RampRate); err != nil {
			return err
		}
		r.pool.CloseAll()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := r.pool.WaitClosed(wctx)
		cancel()
		if err != nil {
			return err
		}
		r.pool.Forget()
	}
	f := &ChurnFigures{Cycles: cycles, Baseline: r.baseline.toSample()}
	// The server closes its side a moment after ours: give it up to 10 s.
	deadline := time.Now().Add(10 * time.Second)
	for {
		end, err := r.probe.sample()
		if err != nil {
			return err
		}
		f.After = end.toSample()
		f.ReturnedToBase = ReturnedToBase(f.Baseline, f.After)
		if f.ReturnedToBase || time.Now().After(deadline) || ctx.Err() != nil {
			r.res.Server = r.probe.figures(r.baseline, r.baseline, end, 0, 0)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.res.Churn = f
	r.res.Connect = &ConnectFigures{Attempted: cycles * r.o.Clients, Authorized: int(r.pool.Stats().Authorized.Load())}
	return nil
}

// ReturnedToBase says whether after is near base: a few fds and goroutines more at
// most (timers, pooled connections), and RSS within half the baseline or 16 MiB, as
// the Go runtime keeps some freed memory.
func ReturnedToBase(base, after Sample) bool {
	const slack = 8
	rssSlack := max(base.RSSBytes/2, 16<<20)
	return after.FDs <= base.FDs+slack && after.Goroutines <= base.Goroutines+slack && after.RSSBytes <= base.RSSBytes+rssSlack
}
