// Command gorilla is the benchmark suite's goroutine-per-connection peer: the
// chat server a Go developer would write by default with gorilla/websocket,
// following the library's chat example (one hub goroutine owns the clients;
// every client has a readPump and a writePump goroutine and a buffered send
// channel). It speaks the subset of chatd's protocol the benchmarks use: login
// by query (userName, userColor, gender), Authorized with the user list,
// Connected/Disconnected, PublicMessage to everyone, PrivateMessage to the
// recipient and the sender, and Ping every 5 s answered by Pong.
//
//	go run ./bench/peers/gorilla --listen 127.0.0.1:27801
//
// It listens on loopback only: it is a measuring peer, not a product.
package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	app := &cli.App{
		Name:  "gorilla",
		Usage: "the benchmark suite's goroutine-per-connection peer",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:0", Usage: "loopback `host:port` to listen on (port 0 picks one)"},
		},
		Action: func(c *cli.Context) error { return run(c.String("listen"), log) },
	}
	if err := app.Run(os.Args); err != nil {
		log.Error("gorilla peer", "err", err)
		os.Exit(1)
	}
}

func run(listen string, log *slog.Logger) error {
	ln, err := listenLoopback(listen)
	if err != nil {
		return err
	}
	srv := newServer(ln, log)
	// The suite reads this line to learn the address when the port was 0.
	fmt.Printf("listening %s\n", ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-sig:
		return srv.Close()
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
}

// listenLoopback refuses any address that is not a loopback one.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--listen %q: the peer listens on a loopback address only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// newServer builds the HTTP server with its hub running.
func newServer(ln net.Listener, log *slog.Logger) *http.Server {
	hub := newHub()
	go hub.run()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveWs(hub, w, r, log)
	})
	return &http.Server{Handler: mux}
}
