package nbiofix_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/nbiofix"
	"github.com/lesismal/nbio/logging"
)

// TestNbioLogsReachSlog: nbio's warnings and errors reach the slog logger at their
// level, tagged source=nbio; its info lines only at debug.
func TestNbioLogsReachSlog(t *testing.T) {
	var buf bytes.Buffer
	nbiofix.RouteLogs(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	logging.Info("engine %s started", "x")
	logging.Warn("poller %d slow", 3)
	logging.Error("accept failed: %v", "EMFILE")
	got := buf.String()
	for _, want := range []string{`level=WARN msg="poller 3 slow" source=nbio`, `level=ERROR msg="accept failed: EMFILE" source=nbio`} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "started") {
		t.Errorf("nbio's info line reached an info-level logger: %q", got)
	}
	buf.Reset()
	nbiofix.RouteLogs(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	logging.Info("engine %s started", "y")
	if !strings.Contains(buf.String(), `level=DEBUG msg="engine y started" source=nbio`) {
		t.Errorf("at debug, nbio's info line is %q", buf.String())
	}
}

func TestWaitPollersStarted(t *testing.T) {
	started := time.Now()
	nbiofix.WaitPollersStarted(started)
	if waited := time.Since(started); waited < nbiofix.PollerStartGrace {
		t.Fatalf("returned after %s, want at least %s", waited, nbiofix.PollerStartGrace)
	}
	begin := time.Now()
	nbiofix.WaitPollersStarted(begin.Add(-time.Hour)) // long started: no wait
	if waited := time.Since(begin); waited >= nbiofix.PollerStartGrace {
		t.Fatalf("waited %s for an engine started an hour ago", waited)
	}
}
