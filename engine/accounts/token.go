package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/chatd/chatd/engine"
)

// CookieName is the cookie a login sets for the browser (HttpOnly, SameSite=Lax).
const CookieName = "chatd_token"

// tokenBytes is a login token's randomness.
const tokenBytes = 32

// newToken returns a random token and its SHA-256, which is all that is stored.
func newToken() (string, [32]byte) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, sha256.Sum256([]byte(tok))
}

// TokenFrom is the token a WebSocket handshake (or an HTTP request) carries: the
// token query parameter, else "Authorization: Bearer", else the login cookie; "":
// none.
func TokenFrom(query url.Values, header http.Header) string {
	if t := query.Get("token"); t != "" {
		return t
	}
	if t := engine.BearerToken(header); t != "" {
		return t
	}
	r := http.Request{Header: header}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

func sha256Sum(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }
