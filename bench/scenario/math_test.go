package scenario

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentilesFromHDR(t *testing.T) {
	l := NewLatency()
	for i := 1; i <= 1000; i++ {
		l.Record(time.Duration(i) * time.Millisecond)
	}
	p := l.Percentiles()
	if p.Count != 1000 {
		t.Fatalf("count %d, want 1000", p.Count)
	}
	// HDR with 3 significant digits: within 0.1% of the exact value.
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > want*0.002 {
			t.Errorf("%s = %.3f ms, want %.3f", name, got, want)
		}
	}
	near("p50", p.P50, 500)
	near("p90", p.P90, 900)
	near("p99", p.P99, 990)
	near("p99.9", p.P999, 999)
	near("max", p.Max, 1000)
	near("mean", p.Mean, 500.5)
	var inBuckets float64
	for _, b := range p.Buckets {
		inBuckets += b[1]
	}
	if inBuckets != 1000 {
		t.Fatalf("buckets hold %v values, want 1000: %v", inBuckets, p.Buckets)
	}
}

func TestEmptyLatencyIsZero(t *testing.T) {
	if p := NewLatency().Percentiles(); p.Count != 0 || p.P99 != 0 || p.Buckets != nil {
		t.Fatalf("empty latency %+v", p)
	}
}

func TestTrackerCountsDuplicatesForeignAndMeasured(t *testing.T) {
	tr := NewTracker("run1", 3)
	_, warm := tr.Next(time.Second, 0)
	tr.StartMeasuring()
	_, a := tr.Next(2*time.Second, 40)
	_, b := tr.Next(3*time.Second, 0)
	if len(a) < 40 {
		t.Fatalf("text %q is shorter than its padding", a)
	}
	if id, sent, ok := ParseText("run1", a); !ok || id != 1 || sent != 2*time.Second {
		t.Fatalf("ParseText(%q) = %d %s %v", a, id, sent, ok)
	}
	tr.Deliver(0, warm, 1500*time.Millisecond)
	tr.Deliver(0, a, 2100*time.Millisecond)
	tr.Deliver(1, a, 2200*time.Millisecond)
	tr.Deliver(1, a, 2300*time.Millisecond) // duplicate
	tr.Deliver(2, b, 3100*time.Millisecond)
	tr.Deliver(2, "cb other 1 5 x", 3100*time.Millisecond) // another run's message
	tr.Deliver(2, "hello", 3100*time.Millisecond)
	c := tr.Counts()
	if c.Received != 4 || c.Measured != 3 || c.Duplicate != 1 || c.Foreign != 2 {
		t.Fatalf("counts %+v", c)
	}
	if p := tr.Latency().Percentiles(); p.Count != 3 || p.Max < 199 || p.Max > 201 {
		t.Fatalf("latency %+v, want 3 values, max 200 ms", p)
	}
	// Three messages to three receivers each: 9 expected, 4 received.
	if got := Loss(9, c.Received); got != 5 {
		t.Fatalf("loss %d, want 5", got)
	}
	if got := Loss(3, 4); got != -1 {
		t.Fatalf("loss %d, want -1", got)
	}
}

func TestClientMsgIDRoundTrip(t *testing.T) {
	id := clientMsgID("ab12", 42, 1234*time.Microsecond)
	if len(id) > 64 {
		t.Fatalf("clientMsgId %q is longer than chatd's 64 bytes", id)
	}
	got, sent, ok := ParseText("ab12", clientMsgIDText(id))
	if !ok || got != 42 || sent != 1234*time.Microsecond {
		t.Fatalf("round trip of %q: %d %s %v", id, got, sent, ok)
	}
}

func TestMemPerConn(t *testing.T) {
	if got := MemPerConn(30<<20, 10<<20, 10240); got != 2048 {
		t.Fatalf("mem per conn %v, want 2048", got)
	}
	if got := MemPerConn(10, 20, 0); got != 0 {
		t.Fatalf("no clients: %v", got)
	}
	if got := MemPerConn(10<<20, 12<<20, 1024); got != -2048 {
		t.Fatalf("shrunk: %v, want -2048", got)
	}
}

