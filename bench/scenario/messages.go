package scenario

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/chatd/chatd/bench/loadgen"
	"github.com/chatd/chatd/protocol"
)

// chatDefaultRateLimit and chatDefaultBurst are chatd's per-connection defaults.
const (
	chatDefaultRateLimit = 20
	chatDefaultBurst     = 40
)

// sendPlan is what a message scenario sends and what it expects back.
type sendPlan struct {
	senders    []*loadgen.Client
	to         func(sender int) uint64 // toUserId for the k-th sender (0: the room)
	recipients func(sender int) uint64 // deliveries one accepted message makes
	withMsgID  bool                    // send clientMsgId (history)
}

func (r *run) broadcast(ctx context.Context) error {
	if _, err := r.ramp(ctx, "ramp", r.o.Clients, r.o.RampRate); err != nil {
		return err
	}
	r.settle(ctx, time.Second, time.Minute)
	r.accept = func(c *loadgen.Client, f *loadgen.Frame) bool { return f.Action == protocol.ActionPublicMessage }
	clients := r.pool.Authorized()
	n := uint64(len(clients))
	return r.exchange(ctx, sendPlan{
		senders:    clients[:min(r.senders(), len(clients))],
		to:         func(int) uint64 { return 0 },
		recipients: func(int) uint64 { return n },
	})
}

// private pairs client 2i with 2i+1; the first --senders clients each write to their
// partner. Only the partner's copy counts (the sender gets an echo too).
func (r *run) private(ctx context.Context) error {
	if _, err := r.ramp(ctx, "ramp", r.o.Clients, r.o.RampRate); err != nil {
		return err
	}
	r.settle(ctx, time.Second, time.Minute)
	r.accept = func(c *loadgen.Client, f *loadgen.Frame) bool {
		id := c.UserID()
		return f.Action == protocol.ActionPrivateMessage && f.ToUserID == id && f.UserID != id
	}
	clients := r.pool.Authorized()
	pairs := len(clients) / 2 * 2
	senders := clients[:min(r.senders(), pairs)]
	return r.exchange(ctx, sendPlan{
		senders:    senders,
		to:         func(k int) uint64 { return clients[k^1].UserID() },
		recipients: func(int) uint64 { return 1 },
	})
}

// rooms spreads the clients over --rooms rooms (client i in room i mod K); senders
// write to their own room, whose members receive it.
func (r *run) rooms(ctx context.Context) error {
	k := max(r.o.Rooms, 1)
	r.room = func(c *loadgen.Client) string { return "cb-" + r.id + "-" + strconv.Itoa(c.Index%k) }
	if _, err := r.ramp(ctx, "ramp", r.o.Clients, r.o.RampRate); err != nil {
		return err
	}
	clients := r.pool.Authorized()
	if err := r.join(ctx, clients); err != nil {
		return err
	}
	r.settle(ctx, time.Second, time.Minute)
	members := make(map[string]uint64)
	for _, c := range clients {
		members[r.room(c)]++
	}
	r.accept = func(c *loadgen.Client, f *loadgen.Frame) bool {
		return f.Action == protocol.ActionPublicMessage && f.RoomID == r.room(c)
	}
	return r.exchange(ctx, sendPlan{
		senders:    clients[:min(r.senders(), len(clients))],
		to:         func(int) uint64 { return 0 },
		recipients: func(s int) uint64 { return members[r.room(clients[s])] },
	})
}

