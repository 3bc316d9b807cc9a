package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/chatd/chatd/protocol"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// State is where a client is in its life.
type State int32

// States of a client, in order.
const (
	StateDialing    State = iota // TCP connect and WebSocket handshake under way
	StateUpgraded                // 101 received, waiting for Authorized
	StateAuthorized              // logged in
	StateClosed                  // was logged in, now closed
	StateFailed                  // never logged in
)

var stateNames = [...]string{"dialing", "upgraded", "authorized", "closed", "failed"}

func (s State) String() string { return stateNames[s] }

// errNotAuthorized is what Send returns for a client that is not logged in.
var errNotAuthorized = errors.New("client is not logged in")

// errCanceled fails a client that was closed while it was still dialing.
var errCanceled = errors.New("closed while dialing")

// Client is one simulated user.
type Client struct {
	pool  *Pool
	Index int    // dial order in its pool, from 0
	Name  string // the nickname it asked for

	mu           sync.Mutex
	state        State
	cc           *nbhttp.ClientConn
	conn         *websocket.Conn
	timer        *time.Timer
	userID       uint64
	users        int
	resumeToken  string
	resumed      bool
	dialStart    time.Duration
	upgradedAt   time.Duration
	authorizedAt time.Duration
	closing      bool // Close was called: a close that follows is ours, not the server's
	closeErr     error
}

// State is the client's state now.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// UserID is the userId the server gave this client (0 before Authorized).
func (c *Client) UserID() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID
}

// Resume is the resume token of an opt-in client's Authorized ("" before it or when
// not opted in) and whether that Authorized resumed an earlier identity.
func (c *Client) Resume() (token string, resumed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resumeToken, c.resumed
}

// Timing is when a client dialed, got its 101 and its Authorized, on the pool's clock.
type Timing struct {
	DialStart, Upgraded, Authorized time.Duration
	Users                           int // users listed in Authorized
}

// Timing returns the client's handshake timestamps (zero for steps not reached).
func (c *Client) Timing() Timing {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Timing{DialStart: c.dialStart, Upgraded: c.upgradedAt, Authorized: c.authorizedAt, Users: c.users}
}

// CloseErr is the error the connection closed with (nil while open).
func (c *Client) CloseErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// Send writes data as one TEXT frame. Safe from any goroutine.
func (c *Client) Send(data []byte) error {
	c.mu.Lock()
	conn, state := c.conn, c.state
	c.mu.Unlock()
	if state != StateAuthorized {
		return errNotAuthorized
	}
	if err := conn.WriteMessage(websocket.TextMessage, data); err != nil {
		c.pool.stats.countError(ErrKindWrite)
		return fmt.Errorf("client %d: send: %w", c.Index, err)
	}
	return nil
}

// Close says goodbye with a normal close frame and closes the connection. A client
// still dialing is failed with ErrKind "canceled".
func (c *Client) Close() {
	c.mu.Lock()
	state, conn := c.state, c.conn
	if state == StateUpgraded || state == StateAuthorized {
		c.closing = true
	}
	c.mu.Unlock()
	switch state {
	case StateDialing:
		c.fail(errCanceled)
	case StateUpgraded, StateAuthorized:
		_ = conn.WriteClose(1000, "")
		_ = conn.Close()
	}
}

// fail ends a client that never logged in. Only the first failure counts. It must be
// called without c.mu held: closing the nbio client conn calls back into the client.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.state != StateDialing && c.state != StateUpgraded {
		c.mu.Unlock()
		return
	}
	c.state = StateFailed
	c.closeErr = err
	cc, conn, timer := c.cc, c.conn, c.timer
	c.mu.Unlock()

	if timer != nil {
		timer.Stop()
	}
	stats := &c.pool.stats
	stats.Dialing.Add(-1)
	stats.Failed.Add(1)
	kind := errorKind(err)
	if errors.Is(err, errCanceled) {
		kind = "canceled"
	}
	stats.countError(kind)
	if conn != nil {
		_ = conn.Close()
	} else if cc != nil {
		go cc.CloseWithError(err) // may be inside cc's own callback: never under its lock
	}
}

