package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/engine/store"
)

// A cluster node's side of the identities every node shares (docs/CLUSTER.md, "Names,
// userIds, sessions, resume"): the Journal implements chat.ClusterIdentity with the
// KV primitives of names.go and sessions.go. The blocking methods are called by the
// chat's identity workers, never on its owner; the others only queue.

// takeoverPrefix is the subject a node hears on that another node resumed one of
// its identities: the payload is the userId, and the node closes its connection.
const takeoverPrefix = "chatd.takeover."

// maxQueuedKVWrites bounds the session writes and name frees waiting for NATS. They
// coalesce per userId, so the bound is only reached by as many identities changing
// at once; past it a write is dropped and logged (a resume may then fail, a name stay
// reserved until an operator deletes the key), never queued without end.
const maxQueuedKVWrites = 1 << 16

// kvTimeout bounds one KV round trip of an identity worker or the session writer.
const kvTimeout = 5 * time.Second

// identities is the Journal's KV state for names and sessions.
type identities struct {
	names, meta, sessions jetstream.KeyValue

	mu      sync.Mutex
	revs    map[uint64]uint64        // sessions this node wrote last, at their revision
	pending map[uint64]*sessionWrite // session writes not yet made, by userId
	frees   []nameFree               // name frees not yet made
	wake    chan struct{}            // one token: pending or frees has work
	sub     *nats.Subscription       // takeovers of this node's identities
	onTake  func(userID uint64)      // the chat's: set before the first takeover can come
	stop    chan struct{}
	done    chan struct{} // closed when the writer has stopped

	// freeing (one token) is held while a queued free is made and while ShareName
	// shares a key: a JWT account's new device here must not have its share undone
	// by the leave of its device before (ShareName). A channel, so that a share
	// waits no longer than its login's context.
	freeing chan struct{}
}

type sessionWrite struct {
	s      store.Session
	forget bool // delete it (its grace ended) instead of writing it
}

// nameFree is a queued FreeName, or with leaveFor set a LeaveName of that user's.
type nameFree struct {
	key      string
	rev      uint64
	leaveFor uint64
}

