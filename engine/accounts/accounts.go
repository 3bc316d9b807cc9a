package accounts

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chatd/chatd/engine/store"
)

// Config is the accounts' settings.
type Config struct {
	SessionTTL     time.Duration // --session-ttl: how long a login token is valid
	JWTKeyFile     string        // --jwt-key: HS256 secret, or RS256/ES256 public key in PEM; "": no JWTs
	AllowAnonymous bool          // --allow-anonymous: logins without a token are anonymous users
	MaxNameLength  int           // the chat's --max-name-length (the server copies it)
	SecureCookie   bool          // the login cookie is Secure: chatd serves TLS itself (the server sets it)
	// Now is the clock of token expiry and of the per-IP limits (nil: time.Now); tests
	// move it instead of waiting.
	Now func() time.Time
}

// DefaultSessionTTL is --session-ttl's default: 30 days.
const DefaultSessionTTL = 30 * 24 * time.Hour

// DefaultConfig is the accounts' defaults.
func DefaultConfig() Config {
	return Config{SessionTTL: DefaultSessionTTL, AllowAnonymous: true, MaxNameLength: 32}
}

// Validate checks c, naming the flag.
func (c Config) Validate() error {
	if c.SessionTTL < time.Minute {
		return fmt.Errorf("--session-ttl: must be at least 1m, got %s", c.SessionTTL)
	}
	return nil
}

// writeTimeout bounds an account write, its wait for the one before included.
const writeTimeout = 10 * time.Second

// maxTokensPerAccount bounds the tokens an account holds: a login past it revokes the
// account's oldest, so logging in in a loop costs no memory.
const maxTokensPerAccount = 64

// Errors of Registrar.
var (
	ErrNameTaken = errors.New("accounts: name taken")
	ErrNoUserID  = errors.New("accounts: no userId available, try again")
)

// Registrar is the chat's side of accounts: it checks and reserves names the way
// nicknames are de-duplicated and hands out userIds from its reserved blocks. Its
// methods run the work on the chat's owner and wait for it: call them from HTTP
// handlers and verifiers, never from the owner.
type Registrar interface {
	// ReserveName reserves name for a new account and returns its userId, or
	// ErrNameTaken (held by an account, an online user or a resumable identity) or
	// ErrNoUserID.
	ReserveName(name string) (uint64, error)
	// ReleaseName undoes ReserveName when the account could not be stored.
	ReleaseName(name string, userID uint64)
	// NewUserID hands out a userId for an account made by a JWT.
	NewUserID() (uint64, error)
	// Revoked tells the chat that tokens of userID were revoked (the one whose
	// SHA-256 is token, or with all every one): connections they logged in end.
	Revoked(userID uint64, token [32]byte, all bool)
}

// Account is what the chat needs of an account at login.
type Account struct {
	UserID uint64
	Name   string
	JWT    bool // made by a JWT: its name is a display name, de-duplicated, not reserved
}

type account struct {
	store.Account
	tokens [][32]byte // its tokens' hashes, oldest first
}

type token struct {
	userID  uint64
	expires time.Time
}

// Service is the accounts: the index, the store, the hasher, the limits and the JWT
// verifier. Safe for concurrent use.
type Service struct {
	cfg   Config
	log   *slog.Logger
	db    *store.SQLite // nil: accounts live in memory only (no --data-dir)
	dbOne chan struct{} // one account write at a time (write)
	reg   Registrar
	hash  *hasher
	fails *failures
	jwt   *verifier // nil without --jwt-key
	// shared is a cluster node's accounts (shared.go); nil: a single node's, in db.
	shared    Shared
	syncs     chan syncJob  // token lookups waiting for the cluster (shared.go)
	stopSyncs chan struct{} // closed by Close

	closeOnce sync.Once
	createMu  sync.Mutex // serializes JWT accounts' first uses (jwt.go)
	mu        sync.RWMutex
	byID      map[uint64]*account
	byName    map[string]*account // password accounts by their exact name
	bySub     map[string]*account // JWT accounts by sub
	tokens    map[[32]byte]token
}

