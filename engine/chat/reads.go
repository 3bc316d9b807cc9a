package chat

import (
	"context"
	"sync"

	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Store reads run on a fixed pool of readers, never a goroutine per request: a flood
// of History requests once took the server from 15 goroutines to 7,947 and held a new
// login's replay (and with it the live messages to that member) behind all of them.
const (
	// readers is how many store reads run at once; the SQLite pool has room for
	// them beside the writer. History pages get at most historyReaders of them, so a
	// replay never waits for slow History reads to finish.
	readers        = 4
	historyReaders = readers - 1
	// maxQueuedHistory bounds the History reads waiting for a reader, all users
	// together; past it History is answered busy.
	maxQueuedHistory = 256
)

// readJob is one store read: run off the owner with the asker's context (cancelled
// when the asker leaves), then the function it returns on the owner.
type readJob struct {
	ctx context.Context
	run func(ctx context.Context, st store.Store) func()
}

// readQueue is the readers' work: replays (login, resume, join) always before History
// pages, so a member's live messages, held while its replay runs, wait only for other
// replays and the reads in progress, never for a backlog of other users' History.
type readQueue struct {
	mu      sync.Mutex
	ready   *sync.Cond
	replays []readJob // unbounded here, but bounded by the users online times their rooms
	history []readJob // at most maxQueuedHistory
	running int       // History reads in progress, at most historyReaders
	closed  bool
	done    sync.WaitGroup
}

// startReaders starts the pool reading st, posting answers to the owner.
func (ch *Chat) startReaders(st store.Store) {
	q := &readQueue{}
	q.ready = sync.NewCond(&q.mu)
	ch.readq = q
	q.done.Add(readers)
	for range readers {
		go func() {
			defer q.done.Done()
			for {
				job, history, ok := q.pop()
				if !ok {
					return
				}
				if job.ctx.Err() == nil { // else the asker left while it waited
					ctx, cancel := context.WithTimeout(job.ctx, readTimeout)
					then := job.run(ctx, st)
					cancel()
					if job.ctx.Err() == nil {
						ch.w.Post(then)
					}
				}
				if history {
					q.finishHistory()
				}
			}
		}()
	}
}

// pop takes the next job, replays first, History only while fewer than
// historyReaders run; history tells which it is. ok is false once the queue is closed.
func (q *readQueue) pop() (job readJob, history, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.closed && len(q.replays) == 0 && (len(q.history) == 0 || q.running >= historyReaders) {
		q.ready.Wait()
	}
	if q.closed {
		return readJob{}, false, false
	}
	from := &q.replays
	if len(q.replays) == 0 {
		from, history = &q.history, true
		q.running++
	}
	job = (*from)[0]
	(*from)[0] = readJob{} // let the closure go
	*from = (*from)[1:]
	return job, history, true
}

// finishHistory frees a History reader's place for the next page.
func (q *readQueue) finishHistory() {
	q.mu.Lock()
	q.running--
	q.ready.Signal()
	q.mu.Unlock()
}

// push queues job as a replay, or as a History page (false when that queue is full).
func (q *readQueue) push(job readJob, replay bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if replay {
		q.replays = append(q.replays, job)
	} else {
		if len(q.history) >= maxQueuedHistory {
			return false
		}
		q.history = append(q.history, job)
	}
	q.ready.Signal()
	return true
}

// stop ends the readers after the reads in progress and waits for them.
func (q *readQueue) stop() {
	q.mu.Lock()
	q.closed = true
	q.ready.Broadcast()
	q.mu.Unlock()
	q.done.Wait()
}

// readCtx is u's context for its reads, made on its first read and cancelled when it
// leaves (Chat.remove), which drops its queued reads and interrupts a running one.
func (u *user) readCtx() context.Context {
	if u.reads == nil {
		ctx, cancel := context.WithCancel(context.Background())
		u.reads = &userReads{ctx, cancel}
	}
	return u.reads.ctx
}

// readReplay queues a replay read for u.
func (ch *Chat) readReplay(u *user, run func(ctx context.Context, st store.Store) func()) {
	ch.readq.push(readJob{ctx: u.readCtx(), run: run}, true)
}

// readHistory queues u's History read unless u has one in flight or the queue is
// full; then u gets busy and false.
func (ch *Chat) readHistory(u *user, run func(ctx context.Context, st store.Store) func()) bool {
	msg := ""
	switch {
	case u.historyInFlight:
		msg = "a History request of yours is still being answered; retry after it"
	case !ch.readq.push(readJob{ctx: u.readCtx(), run: run}, false):
		msg = "the server is answering too many History requests; retry later"
	default:
		u.historyInFlight = true
		return true
	}
	ch.counters.readsBusy++
	ch.sendError(u, &protocol.Error{Code: protocol.CodeBusy, Message: msg})
	return false
}
