package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/bench/scenario"
	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/urfave/cli/v2"
)

func runApp(ctx context.Context, t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.RunContext(ctx, append([]string{"chatbench"}, args...))
	return out.String(), errOut.String(), err
}

func TestBroadcastPrintsTheResultAsJSON(t *testing.T) {
	srv := chattest.Start(t, func(c *server.Config) { c.Chat.RateLimit = 1000; c.Chat.RateBurst = 1000 })
	out, progress, err := runApp(context.Background(), t, "broadcast", "--url", "ws://"+srv.Addr+"/",
		"--clients", "50", "--senders", "5", "--rate", "50", "--duration", "1s", "--warmup", "0s",
		"--status-url", "http://"+srv.Addr+"/status", "--target", "chatd-test", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, progress)
	}
	var res scenario.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one Result: %v\n%s", err, out)
	}
	m := res.Messages
	if res.Scenario != "broadcast" || res.Target != "chatd-test" || m == nil || m.Sent == 0 || m.Received != m.Sent*50 || m.Loss != 0 {
		t.Fatalf("result %+v messages %+v", res, m)
	}
	if !strings.Contains(progress, "ramp") || !strings.Contains(progress, "messages:") {
		t.Fatalf("no progress on stderr:\n%s", progress)
	}
}

func TestCSVOutput(t *testing.T) {
	srv := chattest.Start(t)
	out, progress, err := runApp(context.Background(), t, "connect", "--url", "ws://"+srv.Addr+"/", "--clients", "20", "--duration", "2s", "--csv")
	if err != nil {
		t.Fatalf("%v\n%s", err, progress)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "scenario,") || !strings.HasPrefix(lines[1], "connect,") {
		t.Fatalf("csv:\n%s", out)
	}
}

func TestTooManyClientsAreRefusedBeforeDialing(t *testing.T) {
	_, _, err := runApp(context.Background(), t, "idle", "--url", "ws://127.0.0.1:1/", "--clients", "5000000")
	if err == nil || !strings.Contains(err.Error(), "open files") {
		t.Fatalf("err %v, want the open-file limit explained", err)
	}
}

func TestInterruptStopsALongRun(t *testing.T) {
	srv := chattest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	out, progress, err := runApp(ctx, t, "idle", "--url", "ws://"+srv.Addr+"/", "--clients", "20", "--duration", "10m", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, progress)
	}
	if time.Since(start) > time.Minute || !strings.Contains(out, "interrupted") {
		t.Fatalf("after %s:\n%s", time.Since(start), out)
	}
}

func TestBadSourceIPsAreRefused(t *testing.T) {
	_, _, err := runApp(context.Background(), t, "connect", "--source-ips", "10.1.1.1")
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("err %v", err)
	}
}

// TestURLDefaultsToChatdsPort: with no --url every scenario dials chatd's own default
// port, so `chatd start` then `chatbench broadcast` needs no flag.
func TestURLDefaultsToChatdsPort(t *testing.T) {
	want := "ws://127.0.0.1" + engine.DefaultListen + "/"
	for _, sc := range []string{"connect", "idle", "broadcast", "private", "rooms", "history", "churn", "slow"} {
		for _, f := range flags(sc) {
			if u, ok := f.(*cli.StringSliceFlag); ok && u.Name == "url" && strings.Join(u.Value.Value(), ",") != want {
				t.Errorf("%s: --url defaults to %v, want %s", sc, u.Value.Value(), want)
			}
		}
	}
	if got := nodeURLs(nil); len(got) != 1 || got[0] != want {
		t.Errorf("no --url: %v, want %s", got, want)
	}
}