// onUpgrade is nbio's answer to the handshake request.
func (c *Client) onUpgrade(res *http.Response, conn net.Conn, err error, key string) {
	if err != nil {
		c.fail(err)
		return
	}
	if !validUpgrade(res, key) {
		_ = conn.Close()
		c.fail(fmt.Errorf("status %d: %w", res.StatusCode, ErrBadHandshake))
		return
	}
	ws, err := c.pool.attach(conn, c)
	if err != nil {
		_ = conn.Close()
		c.fail(err)
		return
	}
	c.mu.Lock()
	if c.state != StateDialing { // timed out meanwhile
		c.mu.Unlock()
		_ = ws.Close()
		return
	}
	c.state = StateUpgraded
	c.conn = ws
	c.upgradedAt = c.pool.Now()
	c.mu.Unlock()
}

// onFrame handles one server frame, on nbio's goroutines, one at a time per client.
func (c *Client) onFrame(mt websocket.MessageType, data []byte) {
	stats := &c.pool.stats
	stats.Frames.Add(1)
	stats.Bytes.Add(uint64(len(data)))
	var f Frame
	if mt != websocket.TextMessage || parseFrame(data, &f) != nil {
		stats.countError(ErrKindBadFrame)
		return
	}
	switch f.Action {
	case protocol.ActionPing:
		c.mu.Lock()
		conn := c.conn
		c.mu.Unlock()
		if conn != nil && conn.WriteMessage(websocket.TextMessage, pongJSON) == nil {
			stats.Pings.Add(1)
		}
	case protocol.ActionAuthorized:
		stats.UserListEntries.Add(uint64(f.Users))
		stats.PresenceBytes.Add(uint64(len(data)))
		c.onAuthorized(&f)
	case protocol.ActionConnected:
		stats.Connected.Add(1)
		stats.PresenceBytes.Add(uint64(len(data)))
	case protocol.ActionDisconnected, protocol.ActionConnectionLost:
		stats.Disconnected.Add(1)
		stats.PresenceBytes.Add(uint64(len(data)))
	case protocol.ActionPresence:
		stats.PresenceBatches.Add(1)
		stats.PresenceBytes.Add(uint64(len(data)))
	case protocol.ActionPublicMessage, protocol.ActionPrivateMessage:
		stats.Chats.Add(1)
		if hook := c.pool.cfg.OnChat; hook != nil {
			hook(c, &f, c.pool.Now())
		}
	case protocol.ActionError:
		stats.countServerError(f.Code)
		if hook := c.pool.cfg.OnOther; hook != nil {
			hook(c, &f, c.pool.Now())
		}
	default:
		if hook := c.pool.cfg.OnOther; hook != nil {
			hook(c, &f, c.pool.Now())
		}
	}
}

func (c *Client) onAuthorized(f *Frame) {
	c.mu.Lock()
	if c.state != StateUpgraded {
		c.mu.Unlock()
		return
	}
	c.state = StateAuthorized
	c.userID = f.UserID
	c.users = f.Users
	c.resumeToken, c.resumed = f.ResumeToken, f.Resumed
	c.authorizedAt = c.pool.Now()
	timer := c.timer
	c.mu.Unlock()
	timer.Stop()
	stats := &c.pool.stats
	stats.Dialing.Add(-1)
	stats.Open.Add(1)
	stats.Authorized.Add(1)
}

// onClosed is nbio's close of an upgraded connection.
func (c *Client) onClosed(err error) {
	c.mu.Lock()
	switch c.state {
	case StateUpgraded:
		c.mu.Unlock()
		if err == nil {
			err = errors.New("closed")
		}
		c.fail(fmt.Errorf("%s: %w", ErrKindClosedBeforeAuth, errClosedBeforeAuth{err}))
		return
	case StateAuthorized:
		c.state = StateClosed
		c.closeErr = err
		ours := c.closing
		c.mu.Unlock()
		stats := &c.pool.stats
		stats.Open.Add(-1)
		if ours {
			stats.Closed.Add(1)
		} else {
			stats.Dropped.Add(1)
		}
		return
	}
	c.mu.Unlock()
}

// errClosedBeforeAuth marks a close between the 101 and Authorized.
type errClosedBeforeAuth struct{ err error }

func (e errClosedBeforeAuth) Error() string { return e.err.Error() }
func (e errClosedBeforeAuth) Unwrap() error { return e.err }
