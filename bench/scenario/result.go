package scenario

import "time"

// Result is what one scenario run reports. chatbench prints it with --json (one
// object on stdout) and the suite reads it back, so field names are a contract:
// add fields, never rename them.
type Result struct {
	Scenario string    `json:"scenario"` // connect, idle, broadcast, private, churn, rooms, history
	Target   string    `json:"target"`   // free label of the server under test (chatd, gorilla, node)
	URL      string    `json:"url"`      // the server's, or the nodes' comma-separated
	Started  time.Time `json:"started"`
	Settings Settings  `json:"settings"`

	Connect  *ConnectFigures   `json:"connect,omitempty"`
	Messages *MessageFigures   `json:"messages,omitempty"`
	Server   *ServerFigures    `json:"server,omitempty"`
	Churn    *ChurnFigures     `json:"churn,omitempty"`
	Slow     *SlowFigures      `json:"slow,omitempty"`
	Failover *FailoverFigures  `json:"failover,omitempty"`
	Errors   map[string]uint64 `json:"errors,omitempty"` // client-side errors by kind
	Notes    []string          `json:"notes,omitempty"`  // anything a reader must know (e.g. "server dropped 3 slow clients")
}

// Settings echoes the flags the run used.
type Settings struct {
	Clients      int     `json:"clients"`
	Senders      int     `json:"senders"`
	Rate         float64 `json:"rate"` // offered messages/s, all senders together
	DurationSec  float64 `json:"durationSec"`
	WarmupSec    float64 `json:"warmupSec"`
	PayloadBytes int     `json:"payloadBytes"`
	Rooms        int     `json:"rooms,omitempty"`
	SourceIPs    int     `json:"sourceIps,omitempty"`
}

// Percentiles are latencies in milliseconds, read off an HDR histogram.
type Percentiles struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	// Buckets is the distribution for charts: [upper bound ms, count] pairs.
	Buckets [][2]float64 `json:"buckets,omitempty"`
}

// ConnectFigures are the ramp's.
type ConnectFigures struct {
	Attempted  int         `json:"attempted"`
	Authorized int         `json:"authorized"`
	PerSec     float64     `json:"perSec"`  // authorized clients per second of ramp
	Latency    Percentiles `json:"latency"` // TCP connect to Authorized
	// Upgrade is TCP connect to the 101 answer: the part of Latency before login.
	Upgrade Percentiles `json:"upgrade"`
	// PresenceFrames counts Connected/Disconnected/user-list entries (and batched
	// Presence frames, with presence=compact) the clients received during the ramp
	// (the seed protocol's N²/2 cost).
	PresenceFrames uint64 `json:"presenceFrames"`
	PresenceBytes  uint64 `json:"presenceBytes"`
}

// MessageFigures are a chat scenario's (broadcast, private, rooms, history).
type MessageFigures struct {
	Sent      uint64      `json:"sent"`     // messages written (rate_limited ones too)
	Expected  uint64      `json:"expected"` // deliveries that should arrive
	Received  uint64      `json:"received"`
	Loss      int64       `json:"loss"`            // expected - received
	Duplicate uint64      `json:"duplicate"`       // deliveries seen twice
	PerSec    float64     `json:"perSec"`          // deliveries/s over the measured window (history: Sent answers/s)
	Latency   Percentiles `json:"latency"`         // send to receive (history: send to Sent)
	Acked     uint64      `json:"acked,omitempty"` // history: Sent answers
}

// ServerFigures come from the server's /status (chatd) or /proc/PID (--server-pid).
type ServerFigures struct {
	PID                    int     `json:"pid,omitempty"`
	CPUSeconds             float64 `json:"cpuSeconds"`       // user+sys during the measured window
	RSSBytes               uint64  `json:"rssBytes"`         // at the end of the window
	BaselineRSSBytes       uint64  `json:"baselineRssBytes"` // before the clients connected
	MemPerConnBytes        float64 `json:"memPerConnBytes"`  // (RSS - baseline) / clients
	DeliveriesPerCPUSecond float64 `json:"deliveriesPerCpuSecond,omitempty"`
	Goroutines             int     `json:"goroutines,omitempty"` // chatd's /status only
	FDs                    int     `json:"fds,omitempty"`
	Dropped                uint64  `json:"dropped,omitempty"` // clients the server cut off as slow, if it says
}

// ChurnFigures say whether the server returns to its baseline after churn.
type ChurnFigures struct {
	Cycles         int    `json:"cycles"`
	Baseline       Sample `json:"baseline"`
	After          Sample `json:"after"`
	ReturnedToBase bool   `json:"returnedToBase"`
}

// Sample is the server's resources at one moment.
type Sample struct {
	FDs        int    `json:"fds"`
	Goroutines int    `json:"goroutines"`
	RSSBytes   uint64 `json:"rssBytes"`
}

// FailoverFigures are the failover scenario's: the killed node's clients, each
// reconnecting to another node with its resume token.
type FailoverFigures struct {
	Clients     int `json:"clients"`     // logged in on the killed node
	Resumed     int `json:"resumed"`     // Authorized with resumed=true and the same userId
	NewIdentity int `json:"newIdentity"` // Authorized, but not resumed
	Failed      int `json:"failed"`      // no Authorized after every attempt, or by the deadline
	NotClosed   int `json:"notClosed"`   // still open after the kill (it was not their node)
	Attempts    int `json:"attempts"`    // reconnect dials in all
	// From the kill to the last client's close seen, and to the last resumed Authorized.
	KillToLastCloseMs   float64     `json:"killToLastCloseMs"`
	KillToLastResumedMs float64     `json:"killToLastResumedMs"`
	Resume              Percentiles `json:"resume"` // kill to each client's resumed Authorized
}
