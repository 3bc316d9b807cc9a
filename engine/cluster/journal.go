package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/store"
)

// ErrUnavailable is what a cluster journal refuses lines with while it cannot get
// them into the stream (NATS disconnected, its queue full, or it is closing). Its
// errors wrap store.ErrClusterUnavailable too (hence store.ErrUnavailable), so the
// chat's outage handling applies: cluster_unavailable, and new logins wait (1013).
var ErrUnavailable = errors.New("cluster unavailable")

// Config is what a cluster node's journal needs.
type Config struct {
	NATS     NATSConfig
	NodeName string // unique in the cluster; "" is DefaultNodeName
	Replicas int    // of the stream and the buckets (--nats-replicas); 0 is 1
	// NodeTTL is how long a node's liveness key outlives its last refresh
	// (--ping-interval × --ping-max-missed); 0 is 30 s.
	NodeTTL time.Duration
	// MaxQueueBytes bounds the lines waiting for NATS; 0 is store.DefaultMaxQueueBytes.
	MaxQueueBytes int
	// ResumeGrace is how long a dead node's identities stay resumable (--resume-grace;
	// 0 is 2 minutes): sweep.go frees them after it.
	ResumeGrace time.Duration

	// Store is the node's own SQLite; AppliedStreamSeq is its State.AppliedStreamSeq,
	// where the consumer resumes.
	Store            store.Store
	AppliedStreamSeq uint64
	// CommitInterval and StoreLimits are the node's store.Writer's (zero limits:
	// store.DefaultLimits).
	CommitInterval time.Duration
	StoreLimits    store.Limits
	// OnCommit is the chat's commit callback, as the single-node Writer's: every line
	// of the cluster reaches it, with its final seq, once this node's SQLite has it.
	OnCommit func(*store.Batch, error)
	Log      *slog.Logger
}

// Journal is a cluster node's chat.Journal (docs/CLUSTER.md): lines go to the
// JetStream lines stream (publisher.go), and every node's consumer (consumer.go)
// hands each line of the stream, with its final seq, to the node's own store.Writer,
// whose commit stores the lines and the applied stream seq together and calls the
// chat's commit callback. Edits and reactions are records of the stream too
// (records.go); names, userId blocks and sessions are KV records shared by the cluster
// (identity.go); account rooms go to the local Writer for now.
type Journal struct {
	node    string
	log     *slog.Logger
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	writer  *store.Writer
	pub     *publisher
	cons    *consumer
	recs    *records                 // edits and reactions for the stream (records.go)
	signals *signals                 // Typing, Status and Buzz for the other nodes (signals.go)
	ids     *identities              // names and sessions in KV (identity.go)
	accts   atomic.Pointer[Accounts] // registered accounts in KV, once shared (accounts.go)
	grace   time.Duration
	// stopSweeps ends the watch for dead nodes and the sweeps waiting (sweep.go).
	stopSweeps context.CancelFunc

	presence *presenceLink // presence across nodes (presencelink.go)

	onCommit  func(*store.Batch, error)
	connected atomic.Bool

	// epoch ends when the connection to NATS is lost: a request made on it will get
	// no answer, so waiting for one is cut short (the line's append is unclear).
	epochMu     sync.Mutex
	epoch       context.Context
	epochCancel context.CancelFunc

	mu       sync.Mutex
	applied  uint64        // the stream seq committed to the local store last
	advanced chan struct{} // closed and replaced when applied grows

	closeOnce sync.Once
}

// closeTimeout bounds how long Close waits for queued lines to reach the stream and
// come back into the local store.
const closeTimeout = 5 * time.Second

