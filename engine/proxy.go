package engine

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Behind a reverse proxy (nginx, a load balancer) every connection comes from the
// proxy's address, so the per-address limits (failed logins, the upload quota and the
// upload memory share) would count all clients as one: one attacker's failed logins
// would lock everybody out. --trusted-proxies names the proxies whose
// X-Forwarded-For is believed; a peer outside it is its own address whatever it sends.

// trustedProxies is --trusted-proxies parsed: the networks whose X-Forwarded-For
// names the client.
type trustedProxies []netip.Prefix

// parseTrustedProxies reads CIDRs (10.0.0.0/8, fd00::/8) and single addresses.
func parseTrustedProxies(list []string) (trustedProxies, error) {
	var t trustedProxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			t = append(t, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR", s)
		}
		a = a.Unmap()
		t = append(t, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

func (t trustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address the per-address limits count a request by: the peer's
// (host:port as accepted) unless the peer is a trusted proxy with an
// X-Forwarded-For, then the rightmost address in it that is not a trusted proxy
// (the entries left of it are whatever the client wrote). A malformed entry ends
// the walk at the last trusted hop before it.
func (t trustedProxies) clientAddr(peer string, h http.Header) string {
	if len(t) == 0 {
		return peer
	}
	hop, err := netip.ParseAddr(RemoteHost(peer))
	if err != nil || !t.trusts(hop) {
		return peer
	}
	client := peer
	values := h.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		entries := strings.Split(values[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, ok := forwardedAddr(entries[j])
			if !ok {
				return client
			}
			client = a.String()
			if !t.trusts(a) {
				return client
			}
		}
	}
	return client
}

// forwardedAddr parses one X-Forwarded-For entry: an address, or one with a port.
func forwardedAddr(entry string) (netip.Addr, bool) {
	entry = strings.TrimSpace(entry)
	if a, err := netip.ParseAddr(entry); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(entry); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// forwardedFor gives the worker's HTTP routes the client's address as r.RemoteAddr
// (trustedProxies.clientAddr), so handlers need not know about proxies.
func (t trustedProxies) forwardedFor(next http.Handler) http.Handler {
	if len(t) == 0 {
		return next
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = t.clientAddr(r.RemoteAddr, r.Header)
		next.ServeHTTP(rw, r)
	})
}