// history has every sender in a room of its own, sending with clientMsgId: the figure
// is durable messages/s (Sent answers, which chatd gives after the commit) and the
// latency is send to Sent.
func (r *run) history(ctx context.Context) error {
	r.room = func(c *loadgen.Client) string { return "cb-" + r.id + "-h" + strconv.Itoa(c.Index) }
	if _, err := r.ramp(ctx, "ramp", r.o.Clients, r.o.RampRate); err != nil {
		return err
	}
	clients := r.pool.Authorized()
	senders := clients[:min(r.senders(), len(clients))]
	if err := r.join(ctx, senders); err != nil {
		return err
	}
	r.settle(ctx, time.Second, time.Minute)
	r.accept = func(c *loadgen.Client, f *loadgen.Frame) bool {
		return f.Action == protocol.ActionPublicMessage && f.RoomID == r.room(c)
	}
	return r.exchange(ctx, sendPlan{
		senders:    senders,
		to:         func(int) uint64 { return 0 },
		recipients: func(int) uint64 { return 1 },
		withMsgID:  true,
	})
}

func (r *run) senders() int {
	if r.o.Senders > 0 {
		return r.o.Senders
	}
	return r.o.Clients
}

// join sends JoinRoom for each client's room and waits for the RoomJoined answers.
func (r *run) join(ctx context.Context, clients []*loadgen.Client) error {
	for _, c := range clients {
		if err := c.Send([]byte(`{"action":"JoinRoom","roomId":"` + r.room(c) + `"}`)); err != nil {
			return fmt.Errorf("join rooms: %w", err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for int(r.joined.Load()) < len(clients) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("join rooms: %d of %d joined (server errors %v)", r.joined.Load(), len(clients), r.pool.Stats().ServerErrors())
		}
		r.o.Progress.Update("join", int(r.joined.Load()), len(clients), "")
		time.Sleep(20 * time.Millisecond)
	}
	r.o.Progress.Done("join", fmt.Sprintf("%d clients joined their rooms", len(clients)))
	return nil
}

// exchange sends at --rate over the senders, round robin, for --warmup then
// --duration, waits for the deliveries still on their way and fills the figures.
func (r *run) exchange(ctx context.Context, plan sendPlan) error {
	if len(plan.senders) == 0 {
		return fmt.Errorf("no sender logged in")
	}
	if per := r.o.Rate / float64(len(plan.senders)); per > chatDefaultRateLimit {
		r.note("%.1f msg/s per sender is above chatd's default per-connection limit (%d/s, burst %d): unless chatd runs with a higher --rate-limit, add --senders",
			per, chatDefaultRateLimit, chatDefaultBurst)
	}
	sentBy := make([]uint64, len(plan.senders))
	var sent uint64
	var start, measured serverSample
	var measureFrom time.Time
	var measureAt time.Duration // measureFrom on the pool's clock
	begin := time.Now()
	total := r.o.Warmup + r.o.Duration
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	inWarmup := r.o.Warmup > 0
	if !inWarmup {
		r.tracker.StartMeasuring()
		r.acks.MeasureFrom(0)
		measureFrom, measureAt = time.Now(), r.pool.Now()
	}
	var buf []byte
	for {
		el := time.Since(begin)
		if el >= total || ctx.Err() != nil {
			break
		}
		if inWarmup && el >= r.o.Warmup {
			inWarmup = false
			r.tracker.StartMeasuring()
			r.acks.MeasureFrom(r.tracker.measure.Load())
			measureFrom, measureAt = time.Now(), r.pool.Now()
		}
		if !measureFrom.IsZero() && !start.haveProc && !start.haveStatus {
			s, err := r.probe.sample()
			if err != nil {
				return err
			}
			start = s
		}
		due := uint64(r.o.Rate * el.Seconds())
		for n := 0; sent < due && n < 10_000; n++ {
			k := int(sent % uint64(len(plan.senders)))
			c := plan.senders[k]
			_, text := r.tracker.Next(r.pool.Now(), r.o.PayloadBytes)
			buf = r.appendMessage(buf[:0], c, text, plan.to(k), plan.withMsgID)
			if c.Send(buf) == nil {
				sentBy[k]++
			}
			sent++
		}
		r.o.Progress.Update("send", int(el.Milliseconds()), int(total.Milliseconds()),
			fmt.Sprintf("sent %d received %d", sent, r.tracker.Counts().Received))
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	sendEnd := time.Now()
	expected := func() uint64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		var e uint64
		for k, c := range plan.senders {
			ok := sentBy[k] - min(sentBy[k], r.rateLimited[c.Index])
			e += ok * plan.recipients(k)
		}
		return e
	}
	// Drain: until everything expected arrived, or nothing arrived for drainTimeout.
	last, lastChange := r.tracker.Counts().Received+r.acks.Counts().Received, time.Now()
	for time.Since(lastChange) < drainTimeout && ctx.Err() == nil {
		if r.tracker.Counts().Received >= expected() && (!plan.withMsgID || r.acks.Counts().Received >= expected()) {
			break
		}
		time.Sleep(20 * time.Millisecond)
		if n := r.tracker.Counts().Received + r.acks.Counts().Received; n != last {
			last, lastChange = n, time.Now()
		}
		r.o.Progress.Update("drain", 0, 0, fmt.Sprintf("received %d of %d", r.tracker.Counts().Received, expected()))
	}
	measured, err := r.probe.sample()
	if err != nil {
		return err
	}
	counts := r.tracker.Counts()
	var accepted uint64
	for _, n := range sentBy {
		accepted += n
	}
	exp := expected()
	m := &MessageFigures{
		Sent: accepted, Expected: exp, Received: counts.Received, Loss: Loss(exp, counts.Received),
		Duplicate: counts.Duplicate, Latency: r.tracker.Latency().Percentiles(),
	}
	// The window runs from the start of the measurement to the end of sending, or to
	// the last measured delivery if the server was still catching up then.
	delivered, lastAt := counts.Measured, r.tracker.LastMeasured()
	if plan.withMsgID {
		a := r.acks.Counts()
		m.Acked = a.Received
		m.Duplicate += a.Duplicate
		m.Latency = r.acks.Latency().Percentiles()
		delivered, lastAt = a.Measured, r.acks.LastMeasured()
	}
	window := max(sendEnd.Sub(measureFrom), lastAt-measureAt).Seconds()
	if measureFrom.IsZero() {
		window = 0
	}
	if window > 0 {
		m.PerSec = float64(delivered) / window
	}
	r.res.Messages = m
	r.res.Connect = &ConnectFigures{Attempted: len(r.pool.Clients()), Authorized: int(r.pool.Stats().Authorized.Load())}
	r.res.Server = r.probe.figures(r.baseline, start, measured, int(r.pool.Stats().Open.Load()), delivered)
	var limited uint64
	r.mu.Lock()
	for _, n := range r.rateLimited {
		limited += n
	}
	r.mu.Unlock()
	if limited > 0 {
		r.note("the server answered rate_limited to %d messages (not counted as expected)", limited)
	}
	r.o.Progress.Done("messages", fmt.Sprintf("sent %d expected %d received %d loss %d dup %d p99 %.2fms",
		m.Sent, m.Expected, m.Received, m.Loss, m.Duplicate, m.Latency.P99))
	return nil
}

// appendMessage writes a chat line as a client sends it.
func (r *run) appendMessage(dst []byte, c *loadgen.Client, text string, to uint64, withMsgID bool) []byte {
	dst = append(dst, `{"text":"`...)
	dst = append(dst, text...) // the tracker's texts need no escaping
	dst = append(dst, `","toUserId":`...)
	dst = strconv.AppendUint(dst, to, 10)
	if room := r.room(c); room != "" && to == 0 {
		dst = append(dst, `,"roomId":"`...)
		dst = append(dst, room...)
		dst = append(dst, '"')
	}
	if withMsgID {
		if id, sent, ok := ParseText(r.id, text); ok {
			dst = append(dst, `,"clientMsgId":"`...)
			dst = append(dst, clientMsgID(r.id, id, sent)...)
			dst = append(dst, '"')
		}
	}
	return append(dst, '}')
}
