package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs url (with a bearer token unless it is "") and parses the Prometheus
// text it answers.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	resp := get(t, url, token)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return families
}

func get(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp
}

// value is the value of family's series with labels (name=value pairs), or -1 if it
// has none. A histogram's value is its sample count.
func value(families map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	f := families[family]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
		}
		if !found {
			return false
		}
	}
	return true
}

// TestMetricsMove: a real chatd with a history on disk; clients log in, chat, send
// junk, flood and say goodbye; then every family README names is in /metrics and
// the ones those clients moved have moved.
func TestMetricsMove(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) { c.Chat.RateLimit, c.Chat.RateBurst = 1, 3 })
	alice, _ := s.Login(t, "Alice")
	bob, _ := s.Login(t, "Bob")
	for i := range 2 {
		alice.Send(map[string]any{"text": fmt.Sprintf("line %d", i), "clientMsgId": fmt.Sprint("m", i)})
		alice.Expect("Sent") // committed to disk, then delivered to both
	}
	alice.Send(`{"action":"Rooms"}`)
	alice.Expect("Rooms")
	alice.Send(`{not json`)
	alice.Expect("Error")
	carol, _ := s.Login(t, "Carol")
	for i := range 5 { // a burst of 3, then refusals (not enough of them to be cut)
		carol.Send(map[string]any{"text": fmt.Sprint("flood ", i)})
	}
	carol.ExpectWhere("rate_limited", func(m map[string]any) bool { return m["action"] == "Error" && m["code"] == "rate_limited" })
	_ = bob.Conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))

	url := "http://" + s.Addr + "/metrics"
	chattest.Eventually(t, 5*time.Second, "Bob's close counted", func() bool {
		return value(scrape(t, url, ""), "chatd_closes_total", "code", "1000", "reason", "normal closure") >= 1
	})
	m := scrape(t, url, "")
	atLeast := []struct {
		family string
		labels []string
		min    float64
	}{
		{"chatd_connections", nil, 2},
		{"chatd_connections_accepted_total", nil, 3},
		{"chatd_logins_total", nil, 3},
		{"chatd_messages_in_total", []string{"action", "PublicMessage"}, 7},
		{"chatd_messages_in_total", []string{"action", "Rooms"}, 1},
		{"chatd_messages_in_total", []string{"action", "invalid"}, 1},
		{"chatd_messages_in_total", []string{"action", "History"}, 0},
		{"chatd_websocket_messages_in_total", nil, 9},
		{"chatd_deliveries_total", nil, 2 * 2},
		{"chatd_frames_out_total", nil, 1},
		{"chatd_rate_limited_total", []string{"class", "line"}, 1},
		{"chatd_rate_limited_total", []string{"class", "costly"}, 0},
		{"chatd_rate_limited_total", []string{"class", "cheap"}, 0},
		{"chatd_limits_hit_total", []string{"kind", "rate"}, 1},
		{"chatd_limits_hit_total", []string{"kind", "connections"}, 0},
		{"chatd_limits_hit_total", []string{"kind", "message_bytes"}, 0},
		{"chatd_limits_hit_total", []string{"kind", "room_members"}, 0},
		{"chatd_errors_sent_total", []string{"code", "rate_limited"}, 1},
		{"chatd_errors_sent_total", []string{"code", "bad_json"}, 1},
		{"chatd_closes_total", []string{"code", "1000"}, 1},
		{"chatd_store_commit_duration_seconds", nil, 1},
		{"chatd_store_commit_failures_total", nil, 0},
		{"chatd_store_queue_records", nil, 0},
		{"chatd_owner_batch_duration_seconds", nil, 1},
		{"chatd_owner_queue_events", nil, 0},
		{"chatd_write_buffered_bytes", nil, 0},
		{"chatd_handshake_errors_total", nil, 0},
		{"chatd_panics_total", nil, 0},
		{"chatd_memory_releases_total", nil, 0},
		{"go_goroutines", nil, 1},
		{"go_memstats_heap_inuse_bytes", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
	}
	for _, w := range atLeast {
		if got := value(m, w.family, w.labels...); got < w.min {
			t.Errorf("%s%v = %v, want at least %v (-1: missing)", w.family, w.labels, got, w.min)
		}
	}
	if got := value(m, "chatd_rate_limited_total", "class", "line"); got > 2 {
		t.Errorf("Carol's 5 lines at a burst of 3: %v refused", got)
	}
}

// TestStatusToken: with --status-token, /status and /metrics answer 401 without the
// token or with a wrong one, and 200 with it; /healthz stays open.
func TestStatusToken(t *testing.T) {
	const token = "s3cret-token"
	s := chattest.Start(t, func(c *server.Config) { c.Engine.StatusToken = token })
	tests := []struct {
		path, token string
		want        int
	}{
		{"/healthz", "", http.StatusOK},
		{"/status", "", http.StatusUnauthorized},
		{"/status", "wrong", http.StatusUnauthorized},
		{"/status", token + "x", http.StatusUnauthorized},
		{"/status", token, http.StatusOK},
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "s3cret-toke", http.StatusUnauthorized},
		{"/metrics", token, http.StatusOK},
	}
	for _, tt := range tests {
		resp := get(t, "http://"+s.Addr+tt.path, tt.token)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s with token %q: %d, want %d", tt.path, tt.token, resp.StatusCode, tt.want)
		}
	}
}

// TestMetricsListen: with --metrics-listen, /metrics is served there (behind the
// token) and not on --listen; a busy --metrics-listen fails Start naming the flag.
func TestMetricsListen(t *testing.T) {
	const token = "tok"
	s := chattest.Start(t, func(c *server.Config) {
		c.MetricsListen, c.Engine.StatusToken = "127.0.0.1:0", token
	})
	s.Login(t, "Alice")
	m := scrape(t, "http://"+s.MetricsAddr().String()+"/metrics", token)
	if got := value(m, "chatd_logins_total"); got != 1 {
		t.Fatalf("chatd_logins_total on --metrics-listen: %v", got)
	}
	resp := get(t, "http://"+s.MetricsAddr().String()+"/metrics", "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("--metrics-listen without the token: %d", resp.StatusCode)
	}
	resp = get(t, "http://"+s.Addr+"/metrics", token)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if strings.Contains(string(body), "chatd_logins_total") {
		t.Fatalf("/metrics is still served on --listen (%s)", resp.Status)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := chattest.Config(t)
	cfg.MetricsListen = busy.Addr().String()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "--metrics-listen") {
		srv.Stop()
		t.Fatalf("Start on a busy --metrics-listen: %v", err)
	}
}
