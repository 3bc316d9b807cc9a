package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/golang-jwt/jwt/v5"
)

// JWT logins (--jwt-key) over real WebSockets: HS256 secrets, RS256 and ES256 public
// keys, and every way a token is refused.

// signJWT signs claims with method and key.
func signJWT(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func writeKey(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwt.key")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func withJWTKey(path string) chattest.Option {
	return func(c *server.Config) { c.Accounts.JWTKeyFile = path }
}

// TestAccountJWTHS256: a JWT signed with the --jwt-key secret (trailing newline
// trimmed) logs in; its unknown sub becomes an account with a stable userId; its
// name is de-duplicated; a wrong key, no exp, an expired one or no sub: bad_token.
func TestAccountJWTHS256(t *testing.T) {
	secret := []byte("site secret")
	s := chattest.Start(t, withJWTKey(writeKey(t, append(secret, "\n"...))))
	exp := time.Now().Add(time.Hour).Unix()
	tok := signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "site-42", "name": "Lena", "exp": exp})

	anon, _ := s.Login(t, "Lena") // a JWT's name is not reserved: it is de-duplicated
	c, auth := dialToken(t, s, tok)
	if auth["action"] != "Authorized" || auth["account"] != true || auth["userName"] != "Lena (2)" {
		t.Fatalf("JWT login: %v", auth)
	}
	id := auth["userId"].(float64)
	c.Conn.Close()
	anon.Conn.Close()
	_, auth = dialToken(t, s, signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "site-42", "name": "Lena", "exp": exp + 1}))
	if auth["userId"] != id || auth["account"] != true { // the same sub is the same account
		t.Fatalf("second JWT login: %v, want userId %v", auth, id)
	}

	expectBadToken(t, s, signJWT(t, jwt.SigningMethodHS256, []byte("wrong"), jwt.MapClaims{"sub": "site-42", "exp": exp}))
	expectBadToken(t, s, signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "site-42"}))
	expectBadToken(t, s, signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "site-42", "exp": time.Now().Add(-time.Minute).Unix()}))
	expectBadToken(t, s, signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"name": "x", "exp": exp}))
	expectBadToken(t, s, signJWT(t, jwt.SigningMethodHS384, secret, jwt.MapClaims{"sub": "site-42", "exp": exp}))
}

// TestAccountJWTPublicKeys: RS256 and ES256 with a PEM public key; a token signed by
// another key pair is refused.
func TestAccountJWTPublicKeys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		name   string
		method jwt.SigningMethod
		priv   any
		pub    any
		wrong  any
	}{
		{"RS256", jwt.SigningMethodRS256, rsaKey, &rsaKey.PublicKey, nil},
		{"ES256", jwt.SigningMethodES256, ecKey, &ecKey.PublicKey, otherEC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := x509.MarshalPKIXPublicKey(tc.pub)
			if err != nil {
				t.Fatal(err)
			}
			s := chattest.Start(t, withJWTKey(writeKey(t, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))))
			claims := jwt.MapClaims{"sub": "ext-" + tc.name, "name": "Max", "exp": time.Now().Add(time.Hour).Unix()}
			_, auth := dialToken(t, s, signJWT(t, tc.method, tc.priv, claims))
			if auth["account"] != true || auth["userName"] != "Max" {
				t.Fatalf("%s login: %v", tc.name, auth)
			}
			expectBadToken(t, s, signJWT(t, jwt.SigningMethodHS256, []byte("guess"), claims))
			if tc.wrong != nil {
				expectBadToken(t, s, signJWT(t, tc.method, tc.wrong, claims))
			}
		})
	}
}

// TestAccountJWTHoldsEarlyFrames: a line sent before the JWT is verified is kept and
// handled after the login, as the account.
func TestAccountJWTHoldsEarlyFrames(t *testing.T) {
	secret := []byte("site secret")
	s := chattest.Start(t, withJWTKey(writeKey(t, secret)))
	tok := signJWT(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "early", "name": "Nora", "exp": time.Now().Add(time.Hour).Unix()})
	c := chattest.Dial(t, "ws://"+s.Addr+"/?token="+tok)
	c.Send(map[string]any{"text": "first words", "toUserId": 0})
	auth := c.Expect("Authorized")
	m := c.Expect("PublicMessage")
	if m["text"] != "first words" || m["userId"] != auth["userId"] || m["userName"] != "Nora" {
		t.Fatalf("the early line: %v (Authorized %v)", m, auth)
	}
}
