package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/cluster/natstest"
	"github.com/chatd/chatd/engine/server/chattest"
)

// The process-test harness of the cluster (docs/CLUSTER.md, issue 13): the test
// process runs a real nats-server with JetStream (natstest: 127.0.0.1, a random port,
// its store in a temp dir) and N chatd child processes, each a node with --nats, its
// own --data-dir, pid file, log and port. Nodes can be killed (SIGKILL) and started
// again on their data dir and port, as a crashed node comes back.

// testCluster is one nats-server and its chatd nodes.
type testCluster struct {
	NATS  *natstest.Server
	Nodes []*testNode
	args  []string // every node's extra flags
}

// testNode is one chatd process of a testCluster.
type testNode struct {
	Name string
	Dir  string // its working dir: data/, chatd.pid, node.log
	Addr string // 127.0.0.1:port, kept across restarts
	cmd  *exec.Cmd
}

// startCluster starts a nats-server and n nodes (node-0 … node-n-1), each started
// with extra flags besides its own, and waits until every node answers /healthz,
// which a node does only once it has caught up with the cluster.
func startCluster(t *testing.T, n int, extra ...string) *testCluster {
	t.Helper()
	c := &testCluster{NATS: natstest.Start(t), args: extra}
	for i := range n {
		c.add(t, &testNode{Name: fmt.Sprint("node-", i), Dir: t.TempDir(), Addr: freeAddr(t)})
	}
	return c
}

// Start starts nd (again, after Kill) and waits until it serves. Its log (at info)
// goes to node.log in its dir, shown when the test fails.
func (c *testCluster) Start(t *testing.T, nd *testNode) {
	t.Helper()
	args := append([]string{"start", "--listen", nd.Addr, "--data-dir", filepath.Join(nd.Dir, "data"),
		"--nats", c.NATS.URL(), "--node-name", nd.Name, "--log-level", "info"}, c.args...)
	cmd := chatd(t, nd.Dir, args...)
	logFile, err := os.OpenFile(filepath.Join(nd.Dir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", nd.Name, err)
	}
	logFile.Close() // the child has its own descriptor
	nd.cmd = cmd
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitHealthy(t, nd.Addr)
	// With --reuse-port a sibling on the port may have answered /healthz.
	chattest.Eventually(t, 10*time.Second, nd.Name+" answering /status itself", func() bool {
		return statusOnNewConn(t, nd.Addr).Pid == cmd.Process.Pid
	})
}

// startClusterOnOnePort is startCluster with every node on one port (--reuse-port),
// as one box runs a node per core: the kernel spreads clients over the nodes.
func startClusterOnOnePort(t *testing.T, n int, extra ...string) *testCluster {
	t.Helper()
	c := &testCluster{NATS: natstest.Start(t), args: append([]string{"--reuse-port"}, extra...)}
	addr := freeAddr(t)
	for i := range n {
		nd := &testNode{Name: fmt.Sprint("node-", i), Dir: t.TempDir(), Addr: addr}
		c.add(t, nd)
	}
	return c
}

// add starts nd as a node of c, its log shown if the test fails.
func (c *testCluster) add(t *testing.T, nd *testNode) {
	t.Helper()
	c.Nodes = append(c.Nodes, nd)
	t.Cleanup(func() {
		if t.Failed() {
			nd.dumpLog(t)
		}
	})
	c.Start(t, nd)
}

// Kill kills nd with SIGKILL, as a crash would, and waits for it to be gone.
func (nd *testNode) Kill(t *testing.T) {
	t.Helper()
	if err := nd.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %s: %v", nd.Name, err)
	}
	_ = nd.cmd.Wait()
}

// Login dials nd as name with extra query parameters and returns the client and its
// Authorized.
func (nd *testNode) Login(t *testing.T, name string, extra url.Values) (*chattest.Client, map[string]any) {
	t.Helper()
	q := url.Values{"userName": {name}, "userColor": {"#16a085"}, "gender": {"1"}}
	for k, vs := range extra {
		q[k] = vs
	}
	cl := chattest.Dial(t, "ws://"+nd.Addr+"/?"+q.Encode())
	return cl, cl.Expect("Authorized")
}

func (nd *testNode) dumpLog(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(nd.Dir, "node.log"))
	if err != nil {
		return
	}
	const tail = 4000
	if len(b) > tail {
		b = b[bytes.IndexByte(b[len(b)-tail:], '\n')+len(b)-tail+1:]
	}
	t.Logf("%s's log (last lines):\n%s", nd.Name, b)
}