// Open connects to NATS, creates the stream and buckets (waiting, within ctx, for
// NATS to answer), and starts the node's writer, publisher and consumer. Serve only
// after WaitCaughtUp.
func Open(ctx context.Context, cfg Config) (*Journal, error) {
	cfg = cfg.withDefaults()
	j := &Journal{node: cfg.NodeName, log: cfg.Log, onCommit: cfg.OnCommit, grace: cfg.ResumeGrace,
		applied: cfg.AppliedStreamSeq, advanced: make(chan struct{})}
	j.epoch, j.epochCancel = context.WithCancel(context.Background())
	nc, err := cfg.NATS.connect(cfg.NodeName, j.setConnected, cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	j.nc = nc
	if j.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: jetstream: %w", err)
	}
	if j.stream, err = setup(ctx, j.js, cfg.Replicas, cfg.NodeTTL); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if err = j.openIdentities(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if err = j.startSweeps(ctx); err != nil {
		j.closeIdentities()
		nc.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if j.presence, err = newPresenceLink(ctx, j, cfg.NodeTTL, cfg.Replicas); err != nil {
		j.stopSweeps()
		j.closeIdentities()
		nc.Close()
		return nil, fmt.Errorf("cluster: presence: %w", err)
	}
	j.writer = store.NewLimitedWriter(cfg.Store, cfg.CommitInterval, cfg.StoreLimits, j.committed, cfg.Log)
	boot := strconv.FormatInt(time.Now().UnixNano(), 36)
	j.pub = newPublisher(j, cfg.NodeName+"-"+boot+"-", cfg.MaxQueueBytes)
	j.recs = newRecords(j, cfg.NodeName+"-"+boot+"-")
	j.signals = newSignals(j)
	j.cons = newConsumer(j, cfg.AppliedStreamSeq, cfg.StoreLimits.MaxQueueBytes/2)
	go j.cons.run()
	for !j.connected.Load() { // the connect callback comes asynchronously
		select {
		case <-ctx.Done():
			j.Close()
			return nil, fmt.Errorf("cluster: connect: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	j.log.Info("cluster journal open", "node", j.node, "applied_stream_seq", cfg.AppliedStreamSeq)
	return j, nil
}

// setConnected is told by nats.go of every change of the connection's state.
func (j *Journal) setConnected(up bool) {
	j.connected.Store(up)
	j.epochMu.Lock()
	defer j.epochMu.Unlock()
	if !up {
		j.epochCancel()
	} else if j.epoch.Err() != nil {
		j.epoch, j.epochCancel = context.WithCancel(context.Background())
	}
}

// connEpoch is a context that ends when the current connection to NATS is lost.
func (j *Journal) connEpoch() context.Context {
	j.epochMu.Lock()
	defer j.epochMu.Unlock()
	return j.epoch
}

func (cfg Config) withDefaults() Config {
	if cfg.NodeName == "" {
		cfg.NodeName = DefaultNodeName()
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.NodeTTL <= 0 {
		cfg.NodeTTL = 30 * time.Second
	}
	if cfg.ResumeGrace <= 0 {
		cfg.ResumeGrace = 2 * time.Minute
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = store.DefaultMaxQueueBytes
	}
	if cfg.StoreLimits == (store.Limits{}) {
		cfg.StoreLimits = store.DefaultLimits()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return cfg
}

// committed is the Writer's callback: it hands the batch to the chat, then records
// how far the store has applied the stream, so that whoever WaitCaughtUp lets go finds
// the chat told of every line up to there (its commits posted to the owner first).
func (j *Journal) committed(b *store.Batch, err error) {
	if j.onCommit != nil {
		j.onCommit(b, err)
	}
	if err == nil && b.AppliedStreamSeq > 0 {
		j.mu.Lock()
		if b.AppliedStreamSeq > j.applied {
			j.applied = b.AppliedStreamSeq
			close(j.advanced)
			j.advanced = make(chan struct{})
		}
		j.mu.Unlock()
	}
}

// AppliedStreamSeq is the last stream seq whose line is in the local store.
func (j *Journal) AppliedStreamSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.applied
}

// WaitCaughtUp returns once the local store holds every line the stream held when it
// was called ("catch up before serving"), or with ctx's error, or with NATS's if the
// stream's state cannot be read. It blocks: never call it on the chat's owner.
func (j *Journal) WaitCaughtUp(ctx context.Context) error {
	info, err := j.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("cluster: stream state: %w", err)
	}
	target := info.State.LastSeq
	for {
		j.mu.Lock()
		applied, advanced := j.applied, j.advanced
		j.mu.Unlock()
		if applied >= target {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return fmt.Errorf("cluster: catching up at stream seq %d of %d: %w", applied, target, ctx.Err())
		}
	}
}

// Refusal is why AddMessages would refuse a line now, or nil: NATS disconnected or
// the publisher's queue full (both wrap ErrUnavailable and store.ErrClusterUnavailable), or
// the local store in trouble (its own refusal). Cheap and non-blocking: the chat
// asks it on its owner.
func (j *Journal) Refusal() error {
	if err := j.pub.refusal(); err != nil {
		return err
	}
	return j.writer.Refusal()
}

// unavailable is an error wrapping ErrUnavailable and store.ErrClusterUnavailable.
func unavailable(why string, args ...any) error {
	return fmt.Errorf("%w: %w: "+why, append([]any{ErrUnavailable, store.ErrClusterUnavailable}, args...)...)
}

// AddMessages queues lines for the stream, all or none. Their seqs are the chat's
// tentative ones: the stream numbers them (a line may get a later seq, another
// node's line having taken it), and the commit callback gets them with the final seq.
func (j *Journal) AddMessages(ms ...store.Message) error {
	if err := j.writer.Refusal(); err != nil {
		return err
	}
	return j.pub.add(ms)
}

// ReserveUserIDs is the single node's reservation, in the local store: a cluster
// node's chat reserves its blocks in KV instead (ReserveUserIDBlock, identity.go) and
// never calls it.
func (j *Journal) ReserveUserIDs(upto uint64) { j.writer.ReserveUserIDs(upto) }

// Queued is how many records wait: lines for NATS plus records for the local commit.
func (j *Journal) Queued() int { return j.pub.queued() + j.writer.Queued() }

// Close stops taking lines, lets the queued ones reach the stream and the local store
// for at most closeTimeout (a line still queued then never got its Sent; with NATS
// disconnected it does not wait for the store to catch up), stops the
// consumer, commits what the Writer holds and closes the connection. The Store stays
// open: it is the caller's.
func (j *Journal) Close() {
	j.closeOnce.Do(func() {
		j.presence.close(j.connected.Load()) // Leave first: the others see its users leave
		if lost := j.pub.close(closeTimeout); lost > 0 {
			j.log.Warn("cluster journal closed with lines not in the stream", "lines", lost)
		}
		if lost := j.recs.close(closeTimeout); lost > 0 {
			j.log.Warn("cluster journal closed with edits and reactions not in the stream", "records", lost)
		}
		if j.connected.Load() { // else there is nothing to wait for
			ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			if err := j.WaitCaughtUp(ctx); err != nil {
				j.log.Warn("cluster journal closed before its store caught up", "err", err)
			}
			cancel()
		}
		j.signals.close()
		j.cons.stop()
		j.writer.Close()
		j.stopSweeps()
		j.closeIdentities()
		if a := j.accts.Load(); a != nil {
			a.close()
		}
		j.nc.Close()
	})
}
