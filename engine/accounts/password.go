package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters, OWASP's first recommendation: 19 MiB of memory, 2 passes, one
// lane, a 16-byte salt and a 32-byte key. They are stored with each hash (PHC string
// format), so changing them later keeps old hashes verifiable.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// The hashing bound: at most hashSlots hashes at once (hashSlots × 19 MiB of memory,
// hashSlots cores), and at most hashQueue requests waiting for a slot, each at most
// hashWait. Past that a request is refused at once with 503 busy, so a flood of
// registrations or logins costs bounded memory and CPU and no goroutines beyond the
// HTTP handlers'.
const (
	hashSlots = 2
	hashQueue = 8
	hashWait  = 5 * time.Second
)

// errBusy: every hashing slot and queue place is taken.
var errBusy = errors.New("accounts: busy hashing")

type hasher struct {
	slots   chan struct{}
	waiters chan struct{}
	dummy   string // a hash of nothing, verified for unknown names so they take as long
}

func newHasher() *hasher {
	h := &hasher{slots: make(chan struct{}, hashSlots), waiters: make(chan struct{}, hashSlots+hashQueue)}
	h.dummy = encodeHash(argon2.IDKey(nil, make([]byte, argonSaltLen), argonTime, argonMemory, argonThreads, argonKeyLen), make([]byte, argonSaltLen))
	return h
}

// acquire takes a hashing slot, or errBusy when the queue is full or the wait too long.
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.waiters <- struct{}{}:
	default:
		return errBusy
	}
	ctx, cancel := context.WithTimeout(ctx, hashWait)
	defer cancel()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		<-h.waiters
		return errBusy
	}
}

func (h *hasher) release() {
	<-h.slots
	<-h.waiters
}

// hash returns password's argon2id hash in the PHC string format.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // never fails
	return encodeHash(argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen), salt), nil
}

// verify reports whether password matches encoded ("": the dummy, never a match).
func (h *hasher) verify(ctx context.Context, password, encoded string) (bool, error) {
	real := encoded != ""
	if !real {
		encoded = h.dummy
	}
	p, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return real && subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

func encodeHash(key, salt []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

type hashParams struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// decodeHash parses a PHC argon2id string, refusing parameters that would cost more
// than the ones chatd writes (a tampered database must not make a login expensive).
func decodeHash(s string) (hashParams, error) {
	var p hashParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, errors.New("accounts: not an argon2id hash")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, fmt.Errorf("accounts: argon2id parameters: %w", err)
	}
	if p.memory > argonMemory || p.time > argonTime || p.threads != argonThreads || p.time == 0 {
		return p, errors.New("accounts: argon2id parameters out of range")
	}
	var err1, err2 error
	p.salt, err1 = base64.RawStdEncoding.DecodeString(parts[4])
	p.key, err2 = base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil || len(p.key) == 0 {
		return p, fmt.Errorf("accounts: argon2id hash: %w", err)
	}
	return p, nil
}