// New loads the accounts from db (nil: none, nothing is kept) and reads the JWT key.
func New(cfg Config, db *store.SQLite, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{
		cfg: cfg, log: log, db: db, dbOne: make(chan struct{}, 1), hash: newHasher(), fails: newFailures(cfg.Now),
		byID: map[uint64]*account{}, byName: map[string]*account{}, bySub: map[string]*account{},
		tokens: map[[32]byte]token{}, stopSyncs: make(chan struct{}),
	}
	if cfg.JWTKeyFile != "" {
		v, err := newVerifier(cfg.JWTKeyFile, s)
		if err != nil {
			return nil, err
		}
		s.jwt = v
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) load() error {
	if s.db == nil {
		return nil
	}
	accts, toks, err := s.db.LoadAccounts(context.Background(), s.cfg.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	for _, a := range accts {
		s.addAccount(a)
	}
	for _, t := range toks {
		a := s.byID[t.UserID]
		if a == nil || len(t.Hash) != sha256.Size {
			continue
		}
		h := [32]byte(t.Hash)
		a.tokens = append(a.tokens, h)
		s.tokens[h] = token{userID: t.UserID, expires: time.UnixMilli(t.Expires)}
	}
	return nil
}

// SetRegistrar gives the service the chat that reserves names and userIds; the
// composition root calls it before anything is served.
func (s *Service) SetRegistrar(r Registrar) { s.reg = r }

// AllowAnonymous is --allow-anonymous.
func (s *Service) AllowAnonymous() bool { return s.cfg.AllowAnonymous }

// ReservedNames is every password account's name with its userId, for the chat to
// reserve at start.
func (s *Service) ReservedNames() map[string]uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make(map[string]uint64, len(s.byName))
	for n, a := range s.byName {
		names[n] = a.UserID
	}
	return names
}

// Session resolves an opaque login token from memory: safe on the chat's owner.
func (s *Service) Session(tok string) (Account, bool) {
	h := sha256.Sum256([]byte(tok))
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tokens[h]
	if !ok || !now.Before(t.expires) {
		return Account{}, false
	}
	a := s.byID[t.userID]
	if a == nil {
		return Account{}, false
	}
	return Account{UserID: a.UserID, Name: a.Name, JWT: a.Sub != ""}, true
}

// addAccount indexes a; the caller holds mu (or is loading).
func (s *Service) addAccount(a store.Account) *account {
	acc := &account{Account: a}
	s.byID[a.UserID] = acc
	if a.Sub != "" {
		s.bySub[a.Sub] = acc
	} else {
		s.byName[a.Name] = acc
	}
	return acc
}

// addToken indexes a new token of acc and returns the hashes it pushed out past
// maxTokensPerAccount; the caller holds mu.
func (s *Service) addToken(acc *account, h [32]byte, expires time.Time) (dropped [][32]byte) {
	s.tokens[h] = token{userID: acc.UserID, expires: expires}
	acc.tokens = append(acc.tokens, h)
	for len(acc.tokens) > maxTokensPerAccount {
		dropped = append(dropped, acc.tokens[0])
		delete(s.tokens, acc.tokens[0])
		acc.tokens = acc.tokens[1:]
	}
	return dropped
}

// Close stops the JWT verifiers and the token syncs. Safe to call more than once.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		close(s.stopSyncs)
		if s.jwt != nil {
			close(s.jwt.stop)
		}
	})
}

// write runs one account write on the store, one at a time: SQLite takes one writer
// anyway, and HTTP handlers queued on its lock would hold database connections the
// chat's writer and readers need. Without a store it does nothing.
func (s *Service) write(ctx context.Context, fn func(context.Context, *store.SQLite) error) error {
	if s.db == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	select {
	case s.dbOne <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("accounts: waiting to write: %w", ctx.Err())
	}
	defer func() { <-s.dbOne }()
	return fn(ctx, s.db)
}
