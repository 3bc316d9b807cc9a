package main

import (
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/urfave/cli/v2"
)

// DefaultURL is --url's default: chatd's own port on this machine.
const DefaultURL = "ws://127.0.0.1" + engine.DefaultListen + "/"

func flags(scenario string) []cli.Flag {
	clients, senders, rate := 100, 0, 100.0
	switch scenario {
	case "connect":
		clients, rate = 1000, 0
	case "idle":
		clients = 1000
	case "broadcast":
		clients, senders = 1000, 10
	case "private", "rooms":
		clients, senders = 1000, 100
	case "history":
		clients, senders, rate = 100, 100, 1000
	case "churn":
		clients = 500
	case "slow":
		clients, senders = 10, 10
	case "failover":
		clients = 1000
	}
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "url", Value: cli.NewStringSlice(DefaultURL), Usage: "server `URL` (ws:// only; default: chatd's own port); several (comma-separated or repeated): the nodes of a cluster, clients spread round robin over them", EnvVars: []string{"CHATBENCH_URL"}},
		&cli.StringSliceFlag{Name: "sender-url", Usage: "broadcast: the senders dial these `URL`s and the receivers --url, and only the receivers' deliveries count (cross-node latency)"},
		&cli.IntFlag{Name: "kill-pid", Usage: "failover: `PID` of the node at the first --url, sent SIGKILL once every client is logged in"},
		&cli.IntFlag{Name: "clients", Value: clients, Usage: "simulated clients"},
		&cli.IntFlag{Name: "senders", Value: senders, Usage: "clients that send (0: all)"},
		&cli.Float64Flag{Name: "rate", Value: rate, Usage: "messages/s, all senders together (connect: connects/s, 0 = as fast as possible)"},
		&cli.Float64Flag{Name: "ramp-rate", Value: 0, Usage: "connects/s while ramping the other scenarios (0 = as fast as possible)"},
		&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "measured time (connect: longest settle after the ramp; failover: longest wait for the resumes after the kill)"},
		&cli.DurationFlag{Name: "warmup", Value: 2 * time.Second, Usage: "sending before the measurement starts"},
		&cli.IntFlag{Name: "payload-bytes", Value: 64, Usage: "text length of each message"},
		&cli.IntFlag{Name: "rooms", Value: 10, Usage: "rooms scenario: rooms to spread the clients over"},
		&cli.IntFlag{Name: "cycles", Value: 5, Usage: "churn: connect/close cycles"},
		&cli.IntFlag{Name: "slow-clients", Value: 500, Usage: "slow: clients in the chat that never read, besides --clients (0: the same run without them, to compare with)"},
		&cli.IntFlag{Name: "ping-flooders", Usage: "slow: clients that send RFC 6455 pings as fast as they can and never read (--max-pings-per-second cuts them with 1008)"},
		&cli.StringFlag{Name: "presence", Value: "full", Usage: "full: the seed's presence (every login to everyone, the whole list per newcomer); compact: log in with presence=compact"},
		&cli.StringSliceFlag{Name: "source-ips", Usage: "local 127.x.y.z addresses to dial from, round robin (more than ~28k clients)"},
		&cli.DurationFlag{Name: "dial-timeout", Value: 10 * time.Second, Usage: "TCP connect to Authorized, per client"},
		&cli.IntSliceFlag{Name: "server-pid", Usage: "server `PID`: CPU, RSS and fds from /proc; repeated or comma-separated, the processes' figures are summed (a cluster's nodes and its nats-server)"},
		&cli.StringFlag{Name: "status-url", Usage: "chatd's /status `URL` (goroutines, slow-consumer closes)"},
		&cli.StringFlag{Name: "target", Value: "chatd", Usage: "label of the server under test, copied into the result"},
		&cli.IntFlag{Name: "pollers", Usage: "nbio poller goroutines of the simulated clients (0: one per CPU)"},
		&cli.StringFlag{Name: "cpu-profile", Usage: "write chatbench's own CPU profile to `FILE` (to check the client is not the bottleneck)"},
		&cli.BoolFlag{Name: "json", Usage: "print the result as one JSON object on stdout"},
		&cli.BoolFlag{Name: "csv", Usage: "print the result as CSV (header and one row) on stdout"},
	}
}
