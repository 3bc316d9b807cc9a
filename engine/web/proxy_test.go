package web_test

import (
	"io"
	"net"
	"sync"
	"testing"
)

// dropProxy forwards TCP to a chatd so a test can cut one browser's network: drop
// closes every connection through it, and while blocked it refuses new ones.
type dropProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   []net.Conn
	blocked bool
}

func startProxy(t *testing.T, target string) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &dropProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.drop(false) })
	go p.serve()
	return p
}

func (p *dropProxy) Addr() string { return p.ln.Addr().String() }

func (p *dropProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		blocked := p.blocked
		p.mu.Unlock()
		if blocked {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close(); c.Close() }()
		go func() { io.Copy(c, up); up.Close(); c.Close() }()
	}
}

// drop closes every open connection, and blocks new ones until drop(false).
func (p *dropProxy) drop(block bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = block
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