func TestParseProcStat(t *testing.T) {
	// Field 2 may hold spaces and ')'; utime 250 and stime 50 ticks are 3 s.
	stat := "4242 (chat d) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 123456 789 18446744073709551615\n"
	cpu, err := ParseStatCPU(stat)
	if err != nil || cpu != 3 {
		t.Fatalf("cpu %v %v, want 3", cpu, err)
	}
	if _, err := ParseStatCPU("4242 (x) S 1"); err == nil {
		t.Fatal("short stat accepted")
	}
	rss, err := ParseStatusRSS("Name:\tchatd\nVmPeak:\t 100 kB\nVmRSS:\t   20480 kB\nThreads: 9\n")
	if err != nil || rss != 20480*1024 {
		t.Fatalf("rss %d %v", rss, err)
	}
	if _, err := ParseStatusRSS("Name:\tchatd\n"); err == nil {
		t.Fatal("status without VmRSS accepted")
	}
}

func TestReadProcOfThisProcess(t *testing.T) {
	s, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSBytes == 0 || s.FDs < 3 || s.CPUSeconds < 0 {
		t.Fatalf("sample %+v", s)
	}
	if _, err := ReadProc(1 << 30); err == nil {
		t.Fatal("a pid that does not exist was read")
	}
}

func TestReturnedToBase(t *testing.T) {
	base := Sample{FDs: 20, Goroutines: 12, RSSBytes: 40 << 20}
	if !ReturnedToBase(base, Sample{FDs: 22, Goroutines: 13, RSSBytes: 50 << 20}) {
		t.Fatal("near baseline not accepted")
	}
	for _, after := range []Sample{
		{FDs: 500, Goroutines: 12, RSSBytes: 40 << 20},
		{FDs: 20, Goroutines: 300, RSSBytes: 40 << 20},
		{FDs: 20, Goroutines: 12, RSSBytes: 200 << 20},
	} {
		if ReturnedToBase(base, after) {
			t.Fatalf("%+v accepted as back at %+v", after, base)
		}
	}
}

func TestCSVHasOneValuePerColumn(t *testing.T) {
	r := &Result{Scenario: "broadcast", Target: "chatd", Messages: &MessageFigures{Sent: 10, Expected: 100, Received: 100},
		Server: &ServerFigures{CPUSeconds: 1.5}, Errors: map[string]uint64{"timeout": 2}, Notes: []string{"n"}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || strings.Count(lines[0], ",") != strings.Count(lines[1], ",") {
		t.Fatalf("csv:\n%s", buf.String())
	}
	buf.Reset()
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "error timeout:") || !strings.Contains(buf.String(), "note: n") {
		t.Fatalf("text:\n%s", buf.String())
	}
}

// TestProbeSumsTheServersProcesses: with other pids (a cluster's nodes and its
// nats-server) the probe adds their CPU, RSS and fds to the server's; an unreadable
// pid among them is an error, not a smaller figure.
func TestProbeSumsTheServersProcesses(t *testing.T) {
	one, err := serverProbe{pid: os.Getpid()}.sample()
	if err != nil {
		t.Fatal(err)
	}
	two, err := serverProbe{pid: os.Getpid(), others: []int{os.Getpid()}}.sample()
	if err != nil {
		t.Fatal(err)
	}
	if two.proc.RSSBytes < one.proc.RSSBytes*3/2 || two.proc.FDs < 2*one.proc.FDs-2 {
		t.Fatalf("two samples of one process: %+v, one: %+v, want about twice", two.proc, one.proc)
	}
	if _, err := (serverProbe{pid: os.Getpid(), others: []int{1 << 30}}).sample(); err == nil {
		t.Fatal("an unreadable other pid gave no error")
	}
}
