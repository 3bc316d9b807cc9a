package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Error codes of the HTTP API, in {"error":CODE,"message":TEXT}.
const (
	CodeBadRequest     = "bad_request"     // the body is not {"name","password"} JSON (Content-Type: application/json)
	CodeBadName        = "bad_name"        // the name is empty or not a valid nickname
	CodeWeakPassword   = "weak_password"   // fewer than minPassword characters
	CodeNameTaken      = "name_taken"      // registered, or in use by someone online
	CodeBadCredentials = "bad_credentials" // wrong name or password, or a bad token at logout
	CodeRateLimited    = "rate_limited"    // too many failures from this IP
	CodeBusy           = "busy"            // the hashing queue is full; retry
	CodeInternal       = "internal"        // the store failed
)

const (
	minPassword = 8       // characters
	maxBody     = 4 << 10 // bytes of a register or login body
)

// Routes returns the HTTP routes, patterns to handlers, for the composition root.
func (s *Service) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST /api/register": http.HandlerFunc(s.serveRegister),
		"POST /api/login":    http.HandlerFunc(s.serveLogin),
		"POST /api/logout":   http.HandlerFunc(s.serveLogout),
	}
}

type credentials struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

type loggedIn struct {
	Token  string `json:"token"`
	UserID uint64 `json:"userId"`
	Name   string `json:"name"`
}

// apiError is an answer other than success.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// failed reports whether the error counts against the IP's failures.
func (e *apiError) failed() bool {
	return e.status == http.StatusBadRequest || e.status == http.StatusUnauthorized || e.status == http.StatusConflict
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"error": e.code, "message": e.msg})
}

// serveCredentials is register and login: the per-IP limit, the body, then do.
func (s *Service) serveCredentials(w http.ResponseWriter, r *http.Request, status int, do func(context.Context, credentials) (loggedIn, *apiError)) {
	ip := engine.RemoteHost(r.RemoteAddr)
	if s.fails.blocked(ip) {
		writeError(w, &apiError{http.StatusTooManyRequests, CodeRateLimited, "too many failed attempts from this address; wait a minute"})
		return
	}
	var c credentials
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt != "application/json" {
		// A cross-site form cannot send this type without a CORS preflight, which
		// chatd never grants: no login CSRF through a crafted text/plain form.
		err = errors.New("not JSON")
	}
	if err == nil {
		err = json.Unmarshal(body, &c)
	}
	if err != nil {
		s.fails.fail(ip)
		writeError(w, &apiError{http.StatusBadRequest, CodeBadRequest, `send {"name":NAME,"password":PASSWORD} as JSON`})
		return
	}
	out, e := do(r.Context(), c)
	if e != nil {
		if e.failed() {
			s.fails.fail(ip)
		}
		writeError(w, e)
		return
	}
	s.setCookie(w, r, out.Token)
	writeJSON(w, status, out)
}

func (s *Service) serveRegister(w http.ResponseWriter, r *http.Request) {
	s.serveCredentials(w, r, http.StatusCreated, s.register)
}

func (s *Service) serveLogin(w http.ResponseWriter, r *http.Request) {
	s.serveCredentials(w, r, http.StatusOK, s.login)
}

func (s *Service) setCookie(w http.ResponseWriter, r *http.Request, tok string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", MaxAge: int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookie || r.TLS != nil})
}

var errStore = &apiError{http.StatusInternalServerError, CodeInternal, "the account store failed; try again"}

func hashError(err error) *apiError {
	if errors.Is(err, errBusy) {
		return &apiError{http.StatusServiceUnavailable, CodeBusy, "too many logins at once; try again in a moment"}
	}
	return errStore
}

// register validates, hashes, reserves the name on the chat's owner, stores the
// account with its first token, then indexes both.
func (s *Service) register(ctx context.Context, c credentials) (loggedIn, *apiError) {
	if c.Name == "" || protocol.FilterName(c.Name, s.cfg.MaxNameLength) != c.Name {
		return loggedIn{}, &apiError{http.StatusBadRequest, CodeBadName, "a name is 1 to max-name-length letters, digits, '-', '_' and single spaces"}
	}
	if utf8.RuneCountInString(c.Password) < minPassword {
		return loggedIn{}, &apiError{http.StatusBadRequest, CodeWeakPassword, "a password has at least 8 characters"}
	}
	taken := &apiError{http.StatusConflict, CodeNameTaken, "that name is taken"}
	s.mu.RLock()
	_, exists := s.byName[c.Name]
	s.mu.RUnlock()
	if exists {
		return loggedIn{}, taken
	}
	pass, err := s.hash.hash(ctx, c.Password)
	if err != nil {
		return loggedIn{}, hashError(err)
	}
	id, err := s.reg.ReserveName(c.Name)
	switch {
	case errors.Is(err, ErrNameTaken):
		return loggedIn{}, taken
	case err != nil:
		return loggedIn{}, &apiError{http.StatusServiceUnavailable, CodeBusy, "no userId available; try again"}
	}
	a := store.Account{UserID: id, Name: c.Name, Pass: []byte(pass), Created: s.cfg.Now().UnixMilli()}
	tok, h := newToken()
	expires := s.cfg.Now().Add(s.cfg.SessionTTL)
	if s.shared != nil {
		if e := s.registerShared(ctx, a, store.AccountToken{Hash: h[:], UserID: id, Expires: expires.UnixMilli()}); e != nil {
			s.reg.ReleaseName(c.Name, id)
			return loggedIn{}, e
		}
		return loggedIn{Token: tok, UserID: id, Name: c.Name}, nil
	}
	err = s.write(ctx, func(ctx context.Context, db *store.SQLite) error {
		return db.CreateAccount(ctx, a, &store.AccountToken{Hash: h[:], UserID: id, Expires: expires.UnixMilli()})
	})
	if err != nil {
		s.reg.ReleaseName(c.Name, id)
		if errors.Is(err, store.ErrAccountExists) {
			return loggedIn{}, taken
		}
		s.log.Error("storing an account", "err", err)
		return loggedIn{}, errStore
	}
	s.mu.Lock()
	s.addToken(s.addAccount(a), h, expires)
	s.mu.Unlock()
	return loggedIn{Token: tok, UserID: id, Name: c.Name}, nil
}

