package loadgen

import (
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/lesismal/nbio/nbhttp"
)

// Kinds of client failure, as counted in Stats.Errors.
const (
	ErrKindRefused          = "refused"            // nothing listens, or the accept queue is full
	ErrKindAddrNotAvail     = "addr-unavailable"   // out of local ports for a source address
	ErrKindTooManyFiles     = "too-many-files"     // this process hit its open-file limit
	ErrKindTimeout          = "timeout"            // no Authorized within DialTimeout
	ErrKindReset            = "reset"              // the server reset the connection
	ErrKindBadHandshake     = "bad-handshake"      // an answer other than a valid 101
	ErrKindClosedBeforeAuth = "closed-before-auth" // upgraded, then closed before Authorized
	ErrKindBadFrame         = "bad-frame"          // a frame that is not one JSON object
	ErrKindWrite            = "write"              // a send failed
	ErrKindOther            = "other"
)

// ErrTimeout is the failure of a client that was not Authorized within DialTimeout.
var ErrTimeout = errors.New("no Authorized within the dial timeout")

// ErrBadHandshake is an upgrade answer that is not a valid 101.
var ErrBadHandshake = errors.New("bad WebSocket handshake")

// errorKind sorts an error into one of the ErrKind* buckets.
func errorKind(err error) string {
	var errno syscall.Errno
	var beforeAuth errClosedBeforeAuth
	switch {
	case errors.As(err, &beforeAuth):
		return ErrKindClosedBeforeAuth
	case errors.Is(err, ErrTimeout), errors.Is(err, nbhttp.ErrClientTimeout), errors.Is(err, os.ErrDeadlineExceeded):
		return ErrKindTimeout
	case errors.Is(err, ErrBadHandshake):
		return ErrKindBadHandshake
	case errors.As(err, &errno):
		switch errno {
		case syscall.ECONNREFUSED:
			return ErrKindRefused
		case syscall.EADDRNOTAVAIL, syscall.EADDRINUSE:
			return ErrKindAddrNotAvail
		case syscall.EMFILE, syscall.ENFILE:
			return ErrKindTooManyFiles
		case syscall.ECONNRESET, syscall.EPIPE:
			return ErrKindReset
		case syscall.ETIMEDOUT:
			return ErrKindTimeout
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrKindTimeout
	}
	return ErrKindOther
}
