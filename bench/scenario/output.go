package scenario

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// Row flattens a result into named columns for CSV and text output. A figure the
// scenario does not measure is left out rather than printed as 0, which would read as
// a measured zero: connect latencies outside the connect scenario, senders and rate
// where nothing is sent, acks outside history, /proc figures without --server-pid,
// /status figures without --status-url.
func Row(r *Result) ([]string, []string) {
	var names, values []string
	add := func(name string, v any) {
		names = append(names, name)
		switch x := v.(type) {
		case float64:
			values = append(values, strconv.FormatFloat(x, 'f', 3, 64))
		default:
			values = append(values, fmt.Sprint(x))
		}
	}
	add("scenario", r.Scenario)
	add("target", r.Target)
	add("clients", r.Settings.Clients)
	if r.Messages != nil {
		add("senders", r.Settings.Senders)
	}
	if r.Messages != nil || r.Scenario == "connect" && r.Settings.Rate > 0 {
		add("rate", r.Settings.Rate)
	}
	if c := r.Connect; c != nil {
		addConnect(add, c)
	}
	if m := r.Messages; m != nil {
		addMessages(add, m, r.Scenario == "history")
	}
	if s := r.Server; s != nil {
		addServer(add, s, r.Messages != nil, r.Churn == nil)
	}
	if c := r.Churn; c != nil {
		add("cycles", c.Cycles)
		add("base_fds", c.Baseline.FDs)
		add("after_fds", c.After.FDs)
		add("base_goroutines", c.Baseline.Goroutines)
		add("after_goroutines", c.After.Goroutines)
		add("base_rss", c.Baseline.RSSBytes)
		add("after_rss", c.After.RSSBytes)
		add("returned_to_base", c.ReturnedToBase)
	}
	if f := r.Failover; f != nil {
		add("failover_clients", f.Clients)
		add("resumed", f.Resumed)
		add("new_identity", f.NewIdentity)
		add("failed", f.Failed)
		add("not_closed", f.NotClosed)
		add("reconnect_attempts", f.Attempts)
		add("kill_to_last_close_ms", f.KillToLastCloseMs)
		add("kill_to_last_resumed_ms", f.KillToLastResumedMs)
		add("resume_p50_ms", f.Resume.P50)
		add("resume_p99_ms", f.Resume.P99)
	}
	if sl := r.Slow; sl != nil {
		add("slow_clients", sl.Clients)
		add("slow_cut", sl.Cut)
		add("slow_base_rss", sl.BaseRSSBytes)
		add("slow_warm_rss", sl.WarmRSSBytes)
		add("slow_peak_rss", sl.PeakRSSBytes)
		add("slow_after_rss", sl.AfterRSSBytes)
		add("slow_last_cut_s", sl.LastCutSeconds)
		add("ping_flooders", sl.PingFlooders)
		add("ping_flooders_cut", sl.FloodersCut)
	}
	return names, values
}

type addFunc func(name string, v any)

// addConnect: the rate, latencies and presence traffic only when the connect ramp was
// timed (the connect scenario); the other scenarios count attempts and logins only.
func addConnect(add addFunc, c *ConnectFigures) {
	add("attempted", c.Attempted)
	add("authorized", c.Authorized)
	if c.Latency.Count == 0 {
		return
	}
	add("connects_per_sec", c.PerSec)
	add("connect_p50_ms", c.Latency.P50)
	add("connect_p99_ms", c.Latency.P99)
	add("connect_max_ms", c.Latency.Max)
	add("presence_frames", c.PresenceFrames)
	add("presence_bytes", c.PresenceBytes)
}

func addMessages(add addFunc, m *MessageFigures, acks bool) {
	add("sent", m.Sent)
	add("expected", m.Expected)
	add("received", m.Received)
	add("loss", m.Loss)
	add("duplicate", m.Duplicate)
	if acks {
		add("acked", m.Acked)
	}
	add("per_sec", m.PerSec)
	if m.Latency.Count == 0 {
		return
	}
	add("p50_ms", m.Latency.P50)
	add("p90_ms", m.Latency.P90)
	add("p99_ms", m.Latency.P99)
	add("p999_ms", m.Latency.P999)
	add("max_ms", m.Latency.Max)
}

// addServer: /proc figures need --server-pid (PID), /status ones --status-url (a Go
// server always has a goroutine, so 0 goroutines is no /status); deliveries per CPU
// second need deliveries, memory per connection connections held at the end.
func addServer(add addFunc, s *ServerFigures, deliveries, connsAtEnd bool) {
	if s.PID > 0 {
		add("server_cpu_sec", s.CPUSeconds)
		add("server_rss_bytes", s.RSSBytes)
		add("server_baseline_rss_bytes", s.BaselineRSSBytes)
		if connsAtEnd {
			add("mem_per_conn_bytes", s.MemPerConnBytes)
		}
		if deliveries {
			add("deliveries_per_cpu_sec", s.DeliveriesPerCPUSecond)
		}
		add("server_fds", s.FDs)
	}
	if s.Goroutines > 0 {
		add("server_goroutines", s.Goroutines)
		add("server_dropped", s.Dropped)
	}
}

// WriteCSV writes a header and one row.
func WriteCSV(w io.Writer, r *Result) error {
	names, values := Row(r)
	cw := csv.NewWriter(w)
	_ = cw.Write(names)
	_ = cw.Write(values)
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// WriteText writes "name: value" lines, then errors and notes.
func WriteText(w io.Writer, r *Result) error {
	names, values := Row(r)
	for i := range names {
		if _, err := fmt.Fprintf(w, "%-26s %s\n", names[i]+":", values[i]); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "error %-20s %d\n", k+":", r.Errors[k])
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}
