// Package report turns the benchmark suite's raw scenario results into the
// comparison between chatd and its peers: medians over runs, ratios
// (chatd / peer), the targets, a text table and a self-contained HTML
// page with inline SVG charts.
package report

import (
	"sort"
	"time"

	"github.com/chatd/chatd/bench/scenario"
)

// Baseline is the target every other target is compared with.
const Baseline = "chatd"

// Entry is one scenario run against one target: Key names the scenario in the
// suite ("connect", "idle", "broadcast", "private", "churn").
type Entry struct {
	Run    int             `json:"run"`
	Key    string          `json:"key"`
	Result scenario.Result `json:"result"`
}

// SweepStep is one rate tried by the rate sweep.
type SweepStep struct {
	Rate   float64 `json:"rate"` // offered messages/s
	P99    float64 `json:"p99"`  // ms
	Loss   int64   `json:"loss"`
	PerSec float64 `json:"perSec"`
	OK     bool    `json:"ok"` // no loss and p99 within the limit
}

// Sweep is one run's rate sweep against one target: MaxRate is the highest
// rate that passed (0 if none did).
type Sweep struct {
	Run     int         `json:"run"`
	Target  string      `json:"target"`
	Clients int         `json:"clients"`
	LimitMS float64     `json:"limitMs"`
	MaxRate float64     `json:"maxRate"`
	Steps   []SweepStep `json:"steps"`
}

// Suite is everything one suite invocation measured; it is results.json.
type Suite struct {
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Host     map[string]string `json:"host,omitempty"` // cpus, kernel, go version
	Runs     int               `json:"runs"`
	Targets  []string          `json:"targets"`
	Entries  []Entry           `json:"entries"`
	Sweeps   []Sweep           `json:"sweeps,omitempty"`
	Notes    []string          `json:"notes,omitempty"`
}

// Median of the values; 0 for none. Even counts average the middle two.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Ratio is a / b, and ok false when it has no meaning (b is 0).
func Ratio(a, b float64) (float64, bool) {
	if b == 0 {
		return 0, false
	}
	return a / b, true
}

// results returns the entries of one target and scenario key, in run order.
func (s *Suite) results(target, key string) []scenario.Result {
	var out []scenario.Result
	for _, e := range s.Entries {
		if e.Result.Target == target && e.Key == key {
			out = append(out, e.Result)
		}
	}
	return out
}

// First returns one result of a target and key (the first run's), for charts.
func (s *Suite) First(target, key string) (scenario.Result, bool) {
	r := s.results(target, key)
	if len(r) == 0 {
		return scenario.Result{}, false
	}
	return r[0], true
}

// MaxRates returns the sweeps' max rates of one target, in run order.
func (s *Suite) MaxRates(target string) []float64 {
	var out []float64
	for _, sw := range s.Sweeps {
		if sw.Target == target {
			out = append(out, sw.MaxRate)
		}
	}
	return out
}
