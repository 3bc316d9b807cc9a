package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/urfave/cli/v2"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "print the running server's figures (from its /status)",
		Flags: append(processFlags(), &cli.BoolFlag{Name: "json", Usage: "print the raw JSON"}),
		Action: func(c *cli.Context) error {
			url := "http://" + dialAddr(c.String("listen")) + "/status"
			client := http.Client{Timeout: 5 * time.Second}
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", url, err)
			}
			if token := c.String("status-token"); token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("%w: %v", errNotRunning, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return fmt.Errorf("%s: 401: give the server's --status-token (or CHATD_STATUS_TOKEN)", url)
			}
			var s engine.Status
			if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
				return fmt.Errorf("read %s: %w", url, err)
			}
			out := c.App.Writer
			if c.Bool("json") {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			pid, _ := readPid(c.String("pid-file"))
			fmt.Fprintf(out, "chatd %s  pid %d  up %s\n", s.Version, pid, (time.Duration(s.UptimeSeconds) * time.Second).String())
			fmt.Fprintf(out, "connections  %d (accepted %d, handshake errors %d)\n", s.Connections, s.Accepted, s.HandshakeErrs)
			fmt.Fprintf(out, "messages     in %d, frames out %d\n", s.MessagesIn, s.FramesOut)
			fmt.Fprintf(out, "memory       heap %.1f MiB, sys %.1f MiB, goroutines %d\n", mib(s.HeapInuseBytes), mib(s.SysBytes), s.Goroutines)
			for _, k := range slices.Sorted(maps.Keys(s.Chat)) {
				fmt.Fprintf(out, "chat         %s %v\n", k, s.Chat[k])
			}
			for _, k := range slices.Sorted(maps.Keys(s.Closes)) {
				fmt.Fprintf(out, "closes       %s %d\n", k, s.Closes[k])
			}
			return nil
		},
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
