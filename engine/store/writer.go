package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unsafe"
)

// ErrUnavailable is what AddMessages answers while the store is in trouble: the
// Writer holds MaxQueueBytes already, or one commit has been failing (or hanging)
// for the Timeout. The caller tells its sender at once instead of letting the line
// wait for a commit that may never come.
var ErrUnavailable = errors.New("store unavailable")

// ErrClusterUnavailable is what a cluster journal (engine/cluster) answers while it
// cannot reach NATS: an ErrUnavailable, so every caller's handling holds, that the chat
// tells apart (cluster_unavailable, and new logins wait with 1013).
var ErrClusterUnavailable = fmt.Errorf("%w: the cluster cannot be reached", ErrUnavailable)

// Limits bound what a Writer holds and how long it may be stuck before it refuses
// new messages.
type Limits struct {
	// MaxQueueBytes caps the messages and sessions held in memory, queued or in the
	// commit in progress, counted by their size (the struct and its strings).
	MaxQueueBytes int
	// Timeout is how long one commit may fail (retried) or hang before new messages
	// are refused; they are accepted again after the next successful commit.
	Timeout time.Duration
}

// DefaultMaxQueueBytes is the default Limits.MaxQueueBytes: a healthy queue holds what
// arrives during one commit, kilobytes, so this is only reached when the disk stops.
const DefaultMaxQueueBytes = 32 << 20

// DefaultLimits are the limits NewWriter uses (Timeout: chatd's --store-timeout default).
func DefaultLimits() Limits {
	return Limits{MaxQueueBytes: DefaultMaxQueueBytes, Timeout: 5 * time.Second}
}

// Writer commits records to a Store in batches from one goroutine of its own: group
// commit. Adding never blocks (the owner can never stall on the disk); everything
// queued while a commit is in progress goes into the next one, so one fsync covers
// many messages. What it holds is bounded by Limits: past them AddMessages refuses.
type Writer struct {
	s        Store
	interval time.Duration
	limits   Limits
	onCommit func(*Batch, error)
	log      *slog.Logger

	mu          sync.Mutex
	queue       Batch
	held        int       // bytes queued or in the commit in progress
	stuckSince  time.Time // when the commit in progress started; zero between commits
	closing     bool
	wake        chan struct{}
	done        chan struct{}
	refusedLast bool // the last AddMessages was refused: log the change once, not per line
}

// NewWriter starts a Writer with DefaultLimits; see NewLimitedWriter.
func NewWriter(s Store, interval time.Duration, onCommit func(*Batch, error), log *slog.Logger) *Writer {
	return NewLimitedWriter(s, interval, DefaultLimits(), onCommit, log)
}

// NewLimitedWriter starts a Writer. interval bounds how long an idle Writer lets
// records gather after the first one arrives (0: commit at once); a busy one never
// waits: the records queued during a commit are the next batch, committed as soon as
// it ends. onCommit runs on the Writer's goroutine after each batch, in order,
// with nil once the batch is durable, and may keep the batch; it must not block (the
// chat posts to its owner). A failed commit is retried with backoff until it succeeds
// or the Writer is closed; only then does onCommit get the error.
func NewLimitedWriter(s Store, interval time.Duration, limits Limits, onCommit func(*Batch, error), log *slog.Logger) *Writer {
	w := &Writer{
		s:        s,
		interval: interval,
		limits:   limits,
		onCommit: onCommit,
		log:      log,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	go w.run()
	return w
}

// messageBytes is what m holds in memory: the struct and its strings.
func messageBytes(m *Message) int {
	return int(unsafe.Sizeof(*m)) + len(m.Room) + len(m.UserName) + len(m.Color) + len(m.Text) + len(m.ClientMsgID) + len(m.File) + len(m.ReplyTo)
}

func sessionBytes(s *Session) int { return int(unsafe.Sizeof(*s)) + len(s.Name) + len(s.Color) }

// AddMessages queues ms, all or none: it returns an error wrapping ErrUnavailable
// (and queues nothing) when the queue is full or a commit has been stuck for the
// Timeout. Safe from any goroutine; never blocks on the disk.
func (w *Writer) AddMessages(ms ...Message) error {
	size := 0
	for i := range ms {
		size += messageBytes(&ms[i])
	}
	w.mu.Lock()
	err := w.refusal(size, time.Now())
	if err == nil {
		w.queue.Messages = append(w.queue.Messages, ms...)
		w.held += size
	}
	changed := (err != nil) != w.refusedLast
	w.refusedLast = err != nil
	w.mu.Unlock()
	if changed && err != nil {
		w.log.Warn("history refuses new messages", "err", err)
	} else if changed {
		w.log.Info("history accepts messages again")
	}
	if err == nil {
		w.signal()
	}
	return err
}

// refusal is why a message of size bytes cannot be queued now, or nil. Called with mu held.
func (w *Writer) refusal(size int, now time.Time) error {
	if !w.stuckSince.IsZero() && now.Sub(w.stuckSince) >= w.limits.Timeout {
		return fmt.Errorf("%w: a commit has not succeeded for %s", ErrUnavailable, now.Sub(w.stuckSince).Round(time.Millisecond))
	}
	if w.held+size > w.limits.MaxQueueBytes {
		return fmt.Errorf("%w: %d bytes are waiting for the disk (limit %d)", ErrUnavailable, w.held, w.limits.MaxQueueBytes)
	}
	return nil
}

// Refusal is why AddMessages would refuse a message now, or nil; nil for a nil Writer.
func (w *Writer) Refusal() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refusal(0, time.Now())
}

