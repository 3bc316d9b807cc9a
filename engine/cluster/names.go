package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Names and userIds are unique cluster-wide through JetStream KV (docs/CLUSTER.md,
// "Names, userIds, sessions, resume"): a name is a key that only one node can create,
// and userIds come in blocks reserved with compare-and-swap. Each call is a round trip
// to NATS: never on the chat's owner.

const (
	// namesBucket holds a key per reserved name: the name's folded key (the chat's
	// names.go), base64url, whose value is its Holder.
	namesBucket = "chatd_names"
	// metaBucket holds the cluster's counters and secrets: userIdsKey, the highest
	// userId reserved by any node.
	metaBucket = "chatd_meta"
	userIDsKey = "userids"
)

// ErrNameTaken is returned by ReserveName when another user holds the name.
var ErrNameTaken = errors.New("name is taken in the cluster")

// NamesConfig and MetaConfig are the KV buckets of names and of the cluster's
// counters: file storage, so a nats-server restart keeps them, with replicas as
// --nats-replicas sets them; one revision per key is all the chat reads.
func NamesConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: namesBucket, History: 1, Storage: jetstream.FileStorage, Replicas: replicas}
}

// MetaConfig: see NamesConfig.
func MetaConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: metaBucket, History: 1, Storage: jetstream.FileStorage, Replicas: replicas}
}

// Holder is who holds a name: the user, and the node it is (or was last) on, so the
// nodes can free the names of a node that died (sweep.go). A JWT account online on
// several nodes holds its display name from each of them (ShareName): Shared lists
// the others, so the first to leave does not free the name the rest still show.
type Holder struct {
	UserID uint64
	Node   string
	Shared []string
}

// value is h as a name key's value: "<userId> <node> [<node>...]" (node names have
// no spaces: NodeToken).
func (h Holder) value() []byte {
	return []byte(strings.Join(append([]string{strconv.FormatUint(h.UserID, 10), h.Node}, h.Shared...), " "))
}

// parseHolder reads a name key's value; a bare userId (no node) is accepted.
func parseHolder(v []byte) (Holder, error) {
	fields := strings.Fields(string(v))
	if len(fields) == 0 {
		return Holder{}, fmt.Errorf("bad name holder %q: empty", v)
	}
	userID, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return Holder{}, fmt.Errorf("bad name holder %q: %w", v, err)
	}
	h := Holder{UserID: userID}
	if len(fields) > 1 {
		h.Node, h.Shared = fields[1], fields[2:]
	}
	return h, nil
}

// on reports whether node holds the name for h's user.
func (h Holder) on(node string) bool { return h.Node == node || slices.Contains(h.Shared, node) }

// without is h with node no longer holding it; ok false: node was the last.
func (h Holder) without(node string) (rest Holder, ok bool) {
	nodes := slices.DeleteFunc(append([]string{h.Node}, h.Shared...), func(n string) bool { return n == node })
	if len(nodes) == 0 {
		return Holder{}, false
	}
	return Holder{UserID: h.UserID, Node: nodes[0], Shared: nodes[1:]}, true
}

// NameKey is the KV key of a name's folded key: base64url, since a folded name may
// hold characters (spaces, dots, any script) that KV keys may not.
func NameKey(folded string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(folded))
}

// ReserveName makes h the holder of the name whose folded key is folded, if no user
// holds it (Create fails on an existing key, so two nodes racing for a name never
// both win). It returns the key's revision, which FreeName needs. Reserving a name
// h's user holds already succeeds with the existing revision, so a retry is harmless.
func ReserveName(ctx context.Context, kv jetstream.KeyValue, folded string, h Holder) (uint64, error) {
	key := NameKey(folded)
	rev, err := kv.Create(ctx, key, h.value())
	if err == nil {
		return rev, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("reserve name %q: %w", folded, err)
	}
	e, gerr := kv.Get(ctx, key)
	if gerr != nil {
		if errors.Is(gerr, jetstream.ErrKeyNotFound) {
			return 0, fmt.Errorf("reserve name %q: freed meanwhile, retry: %w", folded, ErrNameTaken)
		}
		return 0, fmt.Errorf("reserve name %q: read holder: %w", folded, gerr)
	}
	if held, err := parseHolder(e.Value()); err == nil && held.UserID == h.UserID {
		return e.Revision(), nil
	}
	return 0, ErrNameTaken
}

// FreeName frees a name reserved at revision rev. A key changed since (a newer
// holder's) is left alone, so a late free never takes a name from its next owner.
func FreeName(ctx context.Context, kv jetstream.KeyValue, folded string, rev uint64) error {
	err := kv.Delete(ctx, NameKey(folded), jetstream.LastRevision(rev))
	if isWrongLastSequence(err) {
		return nil // held by someone else now
	}
	if err != nil {
		return fmt.Errorf("free name %q: %w", folded, err)
	}
	return nil
}

// NameHolder is who holds a name, and whether anyone does.
func NameHolder(ctx context.Context, kv jetstream.KeyValue, folded string) (Holder, bool, error) {
	e, err := kv.Get(ctx, NameKey(folded))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Holder{}, false, nil
	}
	if err != nil {
		return Holder{}, false, fmt.Errorf("read name %q: %w", folded, err)
	}
	h, err := parseHolder(e.Value())
	if err != nil {
		return Holder{}, false, fmt.Errorf("name %q: %w", folded, err)
	}
	return h, true, nil
}

