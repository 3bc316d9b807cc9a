package nbiofix

import (
	"net"
	"net/netip"
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
// remote address of an nbio connection becomes an 8-byte v4Addr for IPv4 (64 bytes
// with its TCPAddr and IP, nothing but String is ever asked of it), else its IP gets
// a copy of its own bytes. Call it on the connection's poller before anything else
// reads the addresses.
func CompactAddrs(c net.Conn) {
	nc, isNbio := c.(*nbio.Conn)
	if !isNbio || !shareLocalAddr(nc) {
		if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
			a.IP = sharedIP(a.IP)
		}
	}
	if isNbio && compactRemoteAddr(nc) {
		return
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

// addrField is where nbio's Conn keeps an address (the unexported lAddr and rAddr
// net.Addr), found by reflection once; ok is false if a later nbio has no such
// field, and the address is then left alone.
func addrField(name string) (offset uintptr, ok bool) {
	f, ok := reflect.TypeFor[nbio.Conn]().FieldByName(name)
	return f.Offset, ok && f.Type == reflect.TypeFor[net.Addr]()
}

var (
	localAddrOffset, localAddrFound   = addrField("lAddr")
	remoteAddrOffset, remoteAddrFound = addrField("rAddr")
)

// v4Addr is an IPv4 TCP address in 8 bytes: the IP above the 16-bit port.
type v4Addr uint64

func (a v4Addr) Network() string { return "tcp" }

func (a v4Addr) String() string {
	ip := [4]byte{byte(a >> 40), byte(a >> 32), byte(a >> 24), byte(a >> 16)}
	return netip.AddrPortFrom(netip.AddrFrom4(ip), uint16(a)).String()
}

// compactRemoteAddr replaces c's remote *net.TCPAddr with a v4Addr if it is IPv4,
// reporting whether it did.
func compactRemoteAddr(c *nbio.Conn) bool {
	if !remoteAddrFound {
		return false
	}
	field := (*net.Addr)(unsafe.Add(unsafe.Pointer(c), remoteAddrOffset))
	a, ok := (*field).(*net.TCPAddr)
	if !ok || a.Zone != "" {
		return false
	}
	v4 := a.IP.To4()
	if v4 == nil {
		return false
	}
	*field = v4Addr(uint64(v4[0])<<40 | uint64(v4[1])<<32 | uint64(v4[2])<<24 | uint64(v4[3])<<16 | uint64(uint16(a.Port)))
	return true
}

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
