package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/chatd/chatd/bench/loadgen"
	"github.com/chatd/chatd/bench/progress"
	"github.com/chatd/chatd/bench/scenario"
	"github.com/urfave/cli/v2"
)

func run(c *cli.Context, name string) error {
	ips, err := loadgen.ParseSourceIPs(c.StringSlice("source-ips"))
	if err != nil {
		return err
	}
	o := scenario.Options{
		Scenario:     name,
		URLs:         nodeURLs(c.StringSlice("url")),
		Target:       c.String("target"),
		Clients:      c.Int("clients"),
		Senders:      c.Int("senders"),
		Rate:         c.Float64("rate"),
		RampRate:     c.Float64("ramp-rate"),
		Duration:     c.Duration("duration"),
		Warmup:       c.Duration("warmup"),
		PayloadBytes: c.Int("payload-bytes"),
		Cycles:       c.Int("cycles"),
		SlowClients:  c.Int("slow-clients"),
		PingFlooders: c.Int("ping-flooders"),
		SourceIPs:    ips,
		ServerPID:    firstOf(c.IntSlice("server-pid")),
		OtherPIDs:    restOf(c.IntSlice("server-pid")),
		StatusURL:    c.String("status-url"),
		DialTimeout:  c.Duration("dial-timeout"),
		Presence:     c.String("presence"),
		Pollers:      c.Int("pollers"),
		KillPID:      c.Int("kill-pid"),
		Progress:     progress.New(c.App.ErrWriter),
		Logger:       slog.New(slog.NewTextHandler(c.App.ErrWriter, nil)),
	}
	if u := c.StringSlice("sender-url"); len(u) > 0 {
		o.SenderURLs = nodeURLs(u)
	}
	if name == "rooms" {
		o.Rooms = c.Int("rooms")
	}
	if path := c.String("cpu-profile"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := scenario.Run(c.Context, o)
	if res == nil {
		return err
	}
	switch {
	case c.Bool("json"):
		if werr := writeJSON(c.App.Writer, res); werr != nil {
			return werr
		}
	case c.Bool("csv"):
		if werr := scenario.WriteCSV(c.App.Writer, res); werr != nil {
			return werr
		}
	default:
		if werr := scenario.WriteText(c.App.Writer, res); werr != nil {
			return werr
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// nodeURLs are --url's values without empty ones (a trailing comma, an empty
// CHATBENCH_URL), or the default when none is left.
func nodeURLs(given []string) []string {
	var urls []string
	for _, u := range given {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		return []string{DefaultURL}
	}
	return urls
}

func writeJSON(w io.Writer, res *scenario.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// firstOf and restOf split the --server-pid list: the first is the server's, the
// others are summed with it.
func firstOf(pids []int) int {
	if len(pids) == 0 {
		return 0
	}
	return pids[0]
}

func restOf(pids []int) []int {
	if len(pids) < 2 {
		return nil
	}
	return pids[1:]
}
