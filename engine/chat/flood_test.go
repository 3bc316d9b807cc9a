package chat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/enginetest"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/gorilla/websocket"
)

const (
	floodClients  = 30
	floodDuration = 2 * time.Second
	floodBurst    = 10                     // the costly class's burst: sent in one write, so the owner sees them together
	floodEvery    = 600 * time.Millisecond // within the costly class's 2 a second
	floodProbes   = 3
)

// floodAnswers counts what the flood's History requests got.
type floodAnswers struct{ history, busy, limited, other atomic.Int64 }

// TestHistoryFloodKeepsGoroutinesBoundedAndLoginsLive: clients asking History at the
// allowed rate (a burst, then 2 a second) keep the server's goroutines within 64 of
// where they started, get busy for what they ask while a read of theirs is in
// flight, and a new user meanwhile logs in, gets its replay and sees its own line.
// Every request gets exactly one answer.
func TestHistoryFloodKeepsGoroutinesBoundedAndLoginsLive(t *testing.T) {
	s := chattest.Start(t)
	seed, _ := s.Login(t, "Seed")
	for i := range 30 {
		seed.Send(map[string]any{"text": fmt.Sprint("seed ", i)})
		seed.Expect("PublicMessage")
	}
	var answers floodAnswers
	conns := make([]*websocket.Conn, floodClients)
	var readers sync.WaitGroup
	for i := range conns {
		conn, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr+"/?presence=compact&resume=&userName=flood"+fmt.Sprint(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns[i] = conn
		readers.Add(1)
		go func() { defer readers.Done(); countAnswers(conn, &answers) }()
	}
	var sent atomic.Int64
	start, stop := make(chan struct{}), make(chan struct{})
	var senders sync.WaitGroup
	for _, conn := range conns {
		senders.Add(1)
		go func() { defer senders.Done(); <-start; floodHistory(conn, &sent, stop) }()
	}
	peak := atomic.Int64{}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		<-start
		for {
			peak.Store(max(peak.Load(), int64(lastingGoroutines())))
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // logins and their replays settle
	baseline := lastingGoroutines()    // the test's own goroutines are all started
	close(start)
	for i := range floodProbes {
		p, _ := s.LoginQuery(t, fmt.Sprint("Probe", i), optIn())
		p.ExpectWhere("the replay's last message", func(m map[string]any) bool { return m["text"] == "seed 29" })
		cid := fmt.Sprint("probe", i)
		p.Send(map[string]any{"text": "mine", "clientMsgId": cid})
		p.ExpectWhere("its own line", func(m map[string]any) bool { return m["action"] == "PublicMessage" && m["clientMsgId"] == cid })
		p.Conn.Close()
	}
	time.Sleep(floodDuration)
	close(stop)
	senders.Wait()
	<-sampled
	chattest.Eventually(t, 10*time.Second, "every History request answered", func() bool {
		return answers.history.Load()+answers.busy.Load()+answers.limited.Load() == sent.Load()
	})
	if got := peak.Load(); got >= int64(baseline+64) {
		t.Fatalf("goroutines peaked at %d during the flood, baseline %d: want under baseline + 64", got, baseline)
	}
	if answers.busy.Load() == 0 || answers.history.Load() == 0 || answers.other.Load() != 0 {
		t.Fatalf("answers: %d History, %d busy, %d rate_limited, %d other; want History and busy only (and rate_limited)",
			answers.history.Load(), answers.busy.Load(), answers.limited.Load(), answers.other.Load())
	}
	t.Logf("%d requests: %d History, %d busy, %d rate_limited; goroutines %d at the start, peak %d",
		sent.Load(), answers.history.Load(), answers.busy.Load(), answers.limited.Load(), baseline, peak.Load())
}

// lastingGoroutines counts the goroutines, less the two the history's driver starts
// for each query with a deadline (database/sql's and modernc's watchers of its
// context) and those not yet started: they end with their query, but on a busy
// 2-core machine dozens at once wait to be scheduled, which failed the count half
// the time. A goroutine per request would run and wait in frames of its own.
func lastingGoroutines() int {
	var dump strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&dump, 1)
	n := 0
	_, groups, _ := strings.Cut(dump.String(), "\n") // after the total's line
	for _, group := range strings.Split(groups, "\n\n") {
		header, stack, _ := strings.Cut(group, "\n")
		count, _, _ := strings.Cut(header, " ")
		k, err := strconv.Atoi(count)
		if err != nil || !strings.Contains(stack, "#") ||
			strings.Contains(stack, "modernc.org/sqlite.interruptOnDone") || strings.Contains(stack, "database/sql.(*Rows).awaitDone") {
			continue
		}
		n += k
	}
	return n
}

// floodHistory sends History requests at the costly class's allowed rate: the burst
// in one write, then one every floodEvery, until stop.
func floodHistory(conn *websocket.Conn, sent *atomic.Int64, stop <-chan struct{}) {
	req, _ := json.Marshal(map[string]any{"action": "History", "roomId": "lobby", "limit": 100})
	burst := bytes.Repeat(enginetest.MaskedFrame(websocket.TextMessage, req), floodBurst)
	if _, err := conn.UnderlyingConn().Write(burst); err != nil {
		return
	}
	sent.Add(floodBurst)
	for {
		select {
		case <-stop:
			return
		case <-time.After(floodEvery):
		}
		if _, err := conn.UnderlyingConn().Write(enginetest.MaskedFrame(websocket.TextMessage, req)); err != nil {
			return
		}
		sent.Add(1)
	}
}

func countAnswers(conn *websocket.Conn, a *floodAnswers) {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var m struct{ Action, Code string }
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch {
		case m.Action == "History":
			a.history.Add(1)
		case m.Action == "Error" && m.Code == "busy":
			a.busy.Add(1)
		case m.Action == "Error" && m.Code == "rate_limited":
			a.limited.Add(1)
		case m.Action == "Error":
			a.other.Add(1)
		}
	}
}
