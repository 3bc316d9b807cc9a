package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 640, 300
	padL, padR     = 70, 20
	padT, padB     = 30, 50
)

var palette = []string{"#2a7ae2", "#e2662a", "#3a9e4a", "#8e44ad", "#c0392b"}

func color(i int) string { return palette[i%len(palette)] }

func esc(s string) string { return html.EscapeString(s) }

// Series is one target's values in a chart.
type Series struct {
	Name   string
	Values []float64 // one per category (bars) or per X (lines)
}

func svgOpen(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, chartW, chartH, chartW, chartH, esc(title))
	fmt.Fprintf(b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`, padL, esc(title))
}

func legend(b *strings.Builder, series []Series) {
	for i, s := range series {
		x := chartW - padR - 110
		y := padT + 14*i
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`, x, y, color(i), x+14, y+9, esc(s.Name))
	}
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// BarChart draws grouped bars: one group per category, one bar per series.
func BarChart(title, unit string, categories []string, series []Series) string {
	var b strings.Builder
	svgOpen(&b, title)
	max := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			max = math.Max(max, v)
		}
	}
	max = niceMax(max)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	for i := 0; i <= 4; i++ {
		v := max * float64(i) / 4
		y := float64(chartH-padB) - plotH*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" font-size="10" text-anchor="end">%s</text>`, padL, chartW-padR, y, y, padL-4, y+3, esc(FormatValue(v, unit)))
	}
	if len(categories) > 0 && len(series) > 0 {
		groupW := plotW / float64(len(categories))
		barW := groupW * 0.8 / float64(len(series))
		for ci, cat := range categories {
			gx := float64(padL) + groupW*float64(ci) + groupW*0.1
			for si, s := range series {
				if ci >= len(s.Values) {
					continue
				}
				h := plotH * s.Values[ci] / max
				x := gx + barW*float64(si)
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`, x, float64(chartH-padB)-h, barW*0.9, h, color(si), esc(s.Name), esc(cat), esc(FormatValue(s.Values[ci], unit)))
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>`, gx+groupW*0.4, chartH-padB+16, esc(cat))
		}
	}
	legend(&b, series)
	b.WriteString(`</svg>`)
	return b.String()
}

// LineChart draws one line per series over shared x values, with a log-10 y
// axis when logY (latencies span orders of magnitude). xLabels name the x
// values; nil prints them as numbers.
func LineChart(title, unit string, xs []float64, xLabels []string, series []Series, logY bool) string {
	var b strings.Builder
	svgOpen(&b, title)
	lo, hi := math.Inf(1), 0.0
	for _, s := range series {
		for _, v := range s.Values {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi == 0 {
		lo, hi = 0.1, 1
	}
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	yOf := func(v float64) float64 {
		return float64(chartH-padB) - plotH*v
	}
	var frac func(float64) float64
	var ticks []float64
	if logY {
		l0, l1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if l1 == l0 {
			l1++
		}
		frac = func(v float64) float64 { return (math.Log10(math.Max(v, math.Pow(10, l0))) - l0) / (l1 - l0) }
		for e := l0; e <= l1; e++ {
			ticks = append(ticks, math.Pow(10, e))
		}
	} else {
		top := niceMax(hi)
		frac = func(v float64) float64 { return v / top }
		for i := 0; i <= 4; i++ {
			ticks = append(ticks, top*float64(i)/4)
		}
	}
	for _, t := range ticks {
		y := yOf(frac(t))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" font-size="10" text-anchor="end">%s</text>`, padL, chartW-padR, y, y, padL-4, y+3, esc(FormatValue(t, unit)))
	}
	xOf := func(i int) float64 {
		if len(xs) < 2 {
			return float64(padL) + plotW/2
		}
		return float64(padL) + plotW*float64(i)/float64(len(xs)-1)
	}
	for i, x := range xs {
		label := FormatValue(x, "")
		if i < len(xLabels) {
			label = xLabels[i]
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, xOf(i), chartH-padB+16, esc(label))
	}
	for si, s := range series {
		var pts []string
		for i, v := range s.Values {
			if i >= len(xs) || v <= 0 && logY {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(i), yOf(frac(v))))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s</title></circle>`, xOf(i), yOf(frac(v)), color(si), esc(s.Name), esc(FormatValue(v, unit)))
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color(si), strings.Join(pts, " "))
		}
	}
	legend(&b, series)
	b.WriteString(`</svg>`)
	return b.String()
}
