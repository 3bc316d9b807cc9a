package accounts

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chatd/chatd/engine/store"
	"github.com/golang-jwt/jwt/v5"
)

// JWT verification runs on jwtWorkers goroutines of its own, never on the chat's
// owner (an RS256 or ES256 check costs tens of microseconds, and an unknown sub is
// stored before its login goes on); at most jwtQueue verifications wait, past that a
// login is refused with ErrBusy.
const (
	jwtWorkers = 2
	jwtQueue   = 256
)

// Errors of VerifyJWT.
var (
	ErrBadToken = errors.New("accounts: bad or expired token")
	ErrBusy     = errors.New("accounts: too many logins being verified")
)

type jwtJob struct {
	tok  string
	done func(Account, error)
}

type verifier struct {
	key     any
	methods []string
	s       *Service
	jobs    chan jwtJob
	stop    chan struct{}
}

// newVerifier reads --jwt-key: a PEM public key (RSA: RS256, EC: ES256), or else an
// HS256 secret, the file's bytes with trailing whitespace trimmed.
func newVerifier(path string, s *Service) (*verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--jwt-key: %w", err)
	}
	v := &verifier{s: s, jobs: make(chan jwtJob, jwtQueue), stop: make(chan struct{})}
	if blk, _ := pem.Decode(b); blk != nil {
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			if rk, err2 := x509.ParsePKCS1PublicKey(blk.Bytes); err2 == nil {
				pub, err = rk, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("--jwt-key %s: not a public key: %w", path, err)
		}
		switch k := pub.(type) {
		case *rsa.PublicKey:
			v.key, v.methods = k, []string{"RS256"}
		case *ecdsa.PublicKey:
			v.key, v.methods = k, []string{"ES256"}
		default:
			return nil, fmt.Errorf("--jwt-key %s: want an RSA or EC public key, got %T", path, pub)
		}
	} else {
		secret := bytes.TrimRight(b, " \t\r\n")
		if len(secret) == 0 {
			return nil, fmt.Errorf("--jwt-key %s: the secret is empty", path)
		}
		v.key, v.methods = secret, []string{"HS256"}
	}
	for range jwtWorkers {
		go v.run()
	}
	return v, nil
}

func (v *verifier) run() {
	for {
		select {
		case j := <-v.jobs:
			a, err := v.verify(j.tok)
			j.done(a, err)
		case <-v.stop:
			return
		}
	}
}

// IsJWT reports whether tok is to be checked as a JWT: --jwt-key is set and tok has
// a JWT's three parts (opaque tokens have none).
func (s *Service) IsJWT(tok string) bool {
	return s.jwt != nil && strings.Count(tok, ".") == 2
}

// VerifyJWT queues tok's verification; done runs later on a verifier goroutine with
// the account (made on first use of its sub), ErrBadToken, ErrNoUserID or a store
// error. ErrBusy: the queue is full, done will not run.
func (s *Service) VerifyJWT(tok string, done func(Account, error)) error {
	select {
	case s.jwt.jobs <- jwtJob{tok: tok, done: done}:
		return nil
	default:
		return ErrBusy
	}
}

func (v *verifier) verify(tok string) (Account, error) {
	var claims struct {
		Name string `json:"name"`
		jwt.RegisteredClaims
	}
	_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return v.key, nil },
		jwt.WithValidMethods(v.methods), jwt.WithExpirationRequired(), jwt.WithTimeFunc(v.s.cfg.Now))
	if err != nil || claims.Subject == "" {
		return Account{}, ErrBadToken
	}
	return v.s.subAccount(claims.Subject, claims.Name)
}

// subAccount is sub's account, made and stored on its first use; its name is the
// token's (a display name the chat de-duplicates). First uses are serialized by
// createMu (held on a verifier goroutine, across the insert), so one sub is one
// account.
func (s *Service) subAccount(sub, name string) (Account, error) {
	if acc := s.lookupSub(sub); acc != nil {
		return Account{UserID: acc.UserID, Name: name, JWT: true}, nil
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if acc := s.lookupSub(sub); acc != nil {
		return Account{UserID: acc.UserID, Name: name, JWT: true}, nil
	}
	id, err := s.reg.NewUserID()
	if err != nil {
		return Account{}, err
	}
	a := store.Account{UserID: id, Name: name, Sub: sub, Created: s.cfg.Now().UnixMilli()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.shared != nil {
		// The cluster's first use of sub wins: a node that lost the race takes the
		// winner's userId (the one it drew is never used).
		if a, err = s.shared.SubAccount(ctx, a); err != nil {
			return Account{}, fmt.Errorf("accounts: sub %q in the cluster: %w", sub, err)
		}
		s.ApplyAccount(a)
		return Account{UserID: a.UserID, Name: name, JWT: true}, nil
	}
	err = s.write(ctx, func(ctx context.Context, db *store.SQLite) error { return db.CreateAccount(ctx, a, nil) })
	if err != nil {
		return Account{}, fmt.Errorf("accounts: storing sub %q: %w", sub, err)
	}
	s.mu.Lock()
	s.addAccount(a)
	s.mu.Unlock()
	return Account{UserID: id, Name: name, JWT: true}, nil
}

func (s *Service) lookupSub(sub string) *account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bySub[sub]
}
