// Command natsd runs an embedded nats-server with JetStream on 127.0.0.1 for cluster
// benchmarks on a box without a nats-server binary: `go run ./bench/natsd --port 21400
// --store DIR`. It prints its pid and URL, and stops on SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	port := flag.Int("port", 4222, "port on 127.0.0.1")
	store := flag.String("store", "", "JetStream store directory (default: a new temp dir)")
	flag.Parse()
	if err := run(*port, *store); err != nil {
		log.Fatalf("natsd: %v", err)
	}
}

func run(port int, store string) error {
	if store == "" {
		dir, err := os.MkdirTemp("", "natsd-")
		if err != nil {
			return fmt.Errorf("store dir: %w", err)
		}
		store = dir
	}
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: store, NoLog: true, NoSigs: true,
	})
	if err != nil {
		return fmt.Errorf("new server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return fmt.Errorf("not ready within 10s")
	}
	fmt.Printf("pid %d url %s store %s\n", os.Getpid(), ns.ClientURL(), store)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	ns.Shutdown()
	ns.WaitForShutdown()
	return nil
}
