package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
)

// TestMetricsListenAndStatusToken runs the binary with --metrics-listen and the token
// in CHATD_STATUS_TOKEN: a scrape there with the token sees the login; status
// without the token says which flag it needs, and with it prints the figures.
func TestMetricsListenAndStatusToken(t *testing.T) {
	const token = "0p3n-s3same"
	dir, addr, metricsAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	cmd := chatd(t, dir, "start", "--listen", addr, "--metrics-listen", metricsAddr)
	cmd.Env = append(cmd.Env, "CHATD_STATUS_TOKEN="+token)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitHealthy(t, addr)
	chattest.Dial(t, "ws://"+addr+"/?userName=Ann").Expect("Authorized")

	scrape := func(tok string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+metricsAddr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		client := http.Client{Timeout: 5 * time.Second}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("scrape: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := scrape("guess"); code != http.StatusUnauthorized {
		t.Fatalf("a scrape with a wrong token: %d", code)
	}
	if code, body := scrape(token); code != http.StatusOK || !strings.Contains(body, "\nchatd_logins_total 1\n") {
		t.Fatalf("scrape: %d\n%.2000s", code, body)
	}

	out, err := chatd(t, dir, "status", "--listen", addr).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--status-token") {
		t.Fatalf("status without the token: %v\n%s", err, out)
	}
	out, err = chatd(t, dir, "status", "--listen", addr, "--status-token", token).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "connections  1") {
		t.Fatalf("status with the token: %v\n%s", err, out)
	}
}
