package nbiofix

import (
	"net"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/lesismal/nbio"
)

// CompactAddrs shrinks the addresses nbio v1.6.12 keeps for an accepted connection.
// Go's accept builds each *net.TCPAddr with its IP slicing the syscall.Sockaddr it
// came from, so every connection kept two 32-byte sockaddrs alive besides the two
// TCPAddrs: with 15,000 idle connections that was 1 MB, and nbio offers no way to keep
// fewer or smaller addresses. The local address is the same for most connections, so
// one copy is shared (the whole TCPAddr on an nbio connection, else its IP); the
// remote IP gets a copy of its own bytes, 4 of them for IPv4. Call it on the
// connection's poller before anything else reads the addresses.
func CompactAddrs(c net.Conn) {
	if nc, ok := c.(*nbio.Conn); !ok || !shareLocalAddr(nc) {
		if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
			a.IP = sharedIP(a.IP)
		}
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip := a.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		a.IP = append(net.IP(make([]byte, 0, len(ip))), ip...)
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

// localAddrOffset is where nbio's Conn keeps its local address (the unexported
// lAddr net.Addr), found by reflection once; ok is false if a later nbio has no such
// field, and the address is then left alone.
var localAddrOffset, localAddrFound = func() (uintptr, bool) {
	f, ok := reflect.TypeFor[nbio.Conn]().FieldByName("lAddr")
	return f.Offset, ok && f.Type == reflect.TypeFor[net.Addr]()
}()

var lastLocalAddr atomic.Pointer[net.TCPAddr]

// shareLocalAddr makes c's local address the one the previous connection on the same
// address has: nbio keeps a *net.TCPAddr of its own per connection (48 bytes, with
// nothing to set it through), though every connection accepted on one listener has
// the same. The TCPAddr is never modified once shared. It reports whether it found
// c's TCPAddr.
func shareLocalAddr(c *nbio.Conn) bool {
	if !localAddrFound {
		return false
	}
	field := (*net.Addr)(unsafe.Add(unsafe.Pointer(c), localAddrOffset))
	a, ok := (*field).(*net.TCPAddr)
	if !ok {
		return false
	}
	if last := lastLocalAddr.Load(); last != nil && last.Port == a.Port && last.Zone == a.Zone && last.IP.Equal(a.IP) && len(last.IP) == len(a.IP) {
		*field = last
		return true
	}
	a.IP = sharedIP(a.IP) // before it is published
	lastLocalAddr.Store(a)
	return true
}
