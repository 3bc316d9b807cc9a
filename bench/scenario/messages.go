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
	return r.broadcastExchange(ctx)
}

// broadcastExchange: the logged-in clients' first --senders write to the chat, and
// every logged-in client counts each message.
func (r *run) broadcastExchange(ctx context.Context) error {
	r.isDelivery = func(c *loadgen.Client, f *loadgen.Frame) bool { return f.Action == protocol.ActionPublicMessage }
	clients := r.pool.Authorized()
	n := uint64(len(clients))
	senders := clients[:min(r.senderCount(), len(clients))]
	if len(r.o.SenderURLs) > 0 { // the senders' own copies stay on their node: not counted
		count := r.senderCount()
		for len(senders) > 0 && senders[len(senders)-1].Index >= count {
			senders = senders[:len(senders)-1]
		}
		n -= uint64(len(senders))
		r.isDelivery = func(c *loadgen.Client, f *loadgen.Frame) bool {
			return f.Action == protocol.ActionPublicMessage && c.Index >= count
		}
	}
	return r.exchange(ctx, sendPlan{
		senders:    senders,
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
	r.isDelivery = func(c *loadgen.Client, f *loadgen.Frame) bool {
		id := c.UserID()
		return f.Action == protocol.ActionPrivateMessage && f.ToUserID == id && f.UserID != id
	}
	clients := r.pool.Authorized()
	pairs := len(clients) / 2 * 2
	senders := clients[:min(r.senderCount(), pairs)]
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
	r.isDelivery = func(c *loadgen.Client, f *loadgen.Frame) bool {
		return f.Action == protocol.ActionPublicMessage && f.RoomID == r.room(c)
	}
	return r.exchange(ctx, sendPlan{
		senders:    clients[:min(r.senderCount(), len(clients))],
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
	senders := clients[:min(r.senderCount(), len(clients))]
	if err := r.join(ctx, senders); err != nil {
		return err
	}
	r.settle(ctx, time.Second, time.Minute)
	r.isDelivery = func(c *loadgen.Client, f *loadgen.Frame) bool {
		return f.Action == protocol.ActionPublicMessage && f.RoomID == r.room(c)
	}
	return r.exchange(ctx, sendPlan{
		senders:    senders,
		to:         func(int) uint64 { return 0 },
		recipients: func(int) uint64 { return 1 },
		withMsgID:  true,
	})
}

// senderCount is --senders, or every client without it.
func (r *run) senderCount() int {
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

// The words of an exchange, one meaning each:
//   - offered: a message the paced loop handed to a sender, written or not (--rate
//     paces the offered messages);
//   - written: an offered message Client.Send wrote without error;
//   - accepted: a written message the server did not answer rate_limited;
//   - delivery: a copy of an accepted message arriving at one of its recipients;
//   - ack: the server's Sent answer to a message with clientMsgId (history);
//   - measured: a message offered once the measurement started (after the warmup),
//     and its deliveries and acks.

// sendRecord is what the paced sending leaves for the drain and the figures.
type sendRecord struct {
	offered   uint64
	writtenBy []uint64      // by sender (plan.senders' order)
	from      time.Time     // the start of the measurement; zero if it never started
	fromAt    time.Duration // from, on the pool's clock
	start     serverSample  // the server at the start of the measurement
	sendEnd   time.Time     // when the paced sending stopped
}

// written is how many messages the senders wrote, all together.
func (rec *sendRecord) written() uint64 {
	var n uint64
	for _, w := range rec.writtenBy {
		n += w
	}
	return n
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
	rec, err := r.sendPaced(ctx, plan)
	if err != nil {
		return err
	}
	r.drain(ctx, plan, rec)
	end, err := r.probe.sample()
	if err != nil {
		return err
	}
	m := r.fillFigures(plan, rec, end)
	if limited := r.rateLimitedTotal(); limited > 0 {
		r.note("the server answered rate_limited to %d messages (not counted as expected)", limited)
	}
	r.o.Progress.Done("messages", fmt.Sprintf("sent %d expected %d received %d loss %d dup %d p99 %.2fms",
		m.Sent, m.Expected, m.Received, m.Loss, m.Duplicate, m.Latency.P99))
	return nil
}

// sendPaced offers messages at --rate over the senders, round robin, for --warmup
// then --duration, and starts the measurement when the warmup ends.
func (r *run) sendPaced(ctx context.Context, plan sendPlan) (*sendRecord, error) {
	rec := &sendRecord{writtenBy: make([]uint64, len(plan.senders))}
	begin := time.Now()
	total := r.o.Warmup + r.o.Duration
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	inWarmup := r.o.Warmup > 0
	if !inWarmup {
		r.pauseBeforeMeasuring()
		r.startMeasuring(rec)
	}
	var buf []byte
	for {
		el := time.Since(begin)
		if el >= total || ctx.Err() != nil {
			break
		}
		if inWarmup && el >= r.o.Warmup {
			inWarmup = false
			begin = begin.Add(r.pauseBeforeMeasuring())
			r.startMeasuring(rec)
		}
		if err := r.sampleStart(rec); err != nil {
			return nil, err
		}
		buf = r.offerDue(plan, rec, uint64(r.o.Rate*el.Seconds()), buf)
		r.o.Progress.Update("send", int(el.Milliseconds()), int(total.Milliseconds()),
			fmt.Sprintf("sent %d received %d", rec.offered, r.tracker.Counts().Received))
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	rec.sendEnd = time.Now()
	return rec, nil
}

// pauseBeforeMeasuring runs the scenario's beforeMeasure, if any, with the sending
// paused, and says how long it took: the pacing resumes where it stopped instead of
// making up for the pause in a burst.
func (r *run) pauseBeforeMeasuring() time.Duration {
	if r.beforeMeasure == nil {
		return 0
	}
	start := time.Now()
	r.beforeMeasure()
	return time.Since(start)
}

// startMeasuring marks the messages offered from now on as measured, for their
// deliveries and their acks alike, and notes when on both clocks.
func (r *run) startMeasuring(rec *sendRecord) {
	r.tracker.StartMeasuring()
	r.acks.MeasureFrom(r.tracker.measure.Load())
	rec.from, rec.fromAt = time.Now(), r.pool.Now()
}

// sampleStart reads the server at the start of the measurement: on the first tick once
// it started (and on every tick while the probe has nothing to read, which costs nothing).
func (r *run) sampleStart(rec *sendRecord) error {
	if rec.from.IsZero() || rec.start.haveProc || rec.start.haveStatus {
		return nil
	}
	s, err := r.probe.sample()
	if err != nil {
		return err
	}
	rec.start = s
	return nil
}

// offerDue offers messages until due were offered since the start, at most 10,000 in
// one call, and returns buf, the reused message buffer.
func (r *run) offerDue(plan sendPlan, rec *sendRecord, due uint64, buf []byte) []byte {
	for n := 0; rec.offered < due && n < 10_000; n++ {
		k := int(rec.offered % uint64(len(plan.senders)))
		c := plan.senders[k]
		_, text := r.tracker.Next(r.pool.Now(), r.o.PayloadBytes)
		buf = r.appendMessage(buf[:0], c, text, plan.to(k), plan.withMsgID)
		if c.Send(buf) == nil {
			rec.writtenBy[k]++
		}
		rec.offered++
	}
	return buf
}

// expected is how many deliveries the accepted messages make: each sender's written
// messages, minus those the server answered rate_limited, times their recipients.
func (r *run) expected(plan sendPlan, rec *sendRecord) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var e uint64
	for k, c := range plan.senders {
		accepted := rec.writtenBy[k] - min(rec.writtenBy[k], r.rateLimited[c.Index])
		e += accepted * plan.recipients(k)
	}
	return e
}

// drain waits for the deliveries (and acks) still on their way: until everything
// expected arrived, or nothing arrived for drainTimeout.
func (r *run) drain(ctx context.Context, plan sendPlan, rec *sendRecord) {
	last, lastChange := r.tracker.Counts().Received+r.acks.Counts().Received, time.Now()
	for time.Since(lastChange) < drainTimeout && ctx.Err() == nil {
		if r.tracker.Counts().Received >= r.expected(plan, rec) && (!plan.withMsgID || r.acks.Counts().Received >= r.expected(plan, rec)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
		if n := r.tracker.Counts().Received + r.acks.Counts().Received; n != last {
			last, lastChange = n, time.Now()
		}
		r.o.Progress.Update("drain", 0, 0, fmt.Sprintf("received %d of %d", r.tracker.Counts().Received, r.expected(plan, rec)))
	}
}

// fillFigures fills the run's message, connect and server figures, end being the
// server's sample after the drain, and returns the message figures.
func (r *run) fillFigures(plan sendPlan, rec *sendRecord, end serverSample) *MessageFigures {
	counts := r.tracker.Counts()
	written := rec.written()
	exp := r.expected(plan, rec)
	m := &MessageFigures{
		Sent: written, Expected: exp, Received: counts.Received, Loss: Loss(exp, counts.Received),
		Duplicate: counts.Duplicate, Latency: r.tracker.Latency().Percentiles(),
	}
	// With clientMsgId the figures are the acks': they come after the commit.
	measured, lastAt := counts.Measured, r.tracker.LastMeasured()
	if plan.withMsgID {
		a := r.acks.Counts()
		m.Acked = a.Received
		m.Duplicate += a.Duplicate
		m.Latency = r.acks.Latency().Percentiles()
		measured, lastAt = a.Measured, r.acks.LastMeasured()
	}
	m.PerSec = rec.perSecond(measured, lastAt)
	r.res.Messages = m
	r.res.Connect = &ConnectFigures{Attempted: len(r.pool.Clients()), Authorized: int(r.pool.Stats().Authorized.Load())}
	r.res.Server = r.probe.figures(r.baseline, rec.start, end, int(r.pool.Stats().Open.Load()), measured)
	return m
}

// perSecond is measured deliveries (or acks) over the measured window, 0 without a
// window. The window runs from the start of the measurement to the end of sending, or
// to the last measured arrival (lastAt) if the server was still catching up then.
func (rec *sendRecord) perSecond(measured uint64, lastAt time.Duration) float64 {
	if rec.from.IsZero() {
		return 0
	}
	if window := max(rec.sendEnd.Sub(rec.from), lastAt-rec.fromAt).Seconds(); window > 0 {
		return float64(measured) / window
	}
	return 0
}

// rateLimitedTotal is how many messages the server answered rate_limited.
func (r *run) rateLimitedTotal() uint64 {
	var limited uint64
	r.mu.Lock()
	for _, n := range r.rateLimited {
		limited += n
	}
	r.mu.Unlock()
	return limited
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
		if id, sendTime, ok := ParseText(r.id, text); ok {
			dst = append(dst, `,"clientMsgId":"`...)
			dst = append(dst, clientMsgID(r.id, id, sendTime)...)
			dst = append(dst, '"')
		}
	}
	return append(dst, '}')
}
