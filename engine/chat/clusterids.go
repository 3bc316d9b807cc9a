package chat

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/engine/store"
)

// ClusterIdentity is what a cluster node's journal offers so that userIds, names and
// resumable identities are unique across nodes (docs/CLUSTER.md, "Names, userIds,
// sessions, resume"); engine/cluster's Journal implements it. The chat picks it up
// from its journal (OpenHistoryWith). The methods with a context make a round trip to
// NATS: the chat calls them only before its worker starts or on its identity workers,
// never on the owner; the others only queue.
type ClusterIdentity interface {
	NodeName() string
	// SharedResumeKey is the key every node signs resume tokens with: candidate if
	// this node is the first to offer one.
	SharedResumeKey(ctx context.Context, candidate []byte) ([]byte, error)
	// ReserveUserIDBlock reserves n userIds above every node's and above floor.
	ReserveUserIDBlock(ctx context.Context, n, floor uint64) (first, last uint64, err error)
	// ReserveName makes userID the holder of a name key (names.go's nameKeys), at a
	// revision FreeName needs; taken: another user holds it.
	ReserveName(ctx context.Context, key string, userID uint64) (rev uint64, taken bool, err error)
	// ClaimName is ReserveName for an identity resuming here: its key gets a new
	// revision, so the node that held it before cannot free it.
	ClaimName(ctx context.Context, key string, userID uint64) (rev uint64, taken bool, err error)
	// FreeName queues the free of a key reserved at rev.
	FreeName(key string, rev uint64)
	// ShareName is ReserveName for a JWT account, which may be online on several
	// nodes at once: a key its user holds from other nodes gets this node too.
	ShareName(ctx context.Context, key string, userID uint64) (rev uint64, taken bool, err error)
	// LeaveName queues this node's leave of a key ShareName gave userID; the last
	// node's leave frees it.
	LeaveName(key string, userID uint64)
	// ResumeSession takes the identity userID over for this node if verify accepts
	// its stored session, and tells the node that had it online.
	ResumeSession(ctx context.Context, userID uint64, verify func(store.Session) bool) (store.Session, bool, error)
	// ForgetSession queues the delete of an identity whose grace ended here.
	ForgetSession(userID uint64)
	// OnTakeover sets what runs (on a NATS goroutine) when another node resumed one
	// of this node's identities.
	OnTakeover(fn func(userID uint64))
	// WaitCaughtUp returns once this node's commits of every line the stream holds
	// now have been handed to the chat.
	WaitCaughtUp(ctx context.Context) error
}

const (
	identityWorkers   = 8                // KV round trips of logins in flight at once
	maxIdentityJobs   = maxWaitingLogins // queued behind them; past it a login gets 1013
	identityTimeout   = 5 * time.Second  // one job's round trips
	maxNameCandidates = 32               // "name (N)" tried per login before the userId's own
)

// clusterIDs is the chat's cluster identity state; nil link: a single node.
type clusterIDs struct {
	link ClusterIdentity
	jobs chan func()
	stop chan struct{}
	// revs holds the KV revisions of the name keys (folded, shaped) each local
	// identity or user holds, to free them at exactly that revision.
	revs map[uint64][2]uint64
	// shared holds the users whose keys ShareName gave them (JWT accounts, possibly
	// online on other nodes too): their keys are left, not freed.
	shared map[uint64]bool
}

// joinClusterOf joins the cluster of a journal that offers ClusterIdentity (a
// cluster node's, engine/cluster); any other journal is a single node's, which keeps
// the userIds and identities of its own store.
func (ch *Chat) joinClusterOf(ctx context.Context, j Journal, floor uint64) error {
	link, ok := j.(ClusterIdentity)
	if !ok {
		return nil
	}
	if err := ch.joinCluster(ctx, link, floor); err != nil {
		return fmt.Errorf("join the cluster: %w", err)
	}
	return nil
}

// joinCluster makes the chat a node of link's cluster, before its worker starts:
// the shared resume key, the first userId block from KV, and the identity workers.
func (ch *Chat) joinCluster(ctx context.Context, link ClusterIdentity, floor uint64) error {
	key, err := link.SharedResumeKey(ctx, ch.key)
	if err != nil {
		return fmt.Errorf("resume key: %w", err)
	}
	first, last, err := link.ReserveUserIDBlock(ctx, ch.userIDs.block, floor)
	if err != nil {
		return fmt.Errorf("reserve userIds: %w", err)
	}
	ch.key = key
	// A cluster node's identities are in KV, resumed from there: the ones its store
	// kept from single-node days (restoreIdentities) hold no cluster-wide name.
	ch.ids, ch.departed = make(map[uint64]*identity), nil
	ch.names, ch.nameHint = make(map[string]uint64), make(map[string]int)
	ch.userIDs = userIDs{next: first, reserved: last, requested: last, block: ch.userIDs.block}
	ch.cl = clusterIDs{link: link, jobs: make(chan func(), maxIdentityJobs), stop: make(chan struct{}),
		revs: make(map[uint64][2]uint64), shared: make(map[uint64]bool)}
	for range identityWorkers {
		go ch.runIdentityJobs()
	}
	link.OnTakeover(func(userID uint64) { ch.postCommit(func() { ch.takenOver(userID) }) })
	return nil
}

