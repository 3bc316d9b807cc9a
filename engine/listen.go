package engine

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenTCP binds addr for Start. With --reuse-port the socket gets SO_REUSEPORT
// before bind, so several chatd processes (one per core, each a cluster node) share
// one port and the kernel spreads new connections over them; every one of them must
// set it, so a process without the flag still finds the port taken.
func (c Config) listenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{}
	if c.ReusePort {
		lc.Control = reusePort
	}
	return lc.Listen(context.Background(), "tcp", addr)
}

func reusePort(_, _ string, raw syscall.RawConn) error {
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("--reuse-port: SO_REUSEPORT: %w", serr)
	}
	return nil
}
