package report

import "github.com/chatd/chatd/bench/scenario"

// Better says which direction of a metric is good, for reading the ratios.
type Better int

const (
	Higher Better = iota
	Lower
)

// Metric is one row of the comparison table.
type Metric struct {
	Name   string
	Key    string // scenario key; "sweep" reads the rate sweeps
	Unit   string
	Better Better
	// Value reads the figure off one result; false when the result lacks it.
	Value func(scenario.Result) (float64, bool)
}

func connect(f func(*scenario.ConnectFigures) float64) func(scenario.Result) (float64, bool) {
	return func(r scenario.Result) (float64, bool) {
		if r.Connect == nil {
			return 0, false
		}
		return f(r.Connect), true
	}
}

func messages(f func(*scenario.MessageFigures) float64) func(scenario.Result) (float64, bool) {
	return func(r scenario.Result) (float64, bool) {
		if r.Messages == nil {
			return 0, false
		}
		return f(r.Messages), true
	}
}

func server(f func(*scenario.ServerFigures) float64) func(scenario.Result) (float64, bool) {
	return func(r scenario.Result) (float64, bool) {
		if r.Server == nil {
			return 0, false
		}
		return f(r.Server), true
	}
}

func chatMetrics(key string) []Metric {
	return []Metric{
		{key + " deliveries/s", key, "/s", Higher, messages(func(m *scenario.MessageFigures) float64 { return m.PerSec })},
		{key + " latency p50", key, "ms", Lower, messages(func(m *scenario.MessageFigures) float64 { return m.Latency.P50 })},
		{key + " latency p99", key, "ms", Lower, messages(func(m *scenario.MessageFigures) float64 { return m.Latency.P99 })},
		{key + " loss", key, "", Lower, messages(func(m *scenario.MessageFigures) float64 { return float64(m.Loss) })},
		{key + " server CPU", key, "s", Lower, server(func(s *scenario.ServerFigures) float64 { return s.CPUSeconds })},
		{key + " deliveries per CPU-second", key, "", Higher, server(func(s *scenario.ServerFigures) float64 { return s.DeliveriesPerCPUSecond })},
	}
}

// Metrics are the table's rows, in order.
func Metrics() []Metric {
	m := []Metric{
		{"connect/s", "connect", "/s", Higher, connect(func(c *scenario.ConnectFigures) float64 { return c.PerSec })},
		{"connect latency p99", "connect", "ms", Lower, connect(func(c *scenario.ConnectFigures) float64 { return c.Latency.P99 })},
		{"idle memory per connection", "idle", "B", Lower, server(func(s *scenario.ServerFigures) float64 { return s.MemPerConnBytes })},
		{"idle memory per connection, goal size", GoalIdleKey, "B", Lower, server(func(s *scenario.ServerFigures) float64 { return s.MemPerConnBytes })},
	}
	m = append(m, chatMetrics("broadcast")...)
	m = append(m, chatMetrics("private")...)
	m = append(m, Metric{"churn back to baseline", "churn", "runs", Higher, func(r scenario.Result) (float64, bool) {
		if r.Churn == nil {
			return 0, false
		}
		if r.Churn.ReturnedToBase {
			return 1, true
		}
		return 0, true
	}})
	m = append(m, Metric{Name: "max rate, no loss, p99 ≤ limit", Key: "sweep", Unit: "msg/s", Better: Higher})
	return m
}

// Cell is one target's figure in a row: the median over its runs.
type Cell struct {
	OK     bool
	Median float64
	Runs   []float64
}

// Row is one metric across targets, with ratios baseline / target.
type Row struct {
	Metric Metric
	Cells  map[string]Cell
	Ratios map[string]float64 // by peer; absent when undefined
}

// Table computes every row for the suite's targets. Churn's cell sums its
// runs (how many returned to baseline) rather than taking a median.
func (s *Suite) Table() []Row {
	var rows []Row
	for _, m := range Metrics() {
		row := Row{Metric: m, Cells: map[string]Cell{}, Ratios: map[string]float64{}}
		for _, t := range s.Targets {
			var vals []float64
			if m.Key == "sweep" {
				vals = s.MaxRates(t)
			} else {
				for _, r := range s.results(t, m.Key) {
					if v, ok := m.Value(r); ok {
						vals = append(vals, v)
					}
				}
			}
			if len(vals) == 0 {
				continue
			}
			c := Cell{OK: true, Median: Median(vals), Runs: vals}
			if m.Key == "churn" {
				c.Median = 0
				for _, v := range vals {
					c.Median += v
				}
			}
			row.Cells[t] = c
		}
		base, ok := row.Cells[Baseline]
		for _, t := range s.Targets {
			c, has := row.Cells[t]
			if t == Baseline || !ok || !has {
				continue
			}
			if r, ok := Ratio(base.Median, c.Median); ok {
				row.Ratios[t] = r
			}
		}
		rows = append(rows, row)
	}
	return rows
}
