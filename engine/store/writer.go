package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Writer commits records to a Store in batches from one goroutine of its own: group
// commit. Add never blocks (the queue is unbounded, like the Worker's event queue, so
// the owner can never stall on the disk); everything queued while a commit is in
// progress goes into the next one, so one fsync covers many messages.
type Writer struct {
	s        Store
	interval time.Duration
	onCommit func(*Batch, error)
	log      *slog.Logger

	mu      sync.Mutex
	queue   Batch
	closing bool
	wake    chan struct{}
	done    chan struct{}
}

// NewWriter starts a Writer. interval is how long it lets records gather after the
// first one arrives (0: commit at once; a commit in progress gathers the next batch
// anyway). onCommit runs on the Writer's goroutine after each batch, in order, with
// nil once the batch is durable, and may keep the batch; it must not block (the chat posts to its owner).
// A failed commit is retried with backoff until it succeeds or the Writer is closed;
// only then does onCommit get the error.
func NewWriter(s Store, interval time.Duration, onCommit func(*Batch, error), log *slog.Logger) *Writer {
	w := &Writer{
		s:        s,
		interval: interval,
		onCommit: onCommit,
		log:      log,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	go w.run()
	return w
}

// AddMessage queues m. Safe from any goroutine; never blocks.
func (w *Writer) AddMessage(m Message) {
	w.mu.Lock()
	w.queue.Messages = append(w.queue.Messages, m)
	w.mu.Unlock()
	w.signal()
}

// AddSession queues s. Safe from any goroutine; never blocks.
func (w *Writer) AddSession(s Session) {
	w.mu.Lock()
	w.queue.Sessions = append(w.queue.Sessions, s)
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

func (w *Writer) run() {
	defer close(w.done)
	for range w.wake {
		if w.interval > 0 {
			time.Sleep(w.interval)
		}
		for {
			w.mu.Lock()
			b := w.queue
			w.queue = Batch{}
			closing := w.closing
			w.mu.Unlock()
			if b.Len() == 0 {
				if closing {
					return
				}
				break
			}
			err := w.commit(&b)
			w.onCommit(&b, err) // b is onCommit's from here on: it may keep it
		}
	}
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
