package metrics_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/metrics"
)

// TestScrapeWhileTheOwnerIsStalled: a scrape reads counters, never the owner, so it
// answers while the owner is stuck, and shows the queue building up behind it.
func TestScrapeWhileTheOwnerIsStalled(t *testing.T) {
	cfg := enginetest.Config()
	cfg.Listen = "127.0.0.1:0"
	w, err := engine.New(cfg, engine.Echo{})
	if err != nil {
		t.Fatal(err)
	}
	w.Handle("GET /metrics", metrics.New(metrics.Sources{Worker: w}).Handler())
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	stalled, release := make(chan struct{}), make(chan struct{})
	w.Post(func() { close(stalled); <-release })
	defer close(release) // before Stop, which needs the owner
	<-stalled
	for range 3 {
		w.Post(func() {})
	}
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + w.Addr().String() + "/metrics")
	if err != nil {
		t.Fatalf("scrape with the owner stalled: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"\nchatd_owner_queue_events 3\n", "\nchatd_connections 0\n", "chatd_owner_batch_duration_seconds_count "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape has no %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(string(body), "chatd_logins_total") {
		t.Error("chat families without a chat")
	}
}