// AddMessage queues m; see AddMessages.
func (w *Writer) AddMessage(m Message) error { return w.AddMessages(m) }

// AddSession queues s. Sessions are never refused (an identity's state must reach
// the disk), but they count toward MaxQueueBytes, so a flood of them makes room for
// fewer messages. Safe from any goroutine; never blocks.
func (w *Writer) AddSession(s Session) {
	w.mu.Lock()
	w.queue.Sessions = append(w.queue.Sessions, s)
	w.held += sessionBytes(&s)
	w.mu.Unlock()
	w.signal()
}

// QueuedBytes is what the Writer holds now, queued or being committed.
func (w *Writer) QueuedBytes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.held
}

// ReserveUserIDs queues a reservation of the userIds up to upto (a larger queued one
// stands). Safe from any goroutine; never blocks.
func (w *Writer) ReserveUserIDs(upto uint64) {
	w.mu.Lock()
	w.queue.UserIDsUpTo = max(w.queue.UserIDsUpTo, upto)
	w.mu.Unlock()
	w.signal()
}

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close commits what is queued and stops the Writer (it does not close the Store).
// Safe to call more than once; it waits for the last commit.
func (w *Writer) Close() {
	w.mu.Lock()
	first := !w.closing
	w.closing = true
	w.mu.Unlock()
	if first {
		w.signal()
	}
	<-w.done
}

// run commits by load: a commit starts as soon as the previous one is over, and the
// queue that gathered during it is the next batch, so the busier the chat the bigger
// each batch and the fewer commits per second. Only a Writer that was idle waits, at
// most interval, for company for the first record (see gather).
func (w *Writer) run() {
	defer close(w.done)
	for range w.wake {
		w.gather()
		for w.commitQueued() {
		}
		w.mu.Lock()
		closing := w.closing && w.queue.Len() == 0
		w.mu.Unlock()
		if closing {
			return
		}
	}
}

// gatherEnough is the queue that ends an idle Writer's wait early: a full prepared
// INSERT's worth, more than waiting could improve on.
const gatherEnough = 1 << (insertSizes - 1)

// gather lets records gather after an idle spell, for at most interval, ending
// early once gatherEnough are queued or the Writer is closing.
func (w *Writer) gather() {
	if w.interval <= 0 {
		return
	}
	timer := time.NewTimer(w.interval)
	defer timer.Stop()
	for {
		w.mu.Lock()
		enough := w.queue.Len() >= gatherEnough || w.closing
		w.mu.Unlock()
		if enough {
			return
		}
		select {
		case <-timer.C:
			return
		case <-w.wake:
		}
	}
}

// commitQueued commits everything queued now as one batch and reports it; false if
// nothing was queued.
func (w *Writer) commitQueued() bool {
	w.mu.Lock()
	b := w.queue
	w.queue = Batch{}
	if b.Len() > 0 {
		w.stuckSince = time.Now()
	}
	w.mu.Unlock()
	if b.Len() == 0 {
		return false
	}
	err := w.commit(&b)
	w.release(&b)
	w.onCommit(&b, err) // b is onCommit's from here on: it may keep it
	return true
}

// release forgets b's bytes once its commit is over.
func (w *Writer) release(b *Batch) {
	size := 0
	for i := range b.Messages {
		size += messageBytes(&b.Messages[i])
	}
	for i := range b.Sessions {
		size += sessionBytes(&b.Sessions[i])
	}
	size += reactionsBytes(b.Reactions)
	for i := range b.Edits {
		size += editBytes(&b.Edits[i])
	}
	for i := range b.AccountRooms {
		size += accountRoomBytes(&b.AccountRooms[i])
	}
	w.mu.Lock()
	w.held -= size
	w.stuckSince = time.Time{}
	w.mu.Unlock()
}

// commit writes b, retrying with backoff: the messages have their seqs already, so
// dropping a batch would leave a gap in every room it touches.
func (w *Writer) commit(b *Batch) error {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := w.s.Write(context.Background(), b)
		if err == nil {
			return nil
		}
		w.mu.Lock()
		closing := w.closing
		w.mu.Unlock()
		w.log.Error("history commit failed", "records", b.Len(), "attempt", attempt, "err", err)
		if closing && attempt >= 3 {
			return err
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// Queued is how many records wait for the next commit, for metrics. Safe from any
// goroutine.
func (w *Writer) Queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queue.Len()
}
