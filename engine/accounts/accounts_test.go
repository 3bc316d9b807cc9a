package accounts

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHasherBound: with every slot and queue place taken, a hash is refused at once
// (errBusy), so a flood never grows past hashSlots hashes and hashQueue waiters.
func TestHasherBound(t *testing.T) {
	h := newHasher()
	for range hashSlots {
		if err := h.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for range hashQueue {
		h.waiters <- struct{}{} // queue places taken by waiting requests
	}
	if _, err := h.hash(context.Background(), "password1"); !errors.Is(err, errBusy) {
		t.Fatalf("hash past the queue: %v, want errBusy", err)
	}
	if _, err := h.verify(context.Background(), "password1", ""); !errors.Is(err, errBusy) {
		t.Fatalf("verify past the queue: %v, want errBusy", err)
	}
	for range hashQueue {
		<-h.waiters
	}
	for range hashSlots {
		h.release()
	}
	enc, err := h.hash(context.Background(), "password1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: not the documented parameters", enc)
	}
	for pw, want := range map[string]bool{"password1": true, "password2": false} {
		if ok, err := h.verify(context.Background(), pw, enc); err != nil || ok != want {
			t.Fatalf("verify %q: %v %v, want %v", pw, ok, err, want)
		}
	}
	if ok, _ := h.verify(context.Background(), "", ""); ok {
		t.Fatal("the dummy hash matched")
	}
}

// TestDecodeHashRefusesCostlier: a stored hash asking for more memory or passes
// than chatd writes is refused, not computed.
func TestDecodeHashRefusesCostlier(t *testing.T) {
	for _, s := range []string{
		"$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5",
		"$argon2id$v=19$m=19456,t=100,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5",
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5",
		"plain",
	} {
		if _, err := decodeHash(s); err == nil {
			t.Errorf("decodeHash(%q) accepted", s)
		}
	}
}

// TestFailuresWindow: the tenth failure blocks the IP until a minute after its first;
// other IPs are free; a full table refuses new IPs until windows end.
func TestFailuresWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	f := newFailures(func() time.Time { return now })
	for range failLimit - 1 {
		f.fail("a")
	}
	if f.blocked("a") {
		t.Fatal("blocked after 9 failures")
	}
	f.fail("a")
	if !f.blocked("a") || f.blocked("b") {
		t.Fatal("want a blocked and b free")
	}
	now = now.Add(failWindow)
	if f.blocked("a") {
		t.Fatal("still blocked after the minute")
	}
	for i := range maxFailIPs {
		f.fail(strconv.Itoa(i))
	}
	if !f.blocked("new") {
		t.Fatal("a full table took a new address")
	}
	now = now.Add(failWindow)
	if f.blocked("new") {
		t.Fatal("the table was not swept after the windows ended")
	}
}
