package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/store"
)

// An account's rooms and read positions follow it to every node (docs/CLUSTER.md,
// "Accounts"): the accounts bucket holds, per account, the rooms it is in besides the
// default one and how far it has read each (key rooms.<userId>, JSON of roomsRecord),
// and every node's mirror hands that to the chat (OnAccountRooms), so a login on any
// node rejoins them and counts what is unread. The node where they change writes them
// with compare-and-swap from one goroutine that coalesces per account and writes at
// most every roomsRound, so an account's lines (each moves its read position) cost
// about one KV write per account per round, not one per line. The node's own SQLite
// gets them too, as on one node.

const roomsPrefix = "rooms."

// roomsRound is the least time between two rounds of account-room writes.
const roomsRound = 250 * time.Millisecond

// maxRoomOps bounds the changes queued for one account; past it the oldest read
// moves are dropped first (a later one supersedes them anyway).
const maxRoomOps = 1024

func roomsKey(userID uint64) string { return roomsPrefix + strconv.FormatUint(userID, 10) }

// roomsRecord is an account's rooms and read positions in KV.
type roomsRecord struct {
	Rooms []string          `json:"rooms,omitempty"`
	Reads map[string]uint64 `json:"reads,omitempty"`
}

// applyRoom applies one change, as the store does: a join adds the room, a leave
// drops it and its read position, a read moves the position up, never down.
func (r *roomsRecord) applyRoom(op store.AccountRoom) {
	switch {
	case op.IsRead:
		if old, ok := r.Reads[op.Room]; !ok || op.Read > old {
			if r.Reads == nil {
				r.Reads = make(map[string]uint64)
			}
			r.Reads[op.Room] = op.Read
		}
	case op.In:
		if !slices.Contains(r.Rooms, op.Room) {
			r.Rooms = append(r.Rooms, op.Room)
		}
	default:
		r.Rooms = slices.DeleteFunc(r.Rooms, func(s string) bool { return s == op.Room })
		delete(r.Reads, op.Room)
	}
}

// roomsWriter holds the account-room changes this node has not written yet.
type roomsWriter struct {
	mu      sync.Mutex
	pending map[uint64][]store.AccountRoom
	wake    chan struct{}
}

func newRoomsWriter() *roomsWriter {
	return &roomsWriter{pending: make(map[uint64][]store.AccountRoom), wake: make(chan struct{}, 1)}
}

// queueRoom queues r for the bucket; bounded per account (maxRoomOps) and in
// accounts (maxQueuedKVWrites).
func (a *Accounts) queueRoom(r store.AccountRoom) {
	w := a.rooms
	w.mu.Lock()
	ops, known := w.pending[r.UserID]
	switch {
	case !known && len(w.pending) >= maxQueuedKVWrites:
		w.mu.Unlock()
		a.j.log.Warn("cluster: account room change dropped, too many queued", "userId", r.UserID)
		return
	case len(ops) >= maxRoomOps:
		if i := slices.IndexFunc(ops, func(o store.AccountRoom) bool { return o.IsRead }); i >= 0 {
			ops = slices.Delete(ops, i, i+1)
		} else {
			ops = ops[1:] // only joins and leaves: the oldest is the least current
		}
	}
	w.pending[r.UserID] = append(ops, r)
	w.mu.Unlock()
	w.signal()
}

// writeRooms is the goroutine that writes the queued changes, a round at a time,
// until ctx ends, and then what is still queued (flushRooms).
func (a *Accounts) writeRooms(ctx context.Context) {
	w := a.rooms
	defer a.flushRooms()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		if a.j.connected.Load() { // else what is queued waits for NATS
			a.writeRoomsRound(ctx)
		} else {
			w.signal() // look again after the pause
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(roomsRound): // what comes meanwhile goes in the next round
		}
	}
}

// writeRoomsRound writes what is queued; an account whose write failed (NATS went
// away meanwhile) has its changes queued again, before any that came since.
func (a *Accounts) writeRoomsRound(ctx context.Context) {
	w := a.rooms
	w.mu.Lock()
	pending := w.pending
	w.pending = make(map[uint64][]store.AccountRoom)
	w.mu.Unlock()
	for userID, ops := range pending {
		err := a.writeAccountRooms(ctx, userID, ops)
		if err == nil || ctx.Err() != nil {
			continue
		}
		a.j.log.Warn("cluster: account rooms, will retry", "userId", userID, "err", err)
		w.mu.Lock()
		ops = append(ops, w.pending[userID]...)
		w.pending[userID] = ops[max(0, len(ops)-maxRoomOps):] // the newest, if too many
		w.mu.Unlock()
		w.signal()
	}
}

// flushRooms writes the changes still queued when the node stops, within
// closeTimeout: the last joins and reads of a round (up to roomsRound of them) would
// otherwise reach only this node's SQLite, and the account's next login on another
// node would not see them. The chat has stopped making changes by then (Server.Stop).
func (a *Accounts) flushRooms() {
	if !a.j.connected.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	a.writeRoomsRound(ctx)
}

func (w *roomsWriter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// writeAccountRooms applies ops to the account's record at the revision read.
func (a *Accounts) writeAccountRooms(ctx context.Context, userID uint64, ops []store.AccountRoom) error {
	key := roomsKey(userID)
	for range maxCASRetries {
		ctx, cancel := context.WithTimeout(ctx, kvTimeout)
		rec, rev, err := a.loadRooms(ctx, key)
		if err == nil {
			for _, op := range ops {
				rec.applyRoom(op)
			}
			b, _ := json.Marshal(rec)
			if rev == 0 {
				_, err = a.kv.Create(ctx, key, b)
			} else {
				_, err = a.kv.Update(ctx, key, b, rev)
			}
		}
		cancel()
		if err == nil || !isCASConflict(err) {
			return err
		}
	}
	return fmt.Errorf("account rooms %d: %d conflicts in a row", userID, maxCASRetries)
}

// loadRooms reads an account's record and its revision (0: none yet).
func (a *Accounts) loadRooms(ctx context.Context, key string) (roomsRecord, uint64, error) {
	var rec roomsRecord
	e, err := a.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return rec, 0, nil
	}
	if err != nil {
		return rec, 0, err
	}
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		// Not readable: written again from this node's changes rather than retried
		// for ever.
		a.j.log.Warn("cluster: bad account rooms record, replaced", "key", key, "err", err)
		rec = roomsRecord{}
	}
	return rec, e.Revision(), nil
}

// applyRooms hands a rooms record the mirror read to the chat.
func (a *Accounts) applyRooms(e jetstream.KeyValueEntry) error {
	userID, err := strconv.ParseUint(strings.TrimPrefix(e.Key(), roomsPrefix), 10, 64)
	if err != nil || a.onRooms == nil {
		return err
	}
	var rec roomsRecord
	if e.Operation() == jetstream.KeyValuePut {
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return fmt.Errorf("bad rooms record: %w", err)
		}
	}
	a.onRooms(userID, rec.Rooms, rec.Reads)
	return nil
}

// AddAccountRoom queues an account's join, leave or read for the local store and,
// once accounts are shared, for the cluster.
func (j *Journal) AddAccountRoom(r store.AccountRoom) {
	j.writer.AddAccountRoom(r)
	if a := j.accts.Load(); a != nil {
		a.queueRoom(r)
	}
}
