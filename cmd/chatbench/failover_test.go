package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chatd/chatd/bench/scenario"
	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// TestFailoverResumesEveryClientElsewhere: 30 opt-in clients on a chatd process, the
// bench kills it (SIGKILL), and every client resumes its identity on the other node
// (in this process), on the same nats-server.
func TestFailoverResumesEveryClientElsewhere(t *testing.T) {
	ns := natstest.Start(t)
	dir := t.TempDir()
	binary := filepath.Join(dir, "chatd")
	if out, err := exec.Command("go", "build", "-o", binary, "github.com/chatd/chatd/cmd/chatd").CombinedOutput(); err != nil {
		t.Fatalf("build chatd: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	victim := exec.Command(binary, "start", "--listen", addr, "--nats", ns.URL(), "--node-name", "victim",
		"--data-dir", filepath.Join(dir, "data"), "--pid-file", filepath.Join(dir, "chatd.pid"))
	victim.Dir = dir
	victim.Env = append(os.Environ(), "CHATD_LOG_LEVEL=warn")
	if err := victim.Start(); err != nil {
		t.Fatalf("start chatd: %v", err)
	}
	t.Cleanup(func() {
		_ = victim.Process.Kill()
		_ = victim.Wait()
	})
	chattest.Eventually(t, 30*time.Second, "the victim node answering /healthz", func() bool {
		res, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	other := chattest.Start(t, func(c *server.Config) {
		c.Cluster = &cluster.Config{NATS: cluster.NATSConfig{URLs: []string{ns.URL()}}, NodeName: "survivor"}
	})
	out, progress, err := runApp(context.Background(), t, "failover", "--url", "ws://"+addr+"/,ws://"+other.Addr+"/",
		"--kill-pid", strconv.Itoa(victim.Process.Pid), "--clients", "30", "--duration", "60s", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, progress)
	}
	var res scenario.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one Result: %v\n%s", err, out)
	}
	f := res.Failover
	if f == nil || f.Clients != 30 || f.Resumed != 30 || f.NewIdentity != 0 || f.Failed != 0 || f.Resume.Count != 30 {
		t.Fatalf("failover %+v, want all 30 clients resumed elsewhere\n%s", f, progress)
	}
	if f.KillToLastResumedMs <= 0 || f.Attempts < 30 {
		t.Fatalf("failover %+v: no time from the kill to the last resume, or fewer dials than clients", f)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
