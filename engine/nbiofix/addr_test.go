package nbiofix_test

import (
	"net"
	"testing"

	"github.com/chatd/chatd/engine/nbiofix"
	"github.com/lesismal/nbio"
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

// TestCompactAddrsOnNbio: nbio connections accepted on one address end up with one
// local TCPAddr between them, and an IPv4 remote address of 8 bytes (no TCPAddr), and
// keep saying the same addresses. (Tests listen on 127.0.0.1 only: an IPv6 remote
// keeps its TCPAddr, by the path TestCompactAddrsKeepsTheAddresses tests.)
func TestCompactAddrsOnNbio(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var locals []net.Addr
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
		nc, err := nbio.NBConn(a)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		local, remote := nc.LocalAddr().String(), nc.RemoteAddr().String()
		nbiofix.CompactAddrs(nc)
		if nc.LocalAddr().String() != local || nc.RemoteAddr().String() != remote || remote != c.LocalAddr().String() {
			t.Fatalf("addresses changed: %s %s, want %s %s", nc.LocalAddr(), nc.RemoteAddr(), local, remote)
		}
		if _, big := nc.RemoteAddr().(*net.TCPAddr); big || nc.RemoteAddr().Network() != "tcp" {
			t.Fatalf("remote address %T on %s, want the compact IPv4 one", nc.RemoteAddr(), nc.RemoteAddr().Network())
		}
		locals = append(locals, nc.LocalAddr())
	}
	if locals[0] != locals[1] {
		t.Error("two nbio connections on one local address keep two TCPAddrs")
	}
}
