package nbiofix

import (
	"net"
	"sync/atomic"
)

// CompactAddrs shrinks the addresses nbio v1.6.12 keeps for an accepted connection.
// Go's accept builds each *net.TCPAddr with its IP slicing the syscall.Sockaddr it
// came from, so every connection kept two 32-byte sockaddrs alive besides the two
// TCPAddrs: with 15,000 idle connections that was 1 MB, and nbio offers no way to keep
// fewer or smaller addresses. The local IP is the same for most connections, so one
// copy is shared; the remote one gets a copy of its own bytes. Call it on the
// connection's poller before anything else reads the addresses.
func CompactAddrs(c net.Conn) {
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		a.IP = sharedIP(a.IP)
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		a.IP = append(net.IP(make([]byte, 0, len(a.IP))), a.IP...)
	}
}

var lastLocalIP atomic.Pointer[net.IP]

// sharedIP returns the shared copy of ip if it is the last one seen, else makes ip
// the shared one.
func sharedIP(ip net.IP) net.IP {
	if p := lastLocalIP.Load(); p != nil && (*p).Equal(ip) && len(*p) == len(ip) {
		return *p
	}
	own := append(net.IP(make([]byte, 0, len(ip))), ip...)
	lastLocalIP.Store(&own)
	return own
}