// runIdentityJobs is one identity worker: it runs jobs until the chat closes.
func (ch *Chat) runIdentityJobs() {
	for {
		select {
		case <-ch.cl.stop:
			return
		case job := <-ch.cl.jobs:
			job()
		}
	}
}

// identityJob runs work on an identity worker with a bounded context, then done with
// its result on the owner; false: too many jobs queued (the caller refuses).
func (ch *Chat) identityJob(work func(ctx context.Context) func()) bool {
	w := ch.w
	job := func() {
		ctx, cancel := context.WithTimeout(context.Background(), identityTimeout)
		done := work(ctx)
		cancel()
		w.Post(done)
	}
	select {
	case ch.cl.jobs <- job:
		return true
	default:
		return false
	}
}

// stopCluster stops the identity workers (Close).
func (ch *Chat) stopCluster() {
	if ch.cl.link != nil {
		close(ch.cl.stop)
	}
}

// reserveClusterName reserves, off the owner, the first name of the cluster that is
// free: candidate (free on this node), then "base (N)" after it, then as the last
// resort "base (userId)". Both keys of a name are reserved, or neither.
// With shared (a JWT account's display name) the keys are ShareName's.
func reserveClusterName(ctx context.Context, link ClusterIdentity, base, candidate string, userID uint64, shared bool) (string, [2]uint64, error) {
	reserve := link.ReserveName
	if shared {
		reserve = link.ShareName
	}
	n := nameSuffix(candidate)
	for try := 0; try <= maxNameCandidates; try++ {
		name := candidate
		switch {
		case try == maxNameCandidates:
			name = base + " (" + strconv.FormatUint(userID, 10) + ")"
		case try > 0:
			n = max(n+1, 2)
			name = base + " (" + strconv.Itoa(n) + ")"
		}
		revs, taken, err := reserveBothKeys(ctx, link, name, userID, reserve, shared)
		if err != nil {
			return "", revs, err
		}
		if !taken {
			return name, revs, nil
		}
	}
	return "", [2]uint64{}, fmt.Errorf("no free name for %q in the cluster", base)
}

// reserveBothKeys reserves (claims, or shares) name's folded and shaped keys; if the
// second is taken, the first is freed (or, shared, left) again.
func reserveBothKeys(ctx context.Context, link ClusterIdentity, name string, userID uint64,
	reserve func(context.Context, string, uint64) (uint64, bool, error), shared bool) (revs [2]uint64, taken bool, err error) {
	folded, shaped := nameKeys(name)
	if revs[0], taken, err = reserve(ctx, folded, userID); err != nil || taken {
		return revs, taken, err
	}
	if shaped == folded {
		return revs, false, nil
	}
	if revs[1], taken, err = reserve(ctx, shaped, userID); err != nil || taken {
		if shared {
			link.LeaveName(folded, userID)
		} else {
			link.FreeName(folded, revs[0])
		}
		return [2]uint64{}, taken, err
	}
	return revs, false, nil
}

// nameSuffix is N of "name (N)", 1 for a name without one.
func nameSuffix(name string) int {
	open := strings.LastIndex(name, " (")
	if open < 0 || !strings.HasSuffix(name, ")") {
		return 1
	}
	n, err := strconv.Atoi(name[open+2 : len(name)-1])
	if err != nil {
		return 1
	}
	return n
}

// freeClusterName frees the KV keys of name that userID holds here, if it holds them.
func (ch *Chat) freeClusterName(name string, userID uint64) {
	revs, ok := ch.cl.revs[userID]
	if !ok {
		return
	}
	delete(ch.cl.revs, userID)
	if ch.cl.shared[userID] {
		delete(ch.cl.shared, userID)
		ch.leaveKeys(name, userID)
		return
	}
	ch.freeKeys(name, revs)
}

// takenOver runs on the owner when another node resumed the identity userID: its
// connection here, if any, closes as replaced, and the identity is forgotten here
// without freeing its name, which the other node holds now.
func (ch *Chat) takenOver(userID uint64) {
	delete(ch.cl.revs, userID) // the name's keys are the taker's now
	if u := ch.users[userID]; u != nil && u.resumable {
		u.resumable = false // forgotten here: remove keeps nothing of it
		ch.remove(u, false)
		u.conn.Close(CloseReplaced)
	} else if id := ch.ids[userID]; id != nil {
		delete(ch.ids, userID)
		ch.freeName(id.info.Name, userID)
	} else {
		return
	}
	ch.counters.takenOver++
}