// openIdentities binds the buckets setup made and starts the session writer.
func (j *Journal) openIdentities(ctx context.Context) error {
	id := &identities{revs: make(map[uint64]uint64), pending: make(map[uint64]*sessionWrite),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), freeing: make(chan struct{}, 1)}
	var err error
	for _, b := range []struct {
		kv   *jetstream.KeyValue
		name string
	}{{&id.names, namesBucket}, {&id.meta, metaBucket}, {&id.sessions, sessionsBucket}} {
		if *b.kv, err = j.js.KeyValue(ctx, b.name); err != nil {
			return fmt.Errorf("bucket %s: %w", b.name, err)
		}
	}
	id.sub, err = j.nc.Subscribe(takeoverPrefix+NodeToken(j.node), func(m *nats.Msg) {
		userID, err := strconv.ParseUint(string(m.Data), 10, 64)
		id.mu.Lock()
		fn := id.onTake
		delete(id.revs, userID) // the session is the other node's now
		id.mu.Unlock()
		if err == nil && fn != nil {
			fn(userID)
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe to takeovers: %w", err)
	}
	j.ids = id
	go j.writeIdentities()
	return nil
}

// NodeName is this node's name in the cluster.
func (j *Journal) NodeName() string { return j.node }

// SharedResumeKey is the key every node signs resume tokens with (sessions.go).
func (j *Journal) SharedResumeKey(ctx context.Context, candidate []byte) ([]byte, error) {
	return SharedResumeKey(ctx, j.ids.meta, candidate)
}

// ReserveUserIDBlock reserves n userIds above every node's and above floor.
func (j *Journal) ReserveUserIDBlock(ctx context.Context, n, floor uint64) (first, last uint64, err error) {
	return ReserveUserIDs(ctx, j.ids.meta, n, floor)
}

// ReserveName makes userID the holder of a name key; taken: another user holds it.
func (j *Journal) ReserveName(ctx context.Context, folded string, userID uint64) (rev uint64, taken bool, err error) {
	rev, err = ReserveName(ctx, j.ids.names, folded, Holder{UserID: userID, Node: j.node})
	if errors.Is(err, ErrNameTaken) {
		return 0, true, nil
	}
	return rev, false, err
}

// ClaimName is ReserveName for a resumed identity (names.go).
func (j *Journal) ClaimName(ctx context.Context, folded string, userID uint64) (rev uint64, taken bool, err error) {
	rev, err = ClaimName(ctx, j.ids.names, folded, Holder{UserID: userID, Node: j.node})
	if errors.Is(err, ErrNameTaken) {
		return 0, true, nil
	}
	return rev, false, err
}

// ShareName is ReserveName for a JWT account, online on several nodes at once
// (names.go).
//
// A leave of the same key by userID, queued when its last device here left a moment
// ago, is dropped first, and one being made is waited for: otherwise the share would
// find this node a holder still, and the leave would then take the new device's
// name away. The wait is for one free at most (kvTimeout), and ctx bounds it.
func (j *Journal) ShareName(ctx context.Context, folded string, userID uint64) (rev uint64, taken bool, err error) {
	id := j.ids
	select {
	case id.freeing <- struct{}{}:
	case <-ctx.Done():
		return 0, false, fmt.Errorf("share name %q: wait for a free: %w", folded, ctx.Err())
	}
	defer func() { <-id.freeing }()
	id.mu.Lock()
	id.frees = slices.DeleteFunc(id.frees, func(f nameFree) bool { return f.key == folded && f.leaveFor == userID })
	id.mu.Unlock()
	rev, err = ShareName(ctx, id.names, folded, Holder{UserID: userID, Node: j.node})
	if errors.Is(err, ErrNameTaken) {
		return 0, true, nil
	}
	return rev, false, err
}

// FreeName queues the free of a name key reserved at rev.
func (j *Journal) FreeName(folded string, rev uint64) { j.queueFree(nameFree{key: folded, rev: rev}) }

// LeaveName queues this node's leave of a name key ShareName gave userID.
func (j *Journal) LeaveName(folded string, userID uint64) {
	j.queueFree(nameFree{key: folded, leaveFor: userID})
}

func (j *Journal) queueFree(f nameFree) {
	id := j.ids
	id.mu.Lock()
	if len(id.frees) < maxQueuedKVWrites {
		id.frees = append(id.frees, f)
	} else {
		j.log.Warn("cluster: name free dropped, too many queued", "name", f.key)
	}
	id.mu.Unlock()
	id.signal()
}

// OnTakeover sets what runs (on a NATS goroutine) when another node resumed one of
// this node's identities.
func (j *Journal) OnTakeover(fn func(userID uint64)) {
	j.ids.mu.Lock()
	j.ids.onTake = fn
	j.ids.mu.Unlock()
}

// AddSession queues a resumable identity's state for the sessions bucket: created
// the first time, then updated at the revision this node wrote; an identity another
// node has taken meanwhile is left to it.
func (j *Journal) AddSession(s store.Session) { j.queueSession(s, false) }

// ForgetSession queues the delete of an identity whose grace ended on this node.
func (j *Journal) ForgetSession(userID uint64) {
	j.queueSession(store.Session{UserID: userID}, true)
}

// queueSession queues one session write (or forget), replacing one queued for the same
// identity.
func (j *Journal) queueSession(s store.Session, forget bool) {
	id := j.ids
	id.mu.Lock()
	if _, ok := id.pending[s.UserID]; ok || len(id.pending) < maxQueuedKVWrites {
		id.pending[s.UserID] = &sessionWrite{s: s, forget: forget}
	} else {
		j.log.Warn("cluster: session write dropped, too many queued", "userId", s.UserID)
	}
	id.mu.Unlock()
	id.signal()
}

func (id *identities) signal() {
	select {
	case id.wake <- struct{}{}:
	default:
	}
}

// ResumeSession takes over the identity userID for this node if verify accepts the
// stored session (the token's HMAC and the grace, which the chat checks): the session
// is written with this node's name at the revision it was read at, so of two nodes
// resuming one identity at once only one wins. The node that had it online is told,
// and closes its connection. ok false: no such identity, or verify refused it.
func (j *Journal) ResumeSession(ctx context.Context, userID uint64, verify func(store.Session) bool) (s store.Session, ok bool, err error) {
	for range maxCASRetries {
		cs, found, err := LoadSession(ctx, j.ids.sessions, userID)
		if err != nil || !found {
			return store.Session{}, false, err
		}
		s = store.Session{UserID: cs.UserID, Name: cs.Name, Color: cs.Color, Gender: cs.Gender,
			Online: cs.Online, LastSeen: cs.LastSeen, Secret: cs.Secret}
		if !verify(s) {
			return store.Session{}, false, nil
		}
		prev, wasOnline := cs.Node, cs.Online
		cs.Node, cs.Online, cs.LastSeen = j.node, true, time.Now().UnixMilli()
		err = TakeSession(ctx, j.ids.sessions, cs)
		if errors.Is(err, ErrSessionMoved) {
			continue // another node wrote it meanwhile: decide again
		}
		if err != nil {
			return store.Session{}, false, err
		}
		j.ids.mu.Lock()
		j.ids.revs[userID] = cs.Revision
		j.ids.mu.Unlock()
		if wasOnline && prev != j.node {
			_ = j.nc.Publish(takeoverPrefix+NodeToken(prev), []byte(strconv.FormatUint(userID, 10)))
		}
		return s, true, nil
	}
	return store.Session{}, false, fmt.Errorf("resume session %d: %d conflicts in a row", userID, maxCASRetries)
}

// writeIdentities is the goroutine that makes the queued session writes and name
// frees, round by round, until the journal closes (after one last round).
func (j *Journal) writeIdentities() {
	id := j.ids
	defer close(id.done)
	for {
		stopping := false
		select {
		case <-id.stop:
			stopping = true
		case <-id.wake:
		}
		j.writeRound()
		if stopping {
			return
		}
	}
}

// writeRound makes the writes queued so far.
func (j *Journal) writeRound() {
	j.makeFrees()
	id := j.ids
	id.mu.Lock()
	pending := id.pending
	id.pending = make(map[uint64]*sessionWrite)
	id.mu.Unlock()
	for _, w := range pending {
		j.writeSession(w)
	}
}

// makeFrees makes the queued frees and leaves, oldest first.
func (j *Journal) makeFrees() {
	for j.makeOneFree() {
	}
}

// makeOneFree makes the oldest queued free or leave, holding freeing from taking it
// off the queue until it is made (ShareName); false: none was queued.
func (j *Journal) makeOneFree() bool {
	id := j.ids
	id.freeing <- struct{}{}
	defer func() { <-id.freeing }()
	id.mu.Lock()
	if len(id.frees) == 0 {
		id.frees = nil // the array the queue grew into goes too
		id.mu.Unlock()
		return false
	}
	f := id.frees[0]
	id.frees = id.frees[1:]
	id.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	var err error
	if f.leaveFor != 0 {
		err = LeaveName(ctx, id.names, f.key, Holder{UserID: f.leaveFor, Node: j.node})
	} else {
		err = FreeName(ctx, id.names, f.key, f.rev)
	}
	if err != nil {
		j.log.Warn("cluster: free name", "err", err)
	}
	return true
}

// writeSession makes one session write: create, update at the revision this node
// wrote, or forget; a session another node took since is not touched.
func (j *Journal) writeSession(w *sessionWrite) {
	id := j.ids
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	id.mu.Lock()
	rev, known := id.revs[w.s.UserID]
	id.mu.Unlock()
	var err error
	switch {
	case w.forget:
		if known {
			err = ForgetSession(ctx, id.sessions, w.s.UserID, rev)
		}
		id.mu.Lock()
		delete(id.revs, w.s.UserID)
		id.mu.Unlock()
	default:
		cs := &Session{UserID: w.s.UserID, Name: w.s.Name, Color: w.s.Color, Gender: w.s.Gender,
			Secret: w.s.Secret, Node: j.node, Online: w.s.Online, LastSeen: w.s.LastSeen, Revision: rev}
		if known {
			err = TakeSession(ctx, id.sessions, cs)
		} else {
			err = CreateSession(ctx, id.sessions, cs)
		}
		id.mu.Lock()
		if err == nil {
			id.revs[w.s.UserID] = cs.Revision
		} else if errors.Is(err, ErrSessionMoved) || errors.Is(err, jetstream.ErrKeyExists) {
			delete(id.revs, w.s.UserID) // another node has it: not ours to write
			err = nil
		}
		id.mu.Unlock()
	}
	if err != nil {
		j.log.Warn("cluster: session write", "userId", w.s.UserID, "err", err)
	}
}

// closeIdentities stops the writer after one last round of queued writes, waiting
// for it at most closeTimeout.
func (j *Journal) closeIdentities() {
	if j.ids == nil {
		return
	}
	_ = j.ids.sub.Unsubscribe()
	close(j.ids.stop)
	select {
	case <-j.ids.done:
	case <-time.After(closeTimeout):
		j.log.Warn("cluster journal closed with identity writes not made")
	}
}
