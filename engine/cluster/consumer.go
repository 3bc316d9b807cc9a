package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// consumer reads the whole lines stream in stream order with one ordered consumer
// (nats.go recreates it after a gap, a missed heartbeat or a reconnect, resuming
// after the last message it delivered) and hands each line, with its final seq and
// its stream seq, to the node's Writer. It starts after the node's applied stream
// seq; a message at or below the last one handed over is a redelivery and skipped,
// so a line reaches the store once.
// createTimeout bounds the creation of the ordered consumer: one that NATS did not
// answer (it went away meanwhile) is tried again soon.
const createTimeout = 2 * time.Second

type consumer struct {
	j        *Journal
	handed   uint64 // the stream seq handed to the Writer last; the consumer's goroutine's
	maxBytes int    // past this many bytes in the Writer, the consumer waits for commits

	mu      sync.Mutex
	iter    jetstream.MessagesContext // the current one, so stop can end its Next
	stopped bool
	done    chan struct{}
}

func newConsumer(j *Journal, applied uint64, maxBytes int) *consumer {
	return &consumer{j: j, handed: applied, maxBytes: maxBytes, done: make(chan struct{})}
}

func (c *consumer) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// run consumes until stop, starting the ordered consumer again if it ends.
func (c *consumer) run() {
	defer close(c.done)
	backoff := retryMin
	for !c.isStopped() {
		err := c.consume()
		if c.isStopped() {
			return
		}
		c.j.log.Warn("cluster consumer restarts", "after_stream_seq", c.handed, "err", err)
		time.Sleep(backoff)
		backoff = min(2*backoff, retryMax)
	}
}

// consume runs one ordered consumer from after c.handed until it fails or is stopped.
func (c *consumer) consume() error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{linesPrefix + ">"}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if c.handed > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, c.handed+1
	}
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	oc, err := c.j.stream.OrderedConsumer(ctx, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("ordered consumer: %w", err)
	}
	it, err := oc.Messages()
	if err != nil {
		return fmt.Errorf("ordered consumer messages: %w", err)
	}
	defer it.Stop()
	c.mu.Lock()
	c.iter = it
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		return nil
	}
	for {
		m, err := it.Next()
		if err != nil {
			return fmt.Errorf("read lines: %w", err)
		}
		c.apply(m)
	}
}

// apply hands m's line to the Writer, once. A message that carries no valid line
// still moves the applied seq on (and is logged): it can never become valid.
func (c *consumer) apply(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		c.j.log.Error("cluster line without metadata", "subject", m.Subject(), "err", err)
		return
	}
	seq := md.Sequence.Stream
	if seq <= c.handed {
		return
	}
	c.handed = seq
	for c.j.writer.QueuedBytes() > c.maxBytes && !c.isStopped() {
		time.Sleep(5 * time.Millisecond) // the disk is behind: let it commit
	}
	if c.applyRecord(seq, m) {
		return
	}
	line, err := decodeLine(m.Subject(), m.Headers(), m.Data())
	if err != nil {
		c.j.log.Error("cluster stream message skipped", "stream_seq", seq, "err", err)
		c.j.writer.AddApplied(seq)
		return
	}
	id := m.Headers().Get(jetstream.MsgIDHeader)
	c.j.pub.consumed(line.Room, Tip{StreamSeq: seq, Seq: line.Seq}, id)
	if !c.j.pub.own(id) {
		line.Conn = 0 // another node's (or an earlier run's) connection
	}
	c.j.writer.AddApplied(seq, line)
}

// stop ends the consumer and waits for it.
func (c *consumer) stop() {
	c.mu.Lock()
	c.stopped = true
	if c.iter != nil {
		c.iter.Stop()
	}
	c.mu.Unlock()
	<-c.done
}
