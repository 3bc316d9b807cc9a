// Package progress shows a long run's progress on stderr: a redrawn bar when it is a
// terminal, plain lines (at most one every two seconds) otherwise, so logs stay short.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Reporter prints progress lines. A nil *Reporter prints nothing.
type Reporter struct {
	w        io.Writer
	terminal bool
	mu       sync.Mutex
	last     time.Time
	drawn    bool
}

// New reports to w; a bar when w is a terminal.
func New(w io.Writer) *Reporter {
	r := &Reporter{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			r.terminal = true
		}
	}
	return r
}

// Update shows phase at done of total (total 0: no bar) with a detail text. Lines
// are rate-limited; the caller may call it as often as it likes.
func (r *Reporter) Update(phase string, done, total int, detail string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	every := 2 * time.Second
	if r.terminal {
		every = 200 * time.Millisecond
	}
	if now.Sub(r.last) < every {
		return
	}
	r.last = now
	line := Line(phase, done, total, detail)
	if r.terminal {
		fmt.Fprintf(r.w, "\r\033[K%s", line)
		r.drawn = true
		return
	}
	fmt.Fprintln(r.w, line)
}

// Done ends the current bar with a final line.
func (r *Reporter) Done(phase string, detail string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.terminal && r.drawn {
		fmt.Fprint(r.w, "\r\033[K")
	}
	r.drawn = false
	r.last = time.Time{}
	fmt.Fprintf(r.w, "%s: %s\n", phase, detail)
}

// Line formats one progress line: "phase [#####-----]  50% 5/10 detail".
func Line(phase string, done, total int, detail string) string {
	if total <= 0 {
		return fmt.Sprintf("%s %s", phase, detail)
	}
	const width = 30
	done = min(max(done, 0), total)
	filled := done * width / total
	bar := strings.Repeat("#", filled) + strings.Repeat("-", width-filled)
	return fmt.Sprintf("%s [%s] %3d%% %d/%d %s", phase, bar, done*100/total, done, total, detail)
}
