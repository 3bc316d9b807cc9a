// Package natstest starts a real, embedded nats-server with JetStream for tests: on
// 127.0.0.1, a random port, its store in the test's temp dir, stopped with the test.
// It is the broker the cluster's tests run against; nothing here is a mock.
package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// readyTimeout bounds how long a starting server may take to accept clients.
const readyTimeout = 10 * time.Second

// Server is one embedded nats-server with JetStream enabled.
type Server struct {
	*server.Server
	opts *server.Options
}

// Start starts a JetStream-enabled nats-server on 127.0.0.1 at a random port, with
// file storage in a directory of t's, and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	opts := &server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}
	s := &Server{opts: opts}
	s.start(t)
	return s
}

// start runs a server on s.opts and registers its stop with t.
func (s *Server) start(t testing.TB) {
	t.Helper()
	ns, err := server.NewServer(s.opts)
	if err != nil {
		t.Fatalf("natstest: new server: %v", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		t.Fatalf("natstest: server not ready within %v", readyTimeout)
	}
	s.Server = ns
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
}

// Restart stops the server and starts it again on the same port and store, as a
// nats-server restart on the same disk would: what JetStream acknowledged is there.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.Resume(t)
}

// Stop shuts the server down, as an outage of NATS would; Resume starts it again.
func (s *Server) Stop() {
	s.opts.Port = s.Addr().(*net.TCPAddr).Port // the clients' URLs stay valid
	s.Shutdown()
	s.WaitForShutdown()
}

// Resume starts a stopped server again on its port and store.
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	s.start(t)
}

// URL is the server's client URL (nats://127.0.0.1:PORT).
func (s *Server) URL() string { return s.ClientURL() }

// Connect opens a client connection to s, closed when t ends.
func (s *Server) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.URL(), nats.Name(t.Name()))
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", s.URL(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}
