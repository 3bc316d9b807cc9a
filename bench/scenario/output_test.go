package scenario

import (
	"slices"
	"testing"
)

// TestRowOmitsWhatTheScenarioDoesNotMeasure: a figure a scenario does not measure is
// not printed (as a 0 that would read as measured); the ones it measures are, zeros
// included.
func TestRowOmitsWhatTheScenarioDoesNotMeasure(t *testing.T) {
	timed := Percentiles{Count: 10, P50: 1}
	proc := &ServerFigures{PID: 42, CPUSeconds: 1, RSSBytes: 1 << 20}
	procAndStatus := &ServerFigures{PID: 42, CPUSeconds: 1, Goroutines: 9}
	tests := []struct {
		name       string
		r          Result
		has, lacks []string
	}{
		{"connect", Result{Scenario: "connect", Connect: &ConnectFigures{Attempted: 5, Authorized: 5, Latency: timed}, Server: proc},
			[]string{"connects_per_sec", "connect_p99_ms", "presence_frames", "mem_per_conn_bytes", "server_cpu_sec"},
			[]string{"senders", "rate", "deliveries_per_cpu_sec", "server_goroutines", "server_dropped"}},
		{"idle", Result{Scenario: "idle", Settings: Settings{Rate: 100}, Connect: &ConnectFigures{Attempted: 5, Authorized: 5}, Server: proc},
			[]string{"attempted", "authorized", "mem_per_conn_bytes", "server_rss_bytes", "server_fds"},
			[]string{"senders", "rate", "connects_per_sec", "connect_p50_ms", "presence_frames", "deliveries_per_cpu_sec", "acked"}},
		{"broadcast", Result{Scenario: "broadcast", Connect: &ConnectFigures{}, Messages: &MessageFigures{Latency: timed}, Server: procAndStatus},
			[]string{"senders", "rate", "loss", "duplicate", "p99_ms", "deliveries_per_cpu_sec", "server_goroutines", "server_dropped"},
			[]string{"acked", "connects_per_sec"}},
		{"history", Result{Scenario: "history", Messages: &MessageFigures{Latency: timed}},
			[]string{"acked", "p50_ms"}, []string{"server_cpu_sec"}},
		{"nothing arrived", Result{Scenario: "broadcast", Messages: &MessageFigures{Sent: 3}},
			[]string{"sent", "received", "loss"}, []string{"p50_ms", "max_ms"}},
		{"status only", Result{Scenario: "private", Messages: &MessageFigures{}, Server: &ServerFigures{Goroutines: 7}},
			[]string{"server_goroutines", "server_dropped"}, []string{"server_cpu_sec", "server_rss_bytes", "mem_per_conn_bytes", "server_fds"}},
		{"churn", Result{Scenario: "churn", Connect: &ConnectFigures{Attempted: 10}, Server: proc, Churn: &ChurnFigures{Cycles: 2}},
			[]string{"cycles", "base_fds", "returned_to_base", "server_rss_bytes"},
			[]string{"mem_per_conn_bytes", "rate", "senders", "connect_p50_ms", "deliveries_per_cpu_sec"}},
	}
	for _, tt := range tests {
		names, values := Row(&tt.r)
		if len(names) != len(values) {
			t.Fatalf("%s: %d names, %d values", tt.name, len(names), len(values))
		}
		for _, n := range tt.has {
			if !slices.Contains(names, n) {
				t.Errorf("%s: %s is missing from %v", tt.name, n, names)
			}
		}
		for _, n := range tt.lacks {
			if slices.Contains(names, n) {
				t.Errorf("%s: %s is printed although not measured", tt.name, n)
			}
		}
	}
}
