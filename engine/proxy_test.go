package engine

import (
	"net/http"
	"testing"
)

// TestClientAddr: the address per-address limits count by. Only a trusted peer's
// X-Forwarded-For is read, from the right, and the first untrusted hop is the client.
func TestClientAddr(t *testing.T) {
	proxies, err := parseTrustedProxies([]string{"127.0.0.1", "10.0.0.0/8", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy: the peer", "198.51.100.7:4000", nil, "198.51.100.7:4000"},
		{"an untrusted peer's header is ignored", "198.51.100.7:4000", []string{"203.0.113.9"}, "198.51.100.7:4000"},
		{"a trusted peer without the header is itself", "127.0.0.1:5000", nil, "127.0.0.1:5000"},
		{"one proxy", "127.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client's forged entries left of the real one", "127.0.0.1:5000", []string{"1.2.3.4, 5.6.7.8, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", "127.0.0.1:5000", []string{"203.0.113.9, 10.1.2.3, 10.0.0.1"}, "203.0.113.9"},
		{"several header lines read as one list", "127.0.0.1:5000", []string{"203.0.113.9", "10.0.0.1"}, "203.0.113.9"},
		{"only trusted hops: the leftmost", "127.0.0.1:5000", []string{"10.0.0.2, 10.0.0.1"}, "10.0.0.2"},
		{"a malformed entry stops at the last trusted hop", "127.0.0.1:5000", []string{"203.0.113.9, garbage, 10.0.0.1"}, "10.0.0.1"},
		{"a malformed last entry: the peer", "127.0.0.1:5000", []string{"203.0.113.9, garbage"}, "127.0.0.1:5000"},
		{"an entry with a port", "127.0.0.1:5000", []string{"203.0.113.9:1234"}, "203.0.113.9"},
		{"IPv6", "[fd00::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"a v4-mapped proxy", "[::ffff:10.0.0.1]:5000", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range c.xff {
				h.Add("X-Forwarded-For", v)
			}
			if got := proxies.clientAddr(c.peer, h); got != c.want {
				t.Errorf("clientAddr(%q, %q) = %q, want %q", c.peer, c.xff, got, c.want)
			}
		})
	}
	if got := trustedProxies(nil).clientAddr("127.0.0.1:5000", http.Header{"X-Forwarded-For": {"203.0.113.9"}}); got != "127.0.0.1:5000" {
		t.Errorf("without --trusted-proxies the peer is the client, got %q", got)
	}
}

func TestParseTrustedProxiesRefusesNonsense(t *testing.T) {
	for _, bad := range []string{"nginx", "10.0.0.0/33", "", "127.0.0.1:80"} {
		if _, err := parseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("parseTrustedProxies(%q) accepted it", bad)
		}
	}
}