// TestSeveralURLsSpreadTheClients: --url with several servers (comma-separated or
// repeated) dials client i to server i mod n, so each of two gets half the clients.
func TestSeveralURLsSpreadTheClients(t *testing.T) {
	for _, form := range []string{"comma-separated", "repeated"} {
		t.Run(form, func(t *testing.T) {
			a, b := chattest.Start(t), chattest.Start(t)
			urlA, urlB := "ws://"+a.Addr+"/", "ws://"+b.Addr+"/"
			args := []string{"connect", "--clients", "20", "--duration", "2s", "--json"}
			if form == "repeated" {
				args = append(args, "--url", urlA, "--url", urlB)
			} else {
				args = append(args, "--url", urlA+","+urlB)
			}
			out, progress, err := runApp(context.Background(), t, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, progress)
			}
			var res scenario.Result
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.URL != urlA+","+urlB {
				t.Fatalf("result url %q (%v), want both", res.URL, err)
			}
			for _, srv := range []*chattest.Server{a, b} {
				if got := srv.Worker.Status().Accepted; got != 10 {
					t.Errorf("%s accepted %d clients, want 10 of 20", srv.Addr, got)
				}
			}
		})
	}
}

// TestBroadcastOverTwoClusterNodes: clients spread over two nodes of one cluster (a
// real nats-server) all get every line, wherever its sender is.
func TestBroadcastOverTwoClusterNodes(t *testing.T) {
	ns := natstest.Start(t)
	node := func(name string) *chattest.Server {
		return chattest.Start(t, func(c *server.Config) {
			c.Chat.RateLimit, c.Chat.RateBurst = 1000, 1000
			c.Cluster = &cluster.Config{NATS: cluster.NATSConfig{URLs: []string{ns.URL()}}, NodeName: name}
		})
	}
	a, b := node("bench-a"), node("bench-b")
	out, progress, err := runApp(context.Background(), t, "broadcast", "--url", "ws://"+a.Addr+"/,ws://"+b.Addr+"/",
		"--clients", "20", "--senders", "4", "--rate", "40", "--duration", "1s", "--warmup", "0s", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, progress)
	}
	var res scenario.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one Result: %v\n%s", err, out)
	}
	if m := res.Messages; m == nil || m.Sent == 0 || m.Received != m.Sent*20 || m.Loss != 0 {
		t.Fatalf("messages %+v, want every line to all 20 clients", m)
	}
}

// TestSendersOnOneNodeReceiversOnAnother: with --sender-url the senders dial node A and
// the receivers node B, and only B's deliveries count, so each crossed the cluster.
func TestSendersOnOneNodeReceiversOnAnother(t *testing.T) {
	ns := natstest.Start(t)
	node := func(name string) *chattest.Server {
		return chattest.Start(t, func(c *server.Config) {
			c.Chat.RateLimit, c.Chat.RateBurst = 1000, 1000
			c.Cluster = &cluster.Config{NATS: cluster.NATSConfig{URLs: []string{ns.URL()}}, NodeName: name}
		})
	}
	a, b := node("bench-a"), node("bench-b")
	out, progress, err := runApp(context.Background(), t, "broadcast", "--sender-url", "ws://"+a.Addr+"/", "--url", "ws://"+b.Addr+"/",
		"--clients", "12", "--senders", "2", "--rate", "20", "--duration", "1s", "--warmup", "0s", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, progress)
	}
	var res scenario.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one Result: %v\n%s", err, out)
	}
	if m := res.Messages; m == nil || m.Sent == 0 || m.Expected != m.Sent*10 || m.Received != m.Expected || m.Duplicate != 0 {
		t.Fatalf("messages %+v, want every line to the 10 receivers only", m)
	}
	for _, n := range []struct {
		srv  *chattest.Server
		want int
	}{{a, 2}, {b, 10}} {
		if got := accepted(t, n.srv.Addr); got != n.want {
			t.Fatalf("node %s accepted %d connections, want %d", n.srv.Addr, got, n.want)
		}
	}
}

// accepted is the connections a chatd accepted since it started, from its /status.
func accepted(t *testing.T, addr string) int {
	t.Helper()
	res, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct{ Accepted int }
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatalf("decode /status: %v", err)
	}
	return st.Accepted
}
