package engine

import (
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/engine/nbiofix"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
)

// session takes a connection's bytes from its first one (plain or, with TLS,
// decrypted): it sits where nbhttp keeps its parser, so nbhttp's poller hands it
// every read. It parses request heads itself, with the limits, and upgrades WebSocket
// requests itself; a plain HTTP request's head and body pass through to nbhttp's
// parser, which serves it. After the 101 the frameReader has the bytes.
//
// Every idle WebSocket carries one, so it is kept small (176 bytes, a size class;
// conn_size_test.go): a plain socket is written to through nbc itself, which lets
// nbhttp's Conn wrapper go at the upgrade, and the connection is one atomic pointer.
type session struct {
	w    *Worker
	nbc  *nbio.Conn
	tlsc *nbhttp.Conn // over TLS: what to write to (nbhttp's Conn over the tls.Conn); nil on a plain socket
	h    *httpState   // until the upgrade; a WebSocket does not keep it

	mu     sync.Mutex // Parse runs on the poller, CloseAndClean on nbio's executor
	mode   sessionMode
	hangUp bool // close the socket once Parse has let go of mu

	// conn is the connection the owner knows (modeWS): set and cleared under mu, read
	// without it by nbio's written-size callback.
	conn      atomic.Pointer[Conn]
	frames    frameReader
	read      *[]event // the messages of the read being parsed, posted together (readFrames)
	pings     pingBudget
	peerClose *CloseReason // the peer's close frame, for OnClose
}

// httpState is what a connection needs while it speaks HTTP.
type httpState struct {
	parser   *nbhttp.Parser // nbhttp's, which serves plain HTTP requests
	head     []byte         // modeHead: the request head so far
	bodyLeft int            // modeBody: body bytes still to pass to nbhttp

	reserved    int    // an upload's bytes of --max-upload-buffer, given back at the close
	reservedBy  string // the address they count for
	lastRequest bool   // an upload: bytes after its body are ignored (upload.go)
}

type sessionMode uint8

const (
	modeHead   sessionMode = iota // reading a request head
	modeBody                      // passing a request body through to nbhttp
	modeWS                        // a WebSocket: frames
	modeClosed                    // refused, failed or closed: bytes are ignored
)

// maxHTTPBody bounds a plain HTTP request's body; upload routes have caps of their
// own (upload.go).
const maxHTTPBody = 64 << 10

// adopt puts a session in the parser slot of nbc, if nbhttp's parser is still there.
func (w *Worker) adopt(nbc *nbio.Conn) {
	if p, ok := nbc.Session().(*nbhttp.Parser); ok {
		nbiofix.CompactAddrs(nbc)
		s := &session{w: w, nbc: nbc, h: &httpState{parser: p}}
		if hc, ok := p.UnderlayerConn().(*nbhttp.Conn); ok && hc.Conn != net.Conn(nbc) {
			s.tlsc = hc
		}
		nbc.SetSession(s)
		p.Conn = closeOnPoller{Conn: p.Conn, nbc: nbc}
		// nbhttp gave every connection a closure of its own for this (16 bytes).
		nbc.OnData(w.dataHandler)
	}
}

// closeOnPoller is the connection nbhttp writes HTTP responses to: the close after a
// "Connection: close" response, which nbhttp runs on a handler goroutine, goes
// through nbiofix.Shutdown.
type closeOnPoller struct {
	net.Conn
	nbc *nbio.Conn
}

func (c closeOnPoller) Close() error {
	nbiofix.Shutdown(c.nbc)
	return nil
}

// Sendfile lets nbhttp's Response.ReadFrom hand an *os.File to the kernel (sendfile)
// on a plain socket, as it does unwrapped: a download then takes neither memory nor
// --max-write-buffer, which a big file copied through Write would overflow. Over TLS
// the bytes go through Write (and the cap) as before.
func (c closeOnPoller) Sendfile(f *os.File, remain int64) (int64, error) {
	if hc, ok := c.Conn.(*nbhttp.Conn); ok && hc.Conn == net.Conn(c.nbc) {
		return c.nbc.Sendfile(f, remain)
	}
	return io.Copy(c.Conn, io.LimitReader(f, remain))
}