// maxCASRetries bounds ReserveUserIDs' compare-and-swap loop: each retry means another
// node reserved a block meanwhile, so more than this is a cluster in trouble.
const maxCASRetries = 64

// ReserveUserIDs reserves the next block of n userIds for this node, above every id
// any node reserved (and above floor, the highest id this node's store has seen, so a
// cluster made from a single node's data never reissues its ids). It returns the
// block's first and last id. Blocks of racing nodes never overlap: the counter moves
// only by Update at the revision it was read at.
func ReserveUserIDs(ctx context.Context, kv jetstream.KeyValue, n, floor uint64) (first, last uint64, err error) {
	if n == 0 {
		return 0, 0, errors.New("reserve userIds: empty block")
	}
	for range maxCASRetries {
		top, rev, err := readCounter(ctx, kv)
		if err != nil {
			return 0, 0, err
		}
		first = max(top, floor) + 1
		last = first + n - 1
		value := []byte(strconv.FormatUint(last, 10))
		if rev == 0 {
			_, err = kv.Create(ctx, userIDsKey, value)
		} else {
			_, err = kv.Update(ctx, userIDsKey, value, rev)
		}
		if err == nil {
			return first, last, nil
		}
		if !isCASConflict(err) {
			return 0, 0, fmt.Errorf("reserve userIds: %w", err)
		}
	}
	return 0, 0, fmt.Errorf("reserve userIds: %d conflicts in a row", maxCASRetries)
}

// readCounter is the highest userId reserved and the key's revision (0, 0: none yet).
func readCounter(ctx context.Context, kv jetstream.KeyValue) (top, rev uint64, err error) {
	e, err := kv.Get(ctx, userIDsKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read userIds counter: %w", err)
	}
	top, err = strconv.ParseUint(string(e.Value()), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("userIds counter %q: %w", e.Value(), err)
	}
	return top, e.Revision(), nil
}

// isCASConflict tells a lost compare-and-swap: the key exists (Create) or is at
// another revision (Update).
func isCASConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || isWrongLastSequence(err)
}

// ClaimName is ReserveName for an identity that resumes on h's node: a name its user
// holds already is written again, with the new node, so its revision moves on and a
// node that held the identity before can no longer free it with the revision it kept.
func ClaimName(ctx context.Context, kv jetstream.KeyValue, folded string, h Holder) (uint64, error) {
	key, value := NameKey(folded), h.value()
	for range maxCASRetries {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if rev, err := kv.Create(ctx, key, value); err == nil || !isCASConflict(err) {
				return rev, wrapName("claim", folded, err)
			}
			continue // created meanwhile: look again
		}
		if err != nil {
			return 0, wrapName("claim", folded, err)
		}
		if held, err := parseHolder(e.Value()); err != nil || held.UserID != h.UserID {
			return 0, ErrNameTaken
		}
		rev, err := kv.Update(ctx, key, value, e.Revision())
		if err == nil || !isCASConflict(err) {
			return rev, wrapName("claim", folded, err)
		}
	}
	return 0, fmt.Errorf("claim name %q: %d conflicts in a row", folded, maxCASRetries)
}

// ShareName is ReserveName for a JWT account, which may be online on several nodes at
// once: a name its user holds from other nodes gets h's node among its holders, so
// LeaveName of one of them keeps it for the others.
func ShareName(ctx context.Context, kv jetstream.KeyValue, folded string, h Holder) (uint64, error) {
	key := NameKey(folded)
	for range maxCASRetries {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if rev, err := kv.Create(ctx, key, h.value()); err == nil || !isCASConflict(err) {
				return rev, wrapName("share", folded, err)
			}
			continue // created meanwhile: look again
		}
		if err != nil {
			return 0, wrapName("share", folded, err)
		}
		held, err := parseHolder(e.Value())
		if err != nil || held.UserID != h.UserID {
			return 0, ErrNameTaken
		}
		if held.on(h.Node) || held.Node == AccountNode {
			return e.Revision(), nil
		}
		held.Shared = append(held.Shared, h.Node)
		rev, err := kv.Update(ctx, key, held.value(), e.Revision())
		if err == nil || !isCASConflict(err) {
			return rev, wrapName("share", folded, err)
		}
	}
	return 0, fmt.Errorf("share name %q: %d conflicts in a row", folded, maxCASRetries)
}

// LeaveName takes h's node from the holders of a name ShareName gave h's user: the
// last node's leave frees it. A key another user holds now is left alone.
func LeaveName(ctx context.Context, kv jetstream.KeyValue, folded string, h Holder) error {
	key := NameKey(folded)
	for range maxCASRetries {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return wrapName("leave", folded, err)
		}
		held, err := parseHolder(e.Value())
		if err != nil || held.UserID != h.UserID || !held.on(h.Node) {
			return nil // not ours (any more)
		}
		if rest, ok := held.without(h.Node); ok {
			_, err = kv.Update(ctx, key, rest.value(), e.Revision())
		} else {
			err = kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
		}
		if err == nil || !isCASConflict(err) {
			return wrapName("leave", folded, err)
		}
	}
	return fmt.Errorf("leave name %q: %d conflicts in a row", folded, maxCASRetries)
}

func wrapName(op, folded string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s name %q: %w", op, folded, err)
}
