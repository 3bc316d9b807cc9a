package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// Resumable identities and the resume-token key, shared by every node (docs/CLUSTER.md,
// "Names, userIds, sessions, resume"): a token issued by any node is accepted by every
// node, and a resume takes the identity over from whichever node held it.

const (
	// sessionsBucket holds a key per resumable identity: its userId.
	sessionsBucket = "chatd_sessions"
	resumeKeyKey   = "resume-key"
)

// ErrSessionMoved is returned by TakeSession when another node changed the session
// since it was read: read it again and decide anew.
var ErrSessionMoved = errors.New("session changed meanwhile")

// SessionsConfig is the bucket of resumable identities: file storage, one revision.
func SessionsConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: sessionsBucket, History: 1, Storage: jetstream.FileStorage, Replicas: replicas}
}

// Session is a resumable identity as the cluster keeps it: what store.Session holds,
// plus the node it is online on (or was last).
type Session struct {
	UserID   uint64 `json:"userId"`
	Name     string `json:"name"`
	Color    string `json:"color"`
	Gender   int    `json:"gender"`
	Secret   []byte `json:"secret"` // the identity's resume secret (its tokens' HMAC input)
	Node     string `json:"node"`
	Online   bool   `json:"online"`
	LastSeen int64  `json:"lastSeen"` // unix milliseconds
	Revision uint64 `json:"-"`        // the KV revision it was read at
}

func sessionKey(userID uint64) string { return strconv.FormatUint(userID, 10) }

// CreateSession stores a new identity; its userId comes from a reserved block, so
// no other node can be creating the same key.
func CreateSession(ctx context.Context, kv jetstream.KeyValue, s *Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode session %d: %w", s.UserID, err)
	}
	rev, err := kv.Create(ctx, sessionKey(s.UserID), b)
	if err != nil {
		return fmt.Errorf("create session %d: %w", s.UserID, err)
	}
	s.Revision = rev
	return nil
}

// LoadSession reads an identity; false: none (never made, or forgotten after its grace).
func LoadSession(ctx context.Context, kv jetstream.KeyValue, userID uint64) (*Session, bool, error) {
	e, err := kv.Get(ctx, sessionKey(userID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load session %d: %w", userID, err)
	}
	var s Session
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return nil, false, fmt.Errorf("session %d: %w", userID, err)
	}
	s.Revision = e.Revision()
	return &s, true, nil
}

// TakeSession writes s (read at s.Revision, changed by the caller: a takeover sets its
// node and Online, a logout clears Online) only if nobody changed it meanwhile, so two
// nodes resuming one identity at once cannot both have it: the loser gets
// ErrSessionMoved.
func TakeSession(ctx context.Context, kv jetstream.KeyValue, s *Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode session %d: %w", s.UserID, err)
	}
	rev, err := kv.Update(ctx, sessionKey(s.UserID), b, s.Revision)
	if isWrongLastSequence(err) {
		return fmt.Errorf("take session %d: %w", s.UserID, ErrSessionMoved)
	}
	if err != nil {
		return fmt.Errorf("take session %d: %w", s.UserID, err)
	}
	s.Revision = rev
	return nil
}

// ForgetSession deletes an identity whose grace ended, unless it changed since it was
// read at rev (it resumed meanwhile).
func ForgetSession(ctx context.Context, kv jetstream.KeyValue, userID, rev uint64) error {
	err := kv.Delete(ctx, sessionKey(userID), jetstream.LastRevision(rev))
	if isWrongLastSequence(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("forget session %d: %w", userID, err)
	}
	return nil
}

// SharedResumeKey is the key every node signs resume tokens with: candidate (this
// node's own, from its store) if it is the first to offer one, else the one a node
// stored before. Every node therefore ends up with the same key.
func SharedResumeKey(ctx context.Context, meta jetstream.KeyValue, candidate []byte) ([]byte, error) {
	if len(candidate) == 0 {
		return nil, errors.New("shared resume key: empty candidate")
	}
	_, err := meta.Create(ctx, resumeKeyKey, candidate)
	if err == nil {
		return candidate, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("shared resume key: %w", err)
	}
	e, err := meta.Get(ctx, resumeKeyKey)
	if err != nil {
		return nil, fmt.Errorf("shared resume key: read: %w", err)
	}
	return e.Value(), nil
}
