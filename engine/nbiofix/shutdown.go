package nbiofix

import (
	"syscall"

	"github.com/lesismal/nbio"
)

// Shutdown closes c from any goroutine without racing its poller: it shuts the
// socket down (both ways; what the kernel already holds still goes out, then a FIN)
// and leaves closing the file descriptor to the poller, which reads the end at once.
//
// nbio v1.6.12 closes the descriptor wherever Close (or a deadline's timer) runs, while
// its poller may hold an epoll event for that descriptor, collected before the close.
// The number is free at once: the listener accepts the next connection on it and
// registers it, and the stale event, a hang-up for the old socket, then closes the new
// connection with io.EOF before it sent a byte. With a goroutine closing a socket
// whose peer was hanging up too (the end of every close handshake, an HTTP response
// with "Connection: close"), one new connection in a few hundred died that way under
// churn: a login that got EOF, a POST with half its body sent.
//
// Under c's lock, "not closed" means the descriptor is still c's: nbio marks a
// connection closed under that lock before it closes the descriptor.
func Shutdown(c *nbio.Conn) {
	c.Lock()
	defer c.Unlock()
	if closed, _ := c.IsClosed(); closed {
		return
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) { _ = syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
}
