package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/chatd/chatd/bench/scenario"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 100}, 5},
	}
	for _, c := range cases {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 {
		t.Error("Median sorted its argument in place")
	}
}

func TestRatio(t *testing.T) {
	if r, ok := Ratio(1, 4); !ok || r != 0.25 {
		t.Errorf("Ratio(1,4) = %v, %v", r, ok)
	}
	if _, ok := Ratio(1, 0); ok {
		t.Error("Ratio by zero is defined")
	}
}

func result(target, scen string, perSec, p99, cpu, mem float64) scenario.Result {
	return scenario.Result{
		Scenario: scen, Target: target,
		Settings: scenario.Settings{Clients: 1000, Senders: 10, Rate: 100},
		Messages: &scenario.MessageFigures{PerSec: perSec, Latency: scenario.Percentiles{P50: p99 / 2, P99: p99,
			Buckets: [][2]float64{{1, 50}, {10, 40}, {100, 10}}}},
		Server: &scenario.ServerFigures{CPUSeconds: cpu, MemPerConnBytes: mem},
	}
}

// sample has three runs of chatd and gorilla, one of node, a churn and sweeps.
func sample() *Suite {
	s := &Suite{Runs: 3, Targets: []string{"chatd", "gorilla", "node"}}
	add := func(run int, key string, r scenario.Result) {
		s.Entries = append(s.Entries, Entry{Run: run, Key: key, Result: r})
	}
	for run, v := range []float64{1, 3, 2} {
		add(run, "broadcast", result("chatd", "broadcast", 100000, 4*v, 2*v, 0))
		add(run, "broadcast", result("gorilla", "broadcast", 90000, 20*v, 10*v, 0))
		add(run, "idle", result("chatd", "idle", 0, 0, 0, 1000*v))
		add(run, "idle", result("gorilla", "idle", 0, 0, 0, 20000))
		add(run, "churn", scenario.Result{Scenario: "churn", Target: "chatd", Churn: &scenario.ChurnFigures{ReturnedToBase: run != 1}})
	}
	add(0, "broadcast", result("node", "broadcast", 50000, 50, 40, 0))
	for run := range 3 {
		s.Sweeps = append(s.Sweeps,
			Sweep{Run: run, Target: "chatd", MaxRate: 800, LimitMS: 100, Clients: 1000, Steps: []SweepStep{{Rate: 100, P99: 3, OK: true}, {Rate: 800, P99: 60, OK: true}}},
			Sweep{Run: run, Target: "gorilla", MaxRate: 400, LimitMS: 100, Clients: 1000, Steps: []SweepStep{{Rate: 100, P99: 9, OK: true}, {Rate: 800, P99: 300}}})
	}
	return s
}

func row(t *testing.T, s *Suite, name string) Row {
	t.Helper()
	for _, r := range s.Table() {
		if r.Metric.Name == name {
			return r
		}
	}
	t.Fatalf("no row %q", name)
	return Row{}
}

func TestTableMediansAndRatios(t *testing.T) {
	s := sample()
	r := row(t, s, "broadcast latency p99")
	if got := r.Cells["chatd"].Median; got != 8 {
		t.Errorf("chatd p99 median = %v, want 8 (of 4, 12, 8)", got)
	}
	if got := r.Cells["gorilla"].Median; got != 40 {
		t.Errorf("gorilla p99 median = %v, want 40", got)
	}
	if got := r.Ratios["gorilla"]; got != 0.2 {
		t.Errorf("chatd/gorilla p99 = %v, want 0.2", got)
	}
	if got := r.Ratios["node"]; got != 8.0/50 {
		t.Errorf("chatd/node p99 = %v, want 0.16", got)
	}
	if _, ok := row(t, s, "idle memory per connection").Ratios["node"]; ok {
		t.Error("a ratio for node's idle memory, which was not measured")
	}
	if c := row(t, s, "churn back to baseline").Cells["chatd"]; c.Median != 2 || len(c.Runs) != 3 {
		t.Errorf("churn cell = %+v, want 2 of 3 runs", c)
	}
	if got := row(t, s, "max rate, no loss, p99 ≤ limit").Ratios["gorilla"]; got != 2 {
		t.Errorf("max rate ratio = %v, want 2", got)
	}
}