// UnderlayerConn implements nbhttp.ParserCloser: the net.Conn to write to (TLS's
// when the listener is wss://).
func (s *session) UnderlayerConn() net.Conn {
	if s.tlsc != nil {
		return s.tlsc
	}
	return s.nbc
}

// Parse implements nbhttp.ParserCloser: it gets every read, in order.
func (s *session) Parse(data []byte) error {
	s.mu.Lock()
	err := s.parse(data)
	hangUp := s.hangUp
	s.mu.Unlock()
	if hangUp { // nbio's close may run CloseAndClean at once, which takes mu
		_ = s.nbc.Close()
	}
	return err
}

func (s *session) parse(data []byte) error {
	for len(data) > 0 {
		var err error
		switch s.mode {
		case modeHead:
			data, err = s.readHead(data)
		case modeBody:
			n := min(s.h.bodyLeft, len(data))
			s.h.bodyLeft -= n
			if s.h.bodyLeft == 0 {
				s.mode = modeHead
				if s.h.lastRequest {
					s.mode = modeClosed
				}
			}
			err = s.h.parser.Parse(data[:n])
			data = data[n:]
		case modeWS:
			s.readFrames(data)
			return nil
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readHead gathers a request head up to --max-header-bytes and acts on it once it is
// complete; it returns the bytes after the head.
func (s *session) readHead(data []byte) ([]byte, error) {
	h, limit := s.h, s.w.cfg.MaxHeaderBytes
	take := data[:min(len(data), limit-len(h.head))]
	h.head = append(h.head, take...)
	end := headEnd(h.head)
	if end < 0 {
		if len(take) < len(data) || len(h.head) >= limit {
			s.refuse(errHeaderTooLarge)
		}
		return nil, nil
	}
	rest := append(h.head[end:len(h.head):len(h.head)], data[len(take):]...)
	headBytes := h.head[:end]
	req, herr := parseHead(headBytes)
	switch {
	case herr != nil:
		s.refuse(herr)
		return nil, nil
	case req.isUpgrade():
		s.upgrade(req, rest)
		return nil, nil
	}
	if route, ok := s.w.uploadFor(req); ok {
		if !s.admitUpload(req, route) {
			return nil, nil
		}
	} else if req.bodyLen > maxHTTPBody {
		s.refuse(&httpError{status: 413, text: "request body too large"})
		return nil, nil
	}
	h.head = h.head[:0]
	switch {
	case req.bodyLen > 0:
		s.mode, h.bodyLeft = modeBody, req.bodyLen
	case h.lastRequest:
		s.mode = modeClosed // an upload's connection takes nothing after it
	}
	return rest, h.parser.Parse(rewriteTarget(headBytes, req.target))
}

// refuse answers e and closes the connection.
func (s *session) refuse(e *httpError) {
	s.mode = modeClosed
	s.w.stats.handshakeErrors.Add(1)
	if e == errUploadBusy {
		s.w.stats.hit(limitUploadBuffer)
	} else {
		s.w.stats.hitByStatus(e.status)
	}
	s.w.log.Debug("request refused", "remote", s.nbc.RemoteAddr().String(), "status", e.status, "reason", e.text)
	_, _ = s.Write(e.response())
	s.hangUp = true
}

// upgrade answers a WebSocket request: 101 and a Conn for the owner, or a refusal.
// Bytes that came after the request in the same read are the first frames.
func (s *session) upgrade(h *requestHead, rest []byte) {
	accept, err := h.checkUpgrade()
	switch {
	case err != nil:
		s.refuse(err)
		return
	case !s.w.checkOrigin(h.header.Get("Origin"), h.header.Get("Host")):
		s.refuse(&httpError{status: 403, text: "origin not allowed"})
		return
	case s.w.stats.connections.Load() >= int64(s.w.cfg.MaxConnections):
		s.refuse(&httpError{status: 503, text: "server at capacity (--max-connections)"})
		return
	}
	if _, werr := s.Write(switchingProtocols(accept)); werr != nil {
		s.mode = modeClosed
		return
	}
	nbiofix.ClearHandshakeReadDeadline(s.nbc)
	s.limitSendBuffer()
	s.mode = modeWS
	s.dropHTTPParser()
	s.frames.maxMessage = int32(s.w.cfg.MaxMessageBytes) // at most maxMessageLimit (Config.Validate)
	path, rawQuery, _ := strings.Cut(h.target, "?")
	if p, perr := url.PathUnescape(path); perr == nil {
		path = p
	}
	req := &Request{Path: path, Query: parseQuery(rawQuery), Header: h.header, RemoteAddr: s.w.proxies.clientAddr(s.nbc.RemoteAddr().String(), h.header)}
	// A plain socket's written-size reports match what was handed to it; over TLS they
	// count ciphertext.
	s.w.open(s, req, s.tlsc == nil, s.conn.Store)
	if len(rest) > 0 {
		s.readFrames(rest)
	}
}

// limitSendBuffer sets the socket's SO_SNDBUF to --socket-send-buffer (see
// DefaultSocketSendBuffer). Only a WebSocket's: a file download keeps the kernel's
// autotuning, for speed over long distances.
func (s *session) limitSendBuffer() {
	if n := s.w.cfg.SocketSendBuffer; n > 0 {
		if err := s.nbc.SetWriteBuffer(n); err != nil {
			s.w.log.Debug("SO_SNDBUF not set", "remote", s.nbc.RemoteAddr().String(), "err", err)
		}
	}
}

// dropHTTPParser lets nbhttp's parser (and its processor) go at the upgrade: a
// WebSocket never needs them again, and they were most of an idle connection's
// memory besides the chat's own.
func (s *session) dropHTTPParser() {
	if s.tlsc != nil {
		s.tlsc.Parser = nil
	}
	s.h = nil
}

// readFrames feeds the frame reader; a violation fails the connection through the
// owner, after the messages that came before it. The read's complete messages go to
// the owner together, at the end of the read (or every maxReadBatch of them).
func (s *session) readFrames(data []byte) {
	if !s.conn.Load().flags.has(flagCloseSent) {
		nbiofix.ClearHandshakeReadDeadline(s.nbc) // see its doc: nbio may arm it late
	}
	s.read = readBatches.Get().(*[]event)
	err := s.frames.feed(data, s)
	s.postRead()
	readBatches.Put(s.read)
	s.read = nil
	if err != nil {
		s.fail(*err)
	}
}

// maxReadBatch bounds what one read holds back from the owner, and what a pooled
// batch keeps: a 64 KiB read of empty frames is ~10,000 messages.
const maxReadBatch = 64

// readBatches are the poller's message batches, reused: a read allocates none.
var readBatches = sync.Pool{New: func() any {
	b := make([]event, 0, maxReadBatch)
	return &b
}}

// postRead hands the messages gathered so far to the owner, in order.
func (s *session) postRead() {
	if s.read == nil || len(*s.read) == 0 {
		return
	}
	s.w.loop.postAll(*s.read)
	clear(*s.read) // the pool must not keep payloads alive
	*s.read = (*s.read)[:0]
}

func (s *session) fail(reason CloseReason) {
	if reason == CloseTooBig {
		s.w.stats.hit(limitMessageBytes)
	}
	s.mode = modeClosed
	s.frames.done = true
	s.postRead() // the messages before the violation go first
	s.w.loop.post(event{kind: evFail, conn: s.conn.Load(), reason: &reason})
}

// message implements frameSink.
func (s *session) message(binary bool, payload []byte) {
	ev := event{kind: evMessage, conn: s.conn.Load(), data: payload, binary: binary}
	if s.read == nil { // not inside readFrames (no such caller today): at once
		s.w.loop.post(ev)
		return
	}
	*s.read = append(*s.read, ev)
	if len(*s.read) == maxReadBatch {
		s.postRead()
	}
}

// own implements frameSink: a payload the handler shares (SharedMessages) is that
// shared slice, anything else a copy, the message's one allocation.
func (s *session) own(payload []byte) []byte {
	if len(payload) <= s.w.sharedLen {
		for _, m := range s.w.shared {
			if string(m) == string(payload) {
				return m
			}
		}
	}
	return append([]byte(nil), payload...)
}

// ping implements frameSink: answered at once, with the same payload, at most
// --max-pings-per-second.
func (s *session) ping(payload []byte) {
	if !s.pings.allow(s.w.clock(), s.w.cfg.MaxPingsPerSecond) {
		s.w.stats.hit(limitPings)
		s.fail(CloseReason{ClosePolicy.Code, "too many pings"})
		return
	}
	s.writeControl(OpPong, payload)
}

// writeControl writes a pong or a close frame from the poller, within the
// connection's write budget: a client that pings but does not read is cut (4001).
func (s *session) writeControl(op byte, payload []byte) {
	c := s.conn.Load()
	if c.flags.has(flagCloseSent) && op != OpClose {
		return
	}
	f := AppendFrame(nil, op, payload)
	if c.tracked && c.held.Load()+int64(len(f)) > int64(s.w.cfg.MaxWriteBuffer) {
		s.w.stats.hit(limitWriteBuffer)
		s.fail(CloseSlowConsumer)
		return
	}
	c.hand(len(f))
	_, _ = s.Write(f)
}

// pong implements frameSink: unsolicited pongs are allowed and ignored (§5.5.3).
func (s *session) pong([]byte) {}

// closeFrame implements frameSink: the peer's close is answered (unless the server's
// went out first) and the connection closed.
func (s *session) closeFrame(code int, reason string) {
	s.peerClose = &CloseReason{code, reason}
	if !s.conn.Load().flags.set(flagCloseSent) {
		if code == 1005 {
			code = CloseNormal.Code
		}
		s.writeControl(OpClose, CloseReason{Code: code}.payload())
	}
	s.mode, s.hangUp = modeClosed, true
}

// CloseAndClean implements nbhttp.ParserCloser: nbio closed the connection.
func (s *session) CloseAndClean(err error) {
	s.mu.Lock()
	conn, peer := s.conn.Swap(nil), s.peerClose
	s.mode = modeClosed
	h := s.h
	s.mu.Unlock()
	if h != nil {
		s.w.bodies.release(h.reservedBy, h.reserved)
		h.parser.CloseAndClean(err)
	}
	if conn == nil {
		return
	}
	reason := closeReasonFor(err)
	if reason == CloseSlowConsumer {
		s.w.stats.hit(limitWriteBuffer) // nbio's own cap, --max-write-buffer too
	}
	if peer != nil {
		reason = *peer
	}
	s.w.log.Debug("connection closed", "conn", conn.id, "err", err)
	s.w.stats.connections.Add(-1)
	s.w.loop.post(event{kind: evClose, conn: conn, reason: &reason})
}

// Write implements Transport: the socket, or TLS over it.
func (s *session) Write(b []byte) (int, error) {
	if s.tlsc != nil {
		return s.tlsc.Write(b)
	}
	return s.nbc.Write(b)
}

// SetReadDeadline implements Transport: the connection closes at t unless the peer
// closes first; a zero t clears the handshake's deadline. The close runs through
// nbiofix.Shutdown, never nbio's own deadline timer (see there why).
func (s *session) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		nbiofix.ClearHandshakeReadDeadline(s.nbc)
		return nil
	}
	if d := time.Until(t); d > 0 {
		time.AfterFunc(d, func() { nbiofix.Shutdown(s.nbc) }) // a no-op once it closed
		return nil
	}
	nbiofix.Shutdown(s.nbc)
	return nil
}

// RemoteAddr is the peer's address, for Conn.RemoteAddr.
func (s *session) RemoteAddr() net.Addr { return s.nbc.RemoteAddr() }

// pingBudget is a per-second token bucket for RFC pings, 8 bytes per connection.
type pingBudget struct {
	tokens float32
	// last is when the last ping came, in milliseconds of the worker's monotonic clock
	// (Worker.clock); 0: none yet. It wraps after 49 days, and the subtraction with it:
	// a gap of a multiple of 49 days refills less, and the bucket is full again a
	// second later.
	last uint32
}

func (b *pingBudget) allow(nowMillis uint32, perSecond int) bool {
	rate := float32(perSecond)
	if b.last == 0 {
		b.tokens = rate
	} else {
		b.tokens = min(rate, b.tokens+float32(nowMillis-b.last)/1e3*rate)
	}
	b.last = max(nowMillis, 1)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
