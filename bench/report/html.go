package report

import (
	"fmt"
	"html/template"
	"io"
	"sort"

	"github.com/chatd/chatd/bench/scenario"
)

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>chatd benchmark {{.Started}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.met{color:#1a7f37;font-weight:bold}.no{color:#c0392b;font-weight:bold}
.charts svg{margin:1em 1em 0 0;border:1px solid #eee}pre{background:#f6f6f6;padding:1em;overflow:auto}
</style></head><body>
<h1>chatd vs peers</h1>
<p>Started {{.Started}}, finished {{.Finished}}; medians of {{.Runs}} run(s); ratios are chatd / peer. {{range $k, $v := .Host}}{{$k}}: {{$v}}. {{end}}</p>
<h2>Goals</h2>
<table><tr><th>goal</th><th>want</th><th>got</th><th>status</th><th>measured at</th></tr>
{{range .Goals}}<tr><td>{{.Name}}</td><td>{{.Want}}</td><td>{{if .Got}}{{.Got}}{{else}}–{{end}}</td>
<td>{{if not .Known}}missing{{else if .Met}}<span class="met">met</span>{{else}}<span class="no">not met</span>{{end}}</td><td>{{.Note}}</td></tr>
{{end}}</table>
<h2>Comparison</h2>
<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<h2>Charts</h2>
<div class="charts">{{range .Charts}}{{.}}{{end}}</div>
<h2>Settings</h2>
<table><tr><th>scenario</th><th>clients</th><th>senders</th><th>rate</th><th>duration s</th><th>warmup s</th><th>payload B</th></tr>
{{range .Settings}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .Notes}}<h2>Notes</h2><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p>Raw figures: results.json next to this file.</p>
</body></html>
`))

type pageData struct {
	Started, Finished string
	Runs              int
	Host              map[string]string
	Goals             []Goal
	Head              []string
	Rows              [][]string
	Charts            []template.HTML
	Settings          [][]string
	Notes             []string
}

// WriteHTML writes a self-contained page: tables and inline SVG charts.
func (s *Suite) WriteHTML(w io.Writer) error {
	d := pageData{
		Started:  s.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		Finished: s.Finished.UTC().Format("2006-01-02 15:04:05 UTC"),
		Runs:     s.Runs, Host: s.Host, Goals: s.Goals(),
		Head: append([]string{"metric"}, s.Targets...),
	}
	for _, p := range s.peers() {
		d.Head = append(d.Head, Baseline+"/"+p)
	}
	for _, r := range s.Table() {
		row := []string{r.Metric.Name}
		for _, t := range s.Targets {
			row = append(row, s.cellText(r, t))
		}
		for _, p := range s.peers() {
			v, ok := r.Ratios[p]
			row = append(row, FormatRatio(v, ok))
		}
		d.Rows = append(d.Rows, row)
	}
	for _, c := range s.charts() {
		d.Charts = append(d.Charts, template.HTML(c)) // built by svg.go, every label escaped
	}
	d.Settings = s.settingsRows()
	d.Notes = append(d.Notes, s.Notes...)
	for _, e := range s.Entries {
		for _, n := range e.Result.Notes {
			d.Notes = append(d.Notes, fmt.Sprintf("%s %s run %d: %s", e.Result.Target, e.Key, e.Run, n))
		}
	}
	if err := page.Execute(w, d); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

func (s *Suite) settingsRows() [][]string {
	seen := map[string]bool{}
	var rows [][]string
	for _, e := range s.Entries {
		if seen[e.Key] {
			continue
		}
		seen[e.Key] = true
		st := e.Result.Settings
		rows = append(rows, []string{e.Key, fmt.Sprint(st.Clients), fmt.Sprint(st.Senders), fmt.Sprint(st.Rate),
			fmt.Sprint(st.DurationSec), fmt.Sprint(st.WarmupSec), fmt.Sprint(st.PayloadBytes)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	return rows
}

func percentiles(p scenario.Percentiles) []float64 {
	return []float64{p.P50, p.P90, p.P99, p.P999, p.Max}
}

// charts builds the page's SVGs from the medians and the first run's
// distributions.
func (s *Suite) charts() []string {
	var out []string
	pLabels := []string{"p50", "p90", "p99", "p99.9", "max"}
	pXs := []float64{50, 90, 99, 99.9, 100}
	for _, key := range []string{"broadcast", "private", "connect"} {
		var series []Series
		for _, t := range s.Targets {
			r, ok := s.First(t, key)
			switch {
			case !ok:
			case key == "connect" && r.Connect != nil:
				series = append(series, Series{t, percentiles(r.Connect.Latency)})
			case key != "connect" && r.Messages != nil:
				series = append(series, Series{t, percentiles(r.Messages.Latency)})
			}
		}
		if len(series) > 0 {
			out = append(out, LineChart(key+" latency distribution (run 1)", "ms", pXs, pLabels, series, true))
		}
	}
	if c := s.cdfChart("broadcast"); c != "" {
		out = append(out, c)
	}
	rows := map[string]Row{}
	for _, r := range s.Table() {
		rows[r.Metric.Name] = r
	}
	bars := func(title, unit string, names ...string) {
		var series []Series
		for _, t := range s.Targets {
			sr := Series{Name: t}
			any := false
			for _, n := range names {
				c, ok := rows[n].Cells[t]
				sr.Values = append(sr.Values, c.Median)
				any = any || ok
			}
			if any {
				series = append(series, sr)
			}
		}
		if len(series) > 0 {
			out = append(out, BarChart(title, unit, names, series))
		}
	}
	bars("deliveries/s (median)", "/s", "broadcast deliveries/s", "private deliveries/s")
	bars("deliveries per server CPU-second (median)", "", "broadcast deliveries per CPU-second", "private deliveries per CPU-second")
	bars("server memory per idle connection (median)", "B", "idle memory per connection")
	bars("connects/s (median)", "/s", "connect/s")
	if c := s.sweepChart(); c != "" {
		out = append(out, c)
	}
	return out
}

// cdfChart plots the share of deliveries at or under each bucket bound.
func (s *Suite) cdfChart(key string) string {
	bounds := map[float64]bool{}
	for _, t := range s.Targets {
		if r, ok := s.First(t, key); ok && r.Messages != nil {
			for _, b := range r.Messages.Latency.Buckets {
				bounds[b[0]] = true
			}
		}
	}
	if len(bounds) < 2 {
		return ""
	}
	xs := make([]float64, 0, len(bounds))
	for b := range bounds {
		xs = append(xs, b)
	}
	sort.Float64s(xs)
	labels := make([]string, len(xs))
	for i, x := range xs {
		labels[i] = FormatValue(x, "")
	}
	var series []Series
	for _, t := range s.Targets {
		r, ok := s.First(t, key)
		if !ok || r.Messages == nil || len(r.Messages.Latency.Buckets) == 0 {
			continue
		}
		series = append(series, Series{t, CDF(r.Messages.Latency.Buckets, xs)})
	}
	return LineChart(key+" latency CDF, % delivered by x ms (run 1)", "%", xs, labels, series, false)
}

// CDF returns, for each bound in xs, the percentage of the buckets' counts at
// or below it.
func CDF(buckets [][2]float64, xs []float64) []float64 {
	total := 0.0
	for _, b := range buckets {
		total += b[1]
	}
	out := make([]float64, len(xs))
	if total == 0 {
		return out
	}
	for i, x := range xs {
		sum := 0.0
		for _, b := range buckets {
			if b[0] <= x {
				sum += b[1]
			}
		}
		out[i] = 100 * sum / total
	}
	return out
}

// sweepChart plots p99 against offered rate for each target's first sweep.
func (s *Suite) sweepChart() string {
	rates := map[float64]bool{}
	for _, sw := range s.Sweeps {
		if sw.Run == 0 {
			for _, st := range sw.Steps {
				rates[st.Rate] = true
			}
		}
	}
	if len(rates) == 0 {
		return ""
	}
	xs := make([]float64, 0, len(rates))
	for r := range rates {
		xs = append(xs, r)
	}
	sort.Float64s(xs)
	var series []Series
	for _, t := range s.Targets {
		for _, sw := range s.Sweeps {
			if sw.Target != t || sw.Run != 0 {
				continue
			}
			v := make([]float64, len(xs))
			for _, st := range sw.Steps {
				v[sort.SearchFloat64s(xs, st.Rate)] = st.P99
			}
			series = append(series, Series{t, v})
		}
	}
	return LineChart("rate sweep: broadcast p99 by offered msg/s (run 1)", "ms", xs, nil, series, true)
}
