package loadgen

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// Dial starts one client and returns it at once; it blocks only for the TCP connect.
// Whether it logs in shows in its State and the pool's Stats. nbio's own
// websocket.Dialer cannot bind a source address, so the handshake is done here, the
// way that Dialer does it, on an nbhttp.ClientConn with our own net dialer.
func (p *Pool) Dial() *Client { return p.DialAs("", nil) }

// DialAs is Dial with a given nickname ("": the pool's prefix and the index) and
// query parameters on top of the pool's (a reconnect's resume=TOKEN and since=).
func (p *Pool) DialAs(name string, query url.Values) *Client {
	p.mu.Lock()
	c := &Client{pool: p, Index: int(p.dialed)}
	p.dialed++
	p.clients = append(p.clients, c)
	p.mu.Unlock()
	c.Name = name
	if name == "" {
		c.Name = p.cfg.NamePrefix + strconv.Itoa(c.Index)
	}

	u := *p.bases[p.baseIndex(c.Index)]
	q := url.Values{}
	q.Set("userName", c.Name)
	q.Set("userColor", "#336699")
	q.Set("gender", "1")
	for k, v := range p.cfg.Query {
		q[k] = v
	}
	for k, v := range query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	key := challengeKey()
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        &u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Host:       u.Host,
		Header: http.Header{
			"Upgrade":               {"websocket"},
			"Connection":            {"Upgrade"},
			"Sec-Websocket-Key":     {key},
			"Sec-Websocket-Version": {"13"},
			"Origin":                {"SimpleChatClient"},
		},
	}
	cc := &nbhttp.ClientConn{Engine: p.engine, Dial: p.netDial}

	p.stats.Dialing.Add(1)
	c.mu.Lock()
	c.cc = cc
	c.dialStart = p.Now()
	c.timer = time.AfterFunc(p.cfg.DialTimeout, func() { c.fail(ErrTimeout) })
	c.mu.Unlock()
	cc.Do(req, func(res *http.Response, conn net.Conn, err error) { c.onUpgrade(res, conn, err, key) })
	return c
}

// baseIndex is the URL client i dials: Config.Pick's choice, or round robin over
// the nodes.
func (p *Pool) baseIndex(i int) int {
	if p.cfg.Pick != nil {
		if b := p.cfg.Pick(i); b >= 0 && b < len(p.bases) {
			return b
		}
	}
	return i % len(p.bases)
}

// netDial connects from the next source address, if any.
func (p *Pool) netDial(network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	if n := len(p.cfg.SourceIPs); n > 0 {
		ip := p.cfg.SourceIPs[(p.next.Add(1)-1)%uint64(n)]
		d.LocalAddr = &net.TCPAddr{IP: ip}
		d.Control = bindAddressNoPort
	}
	conn, err := d.Dial(network, addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return conn, nil
}

// attach turns an upgraded nbio connection into a WebSocket client conn, as nbio's
// Dialer does. The handlers are the upgrader's (nbio shares them between every conn
// made from one upgrader), so the client rides in the conn's session.
func (p *Pool) attach(conn net.Conn, c *Client) (*websocket.Conn, error) {
	nbc, ok := conn.(*nbio.Conn)
	if !ok {
		return nil, fmt.Errorf("upgraded conn is a %T, not an nbio conn: %w", conn, ErrBadHandshake)
	}
	parser, ok := nbc.Session().(*nbhttp.Parser)
	if !ok {
		return nil, fmt.Errorf("upgraded conn has no HTTP parser: %w", ErrBadHandshake)
	}
	ws := websocket.NewClientConn(p.upgrader, conn, "", false, false)
	ws.SetSession(c)
	parser.ParserCloser = ws
	ws.Engine = parser.Engine
	ws.Execute = parser.Execute
	nbc.SetSession(ws)
	return ws, nil
}

func (p *Pool) installHandlers() {
	p.upgrader.OnMessage(func(ws *websocket.Conn, mt websocket.MessageType, data []byte) {
		if c, ok := ws.Session().(*Client); ok {
			c.onFrame(mt, data)
		}
	})
	p.upgrader.OnClose(func(ws *websocket.Conn, err error) {
		if c, ok := ws.Session().(*Client); ok {
			c.onClosed(err)
		}
	})
}

// validUpgrade checks the server's answer as RFC 6455 section 4.1 asks.
func validUpgrade(res *http.Response, key string) bool {
	return res != nil && res.StatusCode == http.StatusSwitchingProtocols &&
		engine.HeaderHasToken(res.Header, "Upgrade", "websocket") &&
		engine.HeaderHasToken(res.Header, "Connection", "upgrade") &&
		res.Header.Get("Sec-Websocket-Accept") == engine.AcceptKey(key)
}

func challengeKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
