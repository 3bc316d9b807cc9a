package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/urfave/cli/v2"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "print the running server's figures (from its /status), finding it through --pid-file (or at --listen if given)",
		Flags: append(processFlags(), &cli.BoolFlag{Name: "json", Usage: "print the raw JSON"}),
		Action: func(c *cli.Context) error {
			addr, useTLS, pid, err := findServer(c)
			if err != nil {
				return err
			}
			s, err := fetchOwnStatus(addr, useTLS, c.String("status-token"), pid)
			if err != nil {
				return fmt.Errorf("%w: %v", errNotRunning, err)
			}
			out := c.App.Writer
			if c.Bool("json") {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			if pid != 0 && s.Pid != pid {
				fmt.Fprintf(out, "warning: pid %d answers at %s, but --pid-file %s names pid %d\n", s.Pid, addr, c.String("pid-file"), pid)
			}
			printStatus(out, s)
			return nil
		},
	}
}

// reusePortTries is how many new connections status tries for the pid it wants:
// with --reuse-port the kernel hands each to any of the processes on the port.
const reusePortTries = 64

// fetchOwnStatus is fetchStatus from the server with pid (0: any), asked again on new
// connections while another process sharing the port (--reuse-port) answers; the
// last answer if pid never does.
func fetchOwnStatus(addr string, useTLS bool, token string, pid int) (engine.Status, error) {
	var s engine.Status
	var err error
	for range reusePortTries {
		if s, err = fetchStatus(addr, useTLS, token, 5*time.Second); err != nil || pid == 0 || s.Pid == pid {
			break
		}
	}
	return s, err
}

// findServer is where the server to ask is: at --listen when it is given, else
// where the server holding --pid-file said it listens (its run file). pid is the
// pid file's, 0 when it was not read.
func findServer(c *cli.Context) (addr string, useTLS bool, pid int, err error) {
	pidFile := c.String("pid-file")
	info, _ := readRunInfo(argsPath(pidFile))
	if c.IsSet("listen") {
		useTLS = info != nil && info.TLS && dialAddr(info.Listen) == dialAddr(c.String("listen"))
		return dialAddr(c.String("listen")), useTLS, 0, nil
	}
	if pid, err = runningServer(pidFile); err != nil {
		return "", false, 0, err
	}
	if info == nil {
		return dialAddr(c.String("listen")), false, pid, nil
	}
	return dialAddr(info.Listen), info.TLS, pid, nil
}

// printStatus prints what an operator looks for first (who is on, where it listens,
// since when, how connections ended), then the rest.
func printStatus(out io.Writer, s engine.Status) {
	chat := maps.Clone(s.Chat)
	if users, ok := chat["users"]; ok {
		fmt.Fprintf(out, "users        %v online, %v rooms\n", users, chat["rooms"])
		delete(chat, "users")
		delete(chat, "rooms")
	} else {
		fmt.Fprintf(out, "users        unknown (no chat figures: an echo server, or the owner did not answer in time)\n")
	}
	fmt.Fprintf(out, "connections  %d (accepted %d, handshake errors %d)\n", s.Connections, s.Accepted, s.HandshakeErrs)
	fmt.Fprintf(out, "listen       %s (pid %d)\n", s.Listen, s.Pid)
	dataDir := s.DataDir
	if dataDir == "" {
		dataDir = "none (no history is kept)"
	}
	fmt.Fprintf(out, "data dir     %s\n", dataDir)
	fmt.Fprintf(out, "uptime       %s (chatd %s)\n", (time.Duration(s.UptimeSeconds) * time.Second).String(), s.Version)
	if len(s.Closes) == 0 {
		fmt.Fprintf(out, "closes       none yet\n")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Closes)) {
		fmt.Fprintf(out, "closes       %s %d\n", k, s.Closes[k])
	}
	fmt.Fprintf(out, "messages     in %d, frames out %d\n", s.MessagesIn, s.FramesOut)
	fmt.Fprintf(out, "memory       heap %.1f MiB, sys %.1f MiB, goroutines %d\n", mib(s.HeapInuseBytes), mib(s.SysBytes), s.Goroutines)
	for _, k := range slices.Sorted(maps.Keys(chat)) {
		fmt.Fprintf(out, "chat         %s %v\n", k, chat[k])
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
