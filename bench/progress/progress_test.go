package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	if got := Line("ramp", 5, 10, "x"); got != "ramp [###############---------------]  50% 5/10 x" {
		t.Fatalf("got %q", got)
	}
	if got := Line("ramp", 20, 10, ""); !strings.Contains(got, "100% 10/10") {
		t.Fatalf("over-full bar %q", got)
	}
	if got := Line("settle", 0, 0, "frames 3"); got != "settle frames 3" {
		t.Fatalf("got %q", got)
	}
}

func TestPlainLinesAreRateLimited(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf)
	for i := range 100 {
		r.Update("send", i, 100, "")
	}
	r.Done("send", "done")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || lines[1] != "send: done" || strings.Contains(buf.String(), "\r") {
		t.Fatalf("output:\n%q", buf.String())
	}
	var nilReporter *Reporter
	nilReporter.Update("x", 1, 2, "")
	nilReporter.Done("x", "")
}