// login checks the password (an unknown name costs a hash too) and issues a new token.
func (s *Service) login(ctx context.Context, c credentials) (loggedIn, *apiError) {
	acc := s.passwordAccount(c.Name)
	if acc == nil {
		synced, err := s.syncMiss(ctx, func(ctx context.Context) error { return s.shared.SyncName(ctx, c.Name) })
		if err != nil {
			return loggedIn{}, s.sharedError("login", err) // not "wrong password": the cluster did not answer
		}
		if synced {
			acc = s.passwordAccount(c.Name) // registered on another node a moment ago
		}
	}
	var pass string
	if acc != nil {
		pass = string(acc.Pass) // never changes once indexed
	}
	ok, err := s.hash.verify(ctx, c.Password, pass)
	if err != nil {
		return loggedIn{}, hashError(err)
	}
	if !ok {
		return loggedIn{}, &apiError{http.StatusUnauthorized, CodeBadCredentials, "wrong name or password"}
	}
	tok, err := s.issue(ctx, acc)
	if err != nil {
		if s.shared != nil {
			return loggedIn{}, s.sharedError("login", err)
		}
		s.log.Error("storing a token", "err", err)
		return loggedIn{}, errStore
	}
	return loggedIn{Token: tok, UserID: acc.UserID, Name: acc.Name}, nil
}

// passwordAccount is the password account named name, or nil.
func (s *Service) passwordAccount(name string) *account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byName[name]
}

// issue stores and indexes a new token for acc, dropping its oldest past the cap.
func (s *Service) issue(ctx context.Context, acc *account) (string, error) {
	tok, h := newToken()
	expires := s.cfg.Now().Add(s.cfg.SessionTTL)
	s.mu.RLock()
	var drop [][]byte
	for i := 0; i < len(acc.tokens)+1-maxTokensPerAccount; i++ {
		drop = append(drop, acc.tokens[i][:])
	}
	s.mu.RUnlock()
	if s.shared != nil {
		return tok, s.issueShared(ctx, store.AccountToken{Hash: h[:], UserID: acc.UserID, Expires: expires.UnixMilli()}, drop)
	}
	err := s.write(ctx, func(ctx context.Context, db *store.SQLite) error {
		return db.AddToken(ctx, store.AccountToken{Hash: h[:], UserID: acc.UserID, Expires: expires.UnixMilli()}, drop)
	})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.addToken(acc, h, expires)
	s.mu.Unlock()
	return tok, nil
}

// serveLogout revokes the token it is called with (?all=1: every token of its
// account) and clears the cookie, even when the token is no longer valid: a browser
// can only drop its HttpOnly cookie this way.
func (s *Service) serveLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	tok := engine.BearerToken(r.Header)
	if tok == "" {
		if c, err := r.Cookie(CookieName); err == nil {
			tok = c.Value
		}
	}
	a, ok := s.Session(tok)
	if !ok {
		writeError(w, &apiError{http.StatusUnauthorized, CodeBadCredentials, "send the token to revoke as Authorization: Bearer TOKEN"})
		return
	}
	if err := s.revoke(r.Context(), tok, a.UserID, r.URL.Query().Get("all") == "1"); err != nil {
		if s.shared != nil {
			writeError(w, s.sharedError("logout", err))
			return
		}
		s.log.Error("revoking tokens", "err", err)
		writeError(w, errStore)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// revoke deletes tok (all: every token of userID), in the store first, then in
// memory.
func (s *Service) revoke(ctx context.Context, tok string, userID uint64, all bool) error {
	h := sha256Sum(tok)
	if s.shared != nil {
		if err := s.revokeShared(ctx, h, userID, all); err != nil {
			return err
		}
	}
	err := s.write(ctx, func(ctx context.Context, db *store.SQLite) error {
		if all {
			return db.DeleteTokens(ctx, userID)
		}
		return db.DeleteToken(ctx, h[:])
	})
	if err != nil {
		return err
	}
	s.forget(h, userID, all)
	if s.reg != nil {
		s.reg.Revoked(userID, h, all) // a stolen token's live connection ends too
	}
	return nil
}

// forget drops revoked tokens from memory.
func (s *Service) forget(h [32]byte, userID uint64, all bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.byID[userID]
	if acc == nil {
		return
	}
	kept := acc.tokens[:0]
	for _, t := range acc.tokens {
		if all || t == h {
			delete(s.tokens, t)
			continue
		}
		kept = append(kept, t)
	}
	acc.tokens = kept
}
