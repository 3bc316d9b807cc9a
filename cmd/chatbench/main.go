// Command chatbench drives thousands of simulated chatd clients from one process and
// reports one scenario's figures (see bench/scenario).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "chatbench:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:      "chatbench",
		Writer:    os.Stdout,
		ErrWriter: os.Stderr,
		Usage:     "load-test chatd (or a peer speaking its protocol) with simulated clients",
		Commands: []*cli.Command{
			command("connect", "open --clients at --rate connects/s into one chat; connects/s, connect→Authorized latency, presence cost"),
			command("idle", "hold --clients once the ramp settled; server memory per connection"),
			command("broadcast", "--clients in one chat, --senders sending --rate msg/s in total; deliveries/s, latency, loss, server CPU"),
			command("private", "pairs of clients; --senders write private messages to their partner at --rate in total"),
			command("churn", "connect and close --clients for --cycles; does the server return to its baseline?"),
			command("rooms", "--clients spread over --rooms rooms; senders write to their room"),
			command("slow", "broadcast with --slow-clients more clients that never read; the active clients' latency, the server's peak memory and its memory 5 s after"),
			command("history", "each sender in its own room sends with clientMsgId; durable messages/s (Sent answers), send→Sent latency"),
			command("failover", "--clients opt-in clients on the first --url; SIGKILL to --kill-pid, each resumes on the other --urls; kill→last resumed, resumed/new identity/failed"),
		},
	}
}

func command(name, usage string) *cli.Command {
	return &cli.Command{Name: name, Usage: usage, Flags: flags(name), Action: func(c *cli.Context) error {
		return run(c, name)
	}}
}
