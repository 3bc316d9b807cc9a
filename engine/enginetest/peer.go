package enginetest

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/chatd/chatd/engine"
)

// Frame is one WebSocket frame the server wrote.
type Frame struct {
	Op      byte
	Payload []byte
}

// Peer is the client end of an attached connection and the engine's Transport for
// it: it parses every write into frames and keeps them. Like a polite client it
// answers the server's close frame at once, so OnClose follows.
type Peer struct {
	Conn *engine.Conn
	h    *Harness

	mu      sync.Mutex // writes come from the owner and the engine's writers
	discard bool       // count writes, keep nothing
	frames  []Frame
	writes  int
	broken  bool
	closed  *engine.CloseReason // the server's close frame, once written
	gone    bool                // Detach was called
}

var errBroken = errors.New("enginetest: broken transport")

// Write implements engine.Transport.
func (p *Peer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return 0, errBroken
	}
	p.writes++
	if p.discard {
		return len(b), nil
	}
	for rest := b; len(rest) > 0; {
		var f Frame
		f, rest = parseFrame(rest)
		p.frames = append(p.frames, f)
		if f.Op == engine.OpClose && p.closed == nil {
			r := engine.CloseReason{Code: int(binary.BigEndian.Uint16(f.Payload)), Text: string(f.Payload[2:])}
			p.closed = &r
			p.detachLocked(r)
		}
	}
	return len(b), nil
}

// SetReadDeadline implements engine.Transport; the close is answered at once instead.
func (p *Peer) SetReadDeadline(time.Time) error { return nil }

// parseFrame splits one unmasked server frame off b.
func parseFrame(b []byte) (Frame, []byte) {
	n, hdr := int(b[1]&0x7f), 2
	switch n {
	case 126:
		n, hdr = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		n, hdr = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	payload := append([]byte(nil), b[hdr:hdr+n]...)
	return Frame{Op: b[0] & 0x0f, Payload: payload}, b[hdr+n:]
}

func (p *Peer) detachLocked(r engine.CloseReason) {
	if !p.gone {
		p.gone = true
		p.h.W.Detach(p.Conn, r)
	}
}

// Send delivers a TEXT message from the peer and waits until the owner handled it
// and wrote what it sent.
func (p *Peer) Send(text string) {
	p.h.W.Receive(p.Conn, engine.Message{Data: []byte(text)})
	p.h.Sync()
}

// Leave drops the connection from the peer's side (a closed tab), with reason, and
// waits until the owner has run OnClose.
func (p *Peer) Leave(reason engine.CloseReason) {
	p.Drop(reason)
	p.h.Sync()
}

// Drop is Leave without the wait.
func (p *Peer) Drop(reason engine.CloseReason) {
	p.mu.Lock()
	p.detachLocked(reason)
	p.mu.Unlock()
}

// Break makes every later write fail, as a dead socket does.
func (p *Peer) Break() {
	p.mu.Lock()
	p.broken = true
	p.mu.Unlock()
}

// Frames is every frame written so far.
func (p *Peer) Frames() []Frame {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Frame(nil), p.frames...)
}

// Writes is how many writes the engine made to this peer.
func (p *Peer) Writes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes
}

// Messages is every TEXT frame so far, decoded.
func (p *Peer) Messages() []map[string]any {
	var out []map[string]any
	for _, f := range p.Frames() {
		if f.Op == engine.OpText {
			out = append(out, p.h.JSON(f))
		}
	}
	return out
}

// Actions is the action of every TEXT frame so far, in order.
func (p *Peer) Actions() []string {
	var out []string
	for _, m := range p.Messages() {
		a, _ := m["action"].(string)
		out = append(out, a)
	}
	return out
}

// Closed is the reason of the server's close frame, if it sent one.
func (p *Peer) Closed() (engine.CloseReason, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed == nil {
		return engine.CloseReason{}, false
	}
	return *p.closed, true
}