func TestGoals(t *testing.T) {
	s := sample()
	got := map[string]Goal{}
	for _, g := range s.Goals() {
		got[g.Name] = g
	}
	want := map[string]bool{ // name → met
		"idle memory per connection":            true, // median 2000 B
		"broadcast server CPU vs gorilla":       true, // 4 / 20
		"broadcast latency p99":                 true, // 8 ms
		"max rate with no loss and p99 ≤ limit": true, // 800 ≥ 400
	}
	for name, met := range want {
		g, ok := got[name]
		if !ok || !g.Known || g.Met != met {
			t.Errorf("goal %q = %+v, want known, met=%v", name, g, met)
		}
	}
	s.Entries = s.Entries[:0]
	s.Sweeps = nil
	for _, g := range s.Goals() {
		if g.Known {
			t.Errorf("goal %q known with no figures", g.Name)
		}
	}
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"chatd/gorilla", "chatd/node", "broadcast latency p99", "8 ms", "0.20×", "2/3", "MET"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	s := sample()
	s.Notes = []string{`a <script>alert(1)</script> note`}
	if err := s.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>") {
		t.Error("a note was not escaped")
	}
	for _, bad := range []string{`src="http`, `href="http`, "<link"} {
		if strings.Contains(out, bad) {
			t.Errorf("page loads something from outside: %q", bad)
		}
	}
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(out, -1)
	if len(svgs) < 5 {
		t.Fatalf("%d charts, want latency, CDF, deliveries, memory, sweep...", len(svgs))
	}
	for _, svg := range svgs {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("chart is not well-formed XML: %v\n%s", err, svg)
			}
		}
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("chart has NaN/Inf coordinates: %s", svg)
		}
	}
}

func TestSuiteJSONRoundTrip(t *testing.T) {
	s := sample()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Suite
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := row(t, &back, "broadcast latency p99").Ratios["gorilla"]; got != 0.2 {
		t.Errorf("after a JSON round trip the ratio is %v", got)
	}
}

func TestCDF(t *testing.T) {
	got := CDF([][2]float64{{1, 50}, {10, 40}, {100, 10}}, []float64{0.5, 1, 10, 1000})
	want := []float64{0, 50, 90, 100}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("CDF = %v, want %v", got, want)
		}
	}
	if got := CDF(nil, []float64{1}); got[0] != 0 {
		t.Errorf("CDF of nothing = %v", got)
	}
}

func TestFormatValue(t *testing.T) {
	cases := map[string]string{
		FormatValue(1536, "B"):         "1.5 KiB",
		FormatValue(20*1024*1024, "B"): "20.0 MiB",
		FormatValue(123456, "/s"):      "123.5k/s",
		FormatValue(2.5e6, ""):         "2.50M",
		FormatValue(8, "ms"):           "8 ms",
		FormatValue(0.1234, "ms"):      "0.123 ms",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestIdleGoalPrefersGoalSizeRun(t *testing.T) {
	s := sample()
	big := result("chatd", "idle", 0, 0, 0, 3000)
	big.Settings.Clients = GoalIdleClients
	s.Entries = append(s.Entries, Entry{Run: 0, Key: GoalIdleKey, Result: big})
	for _, g := range s.Goals() {
		if g.Name == "idle memory per connection" {
			if !g.Known || g.Met || !strings.Contains(g.Note, "15000 clients") {
				t.Errorf("idle goal = %+v, want not met from the 15000-client run", g)
			}
			return
		}
	}
	t.Fatal("no idle goal")
}

func TestMaxRateGoalNotMetWhenNothingPassed(t *testing.T) {
	s := sample()
	for i := range s.Sweeps {
		s.Sweeps[i].MaxRate = 0
	}
	for _, g := range s.Goals() {
		if g.Name == "max rate with no loss and p99 ≤ limit" && (!g.Known || g.Met) {
			t.Errorf("goal = %+v, want known and not met when no rate passed", g)
		}
	}
}
