package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/store"
)

// Edits, deletes and reaction toggles are records of the lines stream too, on
// subjects of their own, so every node applies them to its SQLite in the stream's
// one order, after the line they change, and tells its local members (the commit
// callback's Edits and Reactions, as on one node). They need no seq of their own:
// the chat accepts them only for committed lines, which are in the stream already.
const (
	editSubject  = linesPrefix + "edit"
	reactSubject = linesPrefix + "react"
)

// maxQueuedRecords bounds the edits and reactions waiting for NATS; past it they are
// refused (cluster_unavailable) like lines.
const maxQueuedRecords = 4096

// record is one edit or reaction on its way to the stream.
type record struct {
	subject string
	data    []byte
	msgID   string
}

// records publishes edits and reactions in the order the chat gave them, one at a
// time, retrying each with its Msg-Id (so a retry is stored once) until it is stored
// or the journal closes.
type records struct {
	j      *Journal
	queue  chan record
	prefix string // Msg-Id prefix: <node>-<boot>-r
	n      atomic.Uint64
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newRecords(j *Journal, prefix string) *records {
	r := &records{j: j, queue: make(chan record, maxQueuedRecords), prefix: prefix + "r"}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.run()
	return r
}

// add queues one record, or refuses it while NATS is away or the queue is full.
func (r *records) add(subject string, v any) error {
	if err := r.j.pub.refusal(); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cluster: encode %s: %w", subject, err)
	}
	rec := record{subject: subject, data: data, msgID: r.prefix + strconv.FormatUint(r.n.Add(1), 10)}
	select {
	case r.queue <- rec:
		return nil
	default:
		return unavailable("%d edits and reactions are waiting for NATS", maxQueuedRecords)
	}
}

func (r *records) run() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case rec := <-r.queue:
			r.publish(rec)
		}
	}
}

// publish stores rec in the stream, retrying until it is or the journal closes.
func (r *records) publish(rec record) {
	msg := &nats.Msg{Subject: rec.subject, Data: rec.data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, rec.msgID)
	backoff := retryMin
	for r.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(r.ctx, publishTimeout)
		_, err := r.j.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			return
		}
		r.j.log.Warn("cluster: publish record, retrying", "subject", rec.subject, "err", err)
		select {
		case <-r.ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, retryMax)
	}
}

// close publishes what is queued for at most timeout and stops; it returns how many
// records were left.
func (r *records) close(timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for len(r.queue) > 0 && time.Now().Before(deadline) && r.j.connected.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	r.cancel()
	r.wg.Wait()
	return len(r.queue)
}

// AddEdit queues an edit or delete of a committed line for the stream.
func (j *Journal) AddEdit(e store.Edit) error { return j.recs.add(editSubject, e) }

// AddReaction queues a reaction toggle for the stream.
func (j *Journal) AddReaction(r store.Reaction) error { return j.recs.add(reactSubject, r) }

// applyRecord hands an edit or reaction of the stream to the Writer; false: m is
// not one (a line).
func (c *consumer) applyRecord(seq uint64, m jetstream.Msg) bool {
	switch m.Subject() {
	case editSubject:
		var e store.Edit
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			c.j.log.Error("cluster edit skipped", "stream_seq", seq, "err", err)
			c.j.writer.AddApplied(seq)
			return true
		}
		e.Applied = false // the commit decides
		c.j.writer.AddAppliedEdit(seq, e)
	case reactSubject:
		var r store.Reaction
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			c.j.log.Error("cluster reaction skipped", "stream_seq", seq, "err", err)
			c.j.writer.AddApplied(seq)
			return true
		}
		r.Refused, r.Gone, r.State = false, false, nil // the commit decides
		c.j.writer.AddAppliedReaction(seq, r)
	default:
		return false
	}
	return true
}
