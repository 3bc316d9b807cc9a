package report

import "fmt"

// The targets for chatd.
const (
	GoalIdleBytes      = 2048 // server memory per idle authenticated connection
	GoalIdleClients    = 15000
	GoalCPUFraction    = 1.0 / 3 // chatd's broadcast CPU / gorilla's
	GoalBroadcastP99MS = 10
	GoalPeer           = "gorilla"
	// GoalIdleKey is the entry key of the idle run at GoalIdleClients (the
	// suite runs it on chatd only); without it the goal reads the plain idle run.
	GoalIdleKey = "idle15k"
)

// Goal is one target and whether this suite's figures meet it.
type Goal struct {
	Name  string `json:"name"`
	Want  string `json:"want"`
	Got   string `json:"got"`
	Known bool   `json:"known"` // false when the figures needed are missing
	Met   bool   `json:"met"`
	Note  string `json:"note,omitempty"`
}

func (s *Suite) cell(name, target string) (Cell, bool) {
	for _, r := range s.Table() {
		if r.Metric.Name == name {
			c, ok := r.Cells[target]
			return c, ok
		}
	}
	return Cell{}, false
}

// settingsNote says at what size a scenario ran, from the first chatd run.
func (s *Suite) settingsNote(key string) string {
	r, ok := s.First(Baseline, key)
	if !ok {
		return ""
	}
	st := r.Settings
	if key == "broadcast" || key == "private" {
		return fmt.Sprintf("%d clients, %d senders, %g msg/s", st.Clients, st.Senders, st.Rate)
	}
	return fmt.Sprintf("%d clients", st.Clients)
}

// Goals evaluates the targets on the medians.
func (s *Suite) Goals() []Goal {
	var goals []Goal

	g := Goal{Name: "idle memory per connection", Want: fmt.Sprintf("≤ %d B at %d connections", GoalIdleBytes, GoalIdleClients), Note: s.settingsNote(GoalIdleKey)}
	c, ok := s.cell("idle memory per connection, goal size", Baseline)
	if !ok {
		g.Note = s.settingsNote("idle")
		c, ok = s.cell("idle memory per connection", Baseline)
	}
	if ok {
		g.Known, g.Met, g.Got = true, c.Median <= GoalIdleBytes, FormatValue(c.Median, "B")
	}
	goals = append(goals, g)

	g = Goal{Name: "broadcast server CPU vs " + GoalPeer, Want: "≤ 1/3 of " + GoalPeer + "'s", Note: s.settingsNote("broadcast")}
	c, ok1 := s.cell("broadcast server CPU", Baseline)
	p, ok2 := s.cell("broadcast server CPU", GoalPeer)
	if ok1 && ok2 {
		if r, ok := Ratio(c.Median, p.Median); ok {
			g.Known, g.Met, g.Got = true, r <= GoalCPUFraction, fmt.Sprintf("%.2f× (%.2f s vs %.2f s)", r, c.Median, p.Median)
		}
	}
	goals = append(goals, g)

	g = Goal{Name: "broadcast latency p99", Want: fmt.Sprintf("≤ %d ms", GoalBroadcastP99MS), Note: s.settingsNote("broadcast")}
	if c, ok := s.cell("broadcast latency p99", Baseline); ok {
		g.Known, g.Met, g.Got = true, c.Median <= GoalBroadcastP99MS, FormatValue(c.Median, "ms")
	}
	goals = append(goals, g)

	g = Goal{Name: "max rate with no loss and p99 ≤ limit", Want: "≥ " + GoalPeer + "'s"}
	c, ok1 = s.cell("max rate, no loss, p99 ≤ limit", Baseline)
	p, ok2 = s.cell("max rate, no loss, p99 ≤ limit", GoalPeer)
	if ok1 && ok2 {
		// Both at 0 means no rate passed for either: nothing is shown, so not met.
		g.Known, g.Met, g.Got = true, c.Median > 0 && c.Median >= p.Median, fmt.Sprintf("%s vs %s", FormatValue(c.Median, "msg/s"), FormatValue(p.Median, "msg/s"))
	}
	for _, sw := range s.Sweeps {
		g.Note = fmt.Sprintf("%d clients, p99 limit %g ms", sw.Clients, sw.LimitMS)
		break
	}
	goals = append(goals, g)
	return goals
}
