package store

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
)

// KeyFile holds the HMAC key of resume tokens inside the data dir, so tokens survive a
// restart.
const KeyFile = "resume.key"

const keyBytes = 32

// ResumeKey implements Store: dir/resume.key, made on first use. It is written to a
// temporary file and renamed, so a crash never leaves half a key.
func (s *SQLite) ResumeKey() ([]byte, error) {
	path := filepath.Join(s.dir, KeyFile)
	if b, err := os.ReadFile(path); err == nil && len(b) >= keyBytes {
		return b[:keyBytes], nil
	}
	key := NewKey()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return nil, fmt.Errorf("store: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return key, nil
}

// NewKey is a fresh random resume key, for a chat that keeps no history.
func NewKey() []byte {
	key := make([]byte, keyBytes)
	_, _ = rand.Read(key) // never fails (crypto/rand panics rather than return an error)
	return key
}
