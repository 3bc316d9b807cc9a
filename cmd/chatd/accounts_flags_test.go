package main

import (
	"strings"
	"testing"
	"time"
)

// TestAccountFlags: --session-ttl, --jwt-key and --allow-anonymous (and their
// CHATD_* variables) land in the accounts' config; a TTL under a minute is refused
// naming the flag.
func TestAccountFlags(t *testing.T) {
	s, err := parse(t, "--session-ttl", "2h", "--jwt-key", "/etc/site.pem", "--allow-anonymous=false")
	if err != nil {
		t.Fatal(err)
	}
	if a := s.Accounts; a.SessionTTL != 2*time.Hour || a.JWTKeyFile != "/etc/site.pem" || a.AllowAnonymous {
		t.Fatalf("accounts config %+v", a)
	}
	t.Setenv("CHATD_SESSION_TTL", "3h")
	t.Setenv("CHATD_ALLOW_ANONYMOUS", "false")
	if s, err = parse(t); err != nil || s.Accounts.SessionTTL != 3*time.Hour || s.Accounts.AllowAnonymous {
		t.Fatalf("from the environment: %+v %v", s.Accounts, err)
	}
	if _, err := parse(t, "--session-ttl", "0s"); err == nil || !strings.Contains(err.Error(), "--session-ttl") {
		t.Fatalf("--session-ttl 0s: %v, want an error naming the flag", err)
	}
}
