package nbiofix_test

import (
	"net"
	"testing"

	"github.com/chatd/chatd/engine/nbiofix"
)

// TestCompactAddrsKeepsTheAddresses: the compacted addresses say the same as before,
// and connections on one local address share its IP.
func TestCompactAddrsKeepsTheAddresses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		local, remote := a.LocalAddr().String(), a.RemoteAddr().String()
		nbiofix.CompactAddrs(a)
		if a.LocalAddr().String() != local || a.RemoteAddr().String() != remote {
			t.Fatalf("addresses changed: %s %s, want %s %s", a.LocalAddr(), a.RemoteAddr(), local, remote)
		}
		accepted = append(accepted, a)
	}
	l0, l1 := accepted[0].LocalAddr().(*net.TCPAddr).IP, accepted[1].LocalAddr().(*net.TCPAddr).IP
	if &l0[0] != &l1[0] {
		t.Error("two connections on one local address keep two copies of its IP")
	}
}
