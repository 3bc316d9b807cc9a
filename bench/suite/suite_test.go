package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/chatd/chatd/bench/report"
	"github.com/urfave/cli/v2"
)

func TestParseFlagsDefaultsFitTheMachine(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.runs != 1 || !slices.Equal(c.targets, []string{"chatd", "gorilla", "node"}) || !slices.Equal(c.scenarios, allScenarios) {
		t.Fatalf("defaults = %+v", c)
	}
	for _, n := range []int{c.clients, c.connectClients, c.idleClients, c.goalIdleClients, c.churnClients, c.sweepClients} {
		if n > 15000 {
			t.Errorf("a default of %d clients is over the 15,000 these machines hold", n)
		}
	}
	if !slices.IsSorted(c.sweepRates) {
		t.Errorf("sweep rates %v are not increasing", c.sweepRates)
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"--targets", "chatd,nginx"},
		{"--scenarios", "broadcast,nope"},
		{"--sweep-rates", "100,abc"},
		{"--sweep-rates", "100,-5"},
		{"--runs", "0"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

// Every target must get the same chatbench settings; only the URL, pid and
// label differ.
func TestSameSettingsForEveryTarget(t *testing.T) {
	c, err := parseFlags([]string{"--payload-bytes", "100", "--source-ips", "127.0.0.2", "--goal-idle-clients", "15000"})
	if err != nil {
		t.Fatal(err)
	}
	strip := func(args []string) string {
		var keep []string
		for i := 0; i < len(args); i++ {
			switch args[i] {
			case "--url", "--server-pid", "--target":
				i++
				continue
			}
			keep = append(keep, args[i])
		}
		return strings.Join(keep, " ")
	}
	srv := func(name string, pid int) *server { return &server{name: name, addr: "127.0.0.1:1", pidN: pid} }
	peerJobs := c.jobs("gorilla")
	chatdJobs := c.jobs(report.Baseline)
	for _, pj := range peerJobs {
		i := slices.IndexFunc(chatdJobs, func(j job) bool { return j.key == pj.key })
		if i < 0 {
			t.Fatalf("chatd has no %s job", pj.key)
		}
		if got, want := strip(c.args(chatdJobs[i], srv("chatd", 1))), strip(c.args(pj, srv("gorilla", 2))); got != want {
			t.Errorf("%s: chatd gets %q, gorilla %q", pj.key, got, want)
		}
	}
	if !slices.ContainsFunc(chatdJobs, func(j job) bool { return j.key == report.GoalIdleKey }) {
		t.Error("chatd has no idle run at the goal's size")
	}
	if slices.ContainsFunc(peerJobs, func(j job) bool { return j.key == report.GoalIdleKey }) {
		t.Error("a peer runs the chatd-only goal-size idle run")
	}
	b := c.args(peerJobs[slices.IndexFunc(peerJobs, func(j job) bool { return j.key == "broadcast" })], srv("gorilla", 2))
	for _, want := range []string{"--payload-bytes 100", "--rate 100", "--senders 10", "--duration 10s", "--source-ips 127.0.0.2", "--json", "--server-pid 2"} {
		if !strings.Contains(strings.Join(b, " "), want) {
			t.Errorf("broadcast args %q lack %q", b, want)
		}
	}
}

// parseFlags parses the suite's arguments (without the program name).
func parseFlags(args []string) (config, error) {
	var cfg config
	app := newApp(func(c config) error { cfg = c; return nil })
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	app.ExitErrHandler = func(*cli.Context, error) {}
	err := app.Run(append([]string{"suite"}, args...))
	return cfg, err
}
