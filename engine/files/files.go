// Package files serves uploads: POST /api/files puts a file in a room, GET
// /api/files/{id} gives it back to the room's members. A chat line then carries the
// fileId (engine/chat). Who may do either is the chat's answer to a bearer token
// (Members); the bytes and records are the store's (store.Files).
package files

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/chatd/chatd/engine/store"
)

// Config is what the file routes read; each field names its chatd flag.
type Config struct {
	MaxFileBytes int64 // --max-file-bytes: the largest file accepted
	QuotaPerDay  int64 // --file-quota: bytes one user may upload in any 24 hours
	// QuotaPerIP is --file-quota-per-ip: bytes one address may upload in any 24 hours,
	// whatever names it uses (anonymous identities cost nothing to make).
	QuotaPerIP int64
}

// DefaultConfig is the routes' configuration with every default in place.
func DefaultConfig() Config {
	return Config{MaxFileBytes: 10 << 20, QuotaPerDay: 100 << 20, QuotaPerIP: 1 << 30}
}

// Validate reports every value that cannot work, naming its flag.
func (c Config) Validate() error {
	var errs []error
	if c.MaxFileBytes <= 0 || c.MaxFileBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("--max-file-bytes: must be 1..%d, got %d", 1<<30, c.MaxFileBytes))
	}
	if c.QuotaPerDay < c.MaxFileBytes {
		errs = append(errs, fmt.Errorf("--file-quota: must be at least --max-file-bytes (%d), got %d", c.MaxFileBytes, c.QuotaPerDay))
	}
	if c.QuotaPerIP < c.MaxFileBytes {
		errs = append(errs, fmt.Errorf("--file-quota-per-ip: must be at least --max-file-bytes (%d), got %d", c.MaxFileBytes, c.QuotaPerIP))
	}
	return errors.Join(errs...)
}

// Members is the chat as the file routes see it.
type Members interface {
	// FileMember is the userId token names, if that user is online in room now.
	FileMember(token, room string) (userID uint64, ok bool)
	// FileUploaded tells the chat of a new upload, so a line may carry its fileId.
	FileUploaded(f store.File)
}

// Routes are the file routes' handlers.
type Routes struct {
	cfg     Config
	store   *store.Files
	members Members
	log     *slog.Logger
	now     func() time.Time
	quotaMu sync.Mutex // a user's quota check and record happen together
}

// New makes the routes over st, asking m who may use them.
func New(cfg Config, st *store.Files, m Members, log *slog.Logger) *Routes {
	return &Routes{cfg: cfg, store: st, members: m, log: log, now: time.Now}
}

// MultipartSlack is what a multipart body may carry around its file: boundaries and
// part headers.
const MultipartSlack = 16 << 10

// MaxBody is the upload route's body cap: a file of --max-file-bytes, in a multipart
// body or as it is.
func (rt *Routes) MaxBody() int { return int(rt.cfg.MaxFileBytes + MultipartSlack) }

// TooLargeJSON is the 413 answer's body, for a Content-Length over MaxBody.
const TooLargeJSON = `{"error":"file_too_large","message":"the file is larger than --max-file-bytes"}`

// Info is what an upload answers and what a chat line delivers as "file".
type Info struct {
	FileID string `json:"fileId"`
	URL    string `json:"url"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Type   string `json:"type"`
}

// InfoOf is f as clients see it.
func InfoOf(f store.File) Info {
	return Info{FileID: f.ID, URL: "/api/files/" + f.ID, Name: f.Name, Size: f.Size, Type: f.Type}
}

// newID is a fileId: 16 random bytes, unguessable, URL-safe.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// fail answers a JSON error.
func fail(rw http.ResponseWriter, status int, code, message string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"error": code, "message": message})
}
