package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// appliedKey is the meta row of the last JetStream sequence whose line this node
// committed (docs/CLUSTER.md): a cluster node's consumer resumes after it. It is
// written in the commit that stores the lines, so the two never disagree.
const appliedKey = "applied_stream_seq"

// AddApplied queues lines a cluster node's consumer read from the stream, with
// streamSeq, the stream sequence of the last of them (or of a stream message that
// carried no line), which the same commit stores. They come with their final seqs; a
// line whose (Room, Seq) is stored already is a no-op. Never refused: the lines are
// durable in the stream already, and the consumer bounds what it hands over by
// QueuedBytes. Safe from any goroutine; never blocks on the disk.
func (w *Writer) AddApplied(streamSeq uint64, ms ...Message) {
	size := 0
	for i := range ms {
		size += messageBytes(&ms[i])
	}
	w.addApplied(streamSeq, size, func(b *Batch) { b.Messages = append(b.Messages, ms...) })
}

// addApplied queues what add puts in the batch, size bytes, consumed at streamSeq.
func (w *Writer) addApplied(streamSeq uint64, size int, add func(*Batch)) {
	w.mu.Lock()
	add(&w.queue)
	w.queue.AppliedStreamSeq = max(w.queue.AppliedStreamSeq, streamSeq)
	w.held += size
	w.mu.Unlock()
	w.signal()
}

// writeApplied raises the stored applied stream seq to seq in tx (0: the batch holds
// none, as every single-node batch, and nothing is written).
func writeApplied(ctx context.Context, tx *sql.Tx, seq uint64) error {
	if seq == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES (?1, ?2)
		ON CONFLICT (k) DO UPDATE SET v = max(v, excluded.v)`, appliedKey, int64(seq))
	if err != nil {
		return fmt.Errorf("store: applied stream seq: %w", err)
	}
	return nil
}

// loadApplied reads the applied stream seq (0 for a node never in a cluster).
func loadApplied(ctx context.Context, db *sql.DB) (uint64, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = ?`, appliedKey).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: load applied stream seq: %w", err)
	}
	return uint64(v.Int64), nil
}

// AddAppliedEdit queues an edit a cluster node consumed at streamSeq; like AddApplied,
// never refused: it is durable in the stream already.
func (w *Writer) AddAppliedEdit(streamSeq uint64, e Edit) {
	w.addApplied(streamSeq, editBytes(&e), func(b *Batch) { b.Edits = append(b.Edits, e) })
}

// AddAppliedReaction queues a reaction toggle a cluster node consumed at streamSeq.
func (w *Writer) AddAppliedReaction(streamSeq uint64, r Reaction) {
	w.addApplied(streamSeq, reactionBytes(&r), func(b *Batch) { b.Reactions = append(b.Reactions, r) })
}
