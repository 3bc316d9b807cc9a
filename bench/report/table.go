package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// FormatValue prints a figure compactly with its unit.
func FormatValue(v float64, unit string) string {
	var s string
	switch a := math.Abs(v); {
	case unit == "B":
		return formatBytes(v)
	case a >= 1e6:
		s = fmt.Sprintf("%.2fM", v/1e6)
	case a >= 1e4:
		s = fmt.Sprintf("%.1fk", v/1e3)
	case a >= 100 || v == math.Trunc(v):
		s = fmt.Sprintf("%.0f", v)
	case a >= 1:
		s = fmt.Sprintf("%.2f", v)
	default:
		s = fmt.Sprintf("%.3f", v)
	}
	if unit == "" || unit == "runs" {
		return s
	}
	if unit == "/s" {
		return s + "/s"
	}
	return s + " " + unit
}

func formatBytes(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case a >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", v)
	}
}

// FormatRatio prints baseline/peer, or "–" when undefined.
func FormatRatio(r float64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f×", r)
}

func (s *Suite) peers() []string {
	var p []string
	for _, t := range s.Targets {
		if t != Baseline {
			p = append(p, t)
		}
	}
	return p
}

// cellText is a cell for the tables; churn prints "k/n runs".
func (s *Suite) cellText(r Row, t string) string {
	c, ok := r.Cells[t]
	if !ok {
		return "–"
	}
	if r.Metric.Key == "churn" {
		return fmt.Sprintf("%.0f/%d", c.Median, len(c.Runs))
	}
	return FormatValue(c.Median, r.Metric.Unit)
}

// WriteText prints the comparison table and the goals as aligned text.
func (s *Suite) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"metric"}
	head = append(head, s.Targets...)
	for _, p := range s.peers() {
		head = append(head, Baseline+"/"+p)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range s.Table() {
		cols := []string{r.Metric.Name}
		for _, t := range s.Targets {
			cols = append(cols, s.cellText(r, t))
		}
		for _, p := range s.peers() {
			v, ok := r.Ratios[p]
			cols = append(cols, FormatRatio(v, ok))
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	fmt.Fprintf(w, "\n(medians of %d run(s); ratios are chatd / peer)\n\ngoals:\n", s.Runs)
	for _, g := range s.Goals() {
		status := "MISSING"
		if g.Known {
			status = "no"
			if g.Met {
				status = "MET"
			}
		}
		fmt.Fprintf(w, "  %-8s %s: want %s, got %s", status, g.Name, g.Want, orDash(g.Got))
		if g.Note != "" {
			fmt.Fprintf(w, " (%s)", g.Note)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
