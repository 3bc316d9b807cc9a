package server_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/gorilla/websocket"
)

// roomsFlood is the scale of TestRoomsFloodKeepsChatting. The defaults keep the test
// small; CHATD_ROOMS_FLOOD="ROOMS CLIENTS SECONDS [LIMIT]" runs it at the scale
// ("10000 50 10") and logs the chatter's round trips (measured, never asserted).
// LIMIT is the page asked for: 1000 (the default) is the largest, 0 sends plain Rooms.
type roomsFlood struct{ rooms, askers, seconds, limit int }

func roomsFloodScale(t *testing.T) roomsFlood {
	sc := roomsFlood{rooms: 400, askers: 8, seconds: 2, limit: roomsMaxPage}
	if env := os.Getenv("CHATD_ROOMS_FLOOD"); env != "" {
		fields := []*int{&sc.rooms, &sc.askers, &sc.seconds, &sc.limit}
		for i, f := range strings.Fields(env) {
			n, err := strconv.Atoi(f)
			if err != nil || i >= len(fields) || n < 0 {
				t.Fatalf("CHATD_ROOMS_FLOOD=%q: want \"ROOMS CLIENTS SECONDS [LIMIT]\"", env)
			}
			*fields[i] = n
		}
	}
	return sc
}

// page is how many rooms one answer has.
func (sc roomsFlood) page() int {
	if sc.limit == 0 {
		return min(sc.rooms+1, 100) // the default page
	}
	return min(sc.rooms+1, sc.limit, roomsMaxPage)
}

// The costly budget (engine/chat/limit.go): Rooms 2 a second, a burst of 10.
const (
	roomsBurst    = 10
	roomsInterval = 500 * time.Millisecond
	roomsMaxPage  = 1000
)

// TestRoomsFloodKeepsChatting: while clients ask Rooms at their allowed rate for the
// largest page, with many rooms, every ask is answered with at most the page it may
// have and the right total, and another user's every chat line comes back to it.
func TestRoomsFloodKeepsChatting(t *testing.T) {
	sc := roomsFloodScale(t)
	s := chattest.Start(t, func(c *server.Config) {
		c.Chat.MaxRoomsPerUser = sc.rooms
		c.Chat.RateLimit, c.Chat.RateBurst = 1e6, 1<<20 // the maker joins fast
	})
	makeRooms(t, s, sc.rooms)
	chatter, _ := s.Login(t, "Chatter")
	askers := make([]*chattest.Client, sc.askers)
	for i := range askers {
		askers[i], _ = s.Login(t, fmt.Sprintf("Asker%d", i))
	}

	stop := time.Now().Add(time.Duration(sc.seconds) * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var pages, refused int
	var errs []error
	for _, a := range askers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, r, err := askRooms(a.Conn, stop, sc)
			mu.Lock()
			defer mu.Unlock()
			pages, refused = pages+p, refused+r
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	trips := chatUntil(t, chatter, stop)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if pages < roomsBurst*len(askers) {
		t.Errorf("%d pages answered, want at least the burst of %d for each of %d askers", pages, roomsBurst, len(askers))
	}
	if len(trips) == 0 {
		t.Fatal("the chatter got no line back")
	}
	slices.Sort(trips)
	t.Logf("%d rooms, %d clients asking Rooms (limit %d) for %ds: %d pages, %d refused; chatter's round trip over %d lines: p50 %v, p99 %v, max %v",
		sc.rooms, sc.askers, sc.limit, sc.seconds, pages, refused, len(trips), trips[len(trips)/2], trips[len(trips)*99/100], trips[len(trips)-1])
}

// makeRooms has one user join n rooms, a hundred joins at a time.
func makeRooms(t *testing.T, s *chattest.Server, n int) {
	t.Helper()
	maker, _ := s.Login(t, "Maker")
	for start := 0; start < n; start += 100 {
		end := min(n, start+100)
		for i := start; i < end; i++ {
			maker.Send(map[string]any{"action": "JoinRoom", "roomId": "room" + strconv.Itoa(i)})
		}
		for range end - start {
			maker.Expect("RoomJoined")
		}
	}
}

// askRooms sends the burst, then Rooms every roomsInterval until stop, each for the
// page sc asks for, and checks that every ask is answered: a page of the right length and
// total, or (when the owner's timing makes one come a little early) rate_limited.
// It returns the pages and refusals. A gorilla connection cannot read on after a
// deadline, so a goroutine reads and the asker counts what it reports.
func askRooms(conn *websocket.Conn, stop time.Time, sc roomsFlood) (pages, refused int, err error) {
	ask := []byte(`{"action":"Rooms","limit":` + strconv.Itoa(sc.limit) + `}`)
	if sc.limit == 0 {
		ask = []byte(`{"action":"Rooms"}`)
	}
	answers := make(chan roomsAnswer, roomsBurst+int(time.Until(stop)/roomsInterval)+2)
	var writing sync.Mutex // gorilla allows one writer at a time: the asks and the Pongs
	go readRooms(conn, &writing, sc, answers)
	asked := 0
	for ; time.Now().Before(stop); asked++ {
		writing.Lock()
		err := conn.WriteMessage(websocket.TextMessage, ask)
		writing.Unlock()
		if err != nil {
			return pages, refused, fmt.Errorf("ask %d: %w", asked+1, err)
		}
		if asked >= roomsBurst-1 {
			time.Sleep(roomsInterval)
		}
	}
	timeout := time.After(10 * time.Second)
	for pages+refused < asked {
		select {
		case a := <-answers:
			if a.err != nil {
				return pages, refused, fmt.Errorf("answer %d of %d: %w", pages+refused+1, asked, a.err)
			}
			if a.refused {
				refused++
			} else {
				pages++
			}
		case <-timeout:
			return pages, refused, fmt.Errorf("%d answers of %d after 10 s", pages+refused, asked)
		}
	}
	return pages, refused, nil
}

type roomsAnswer struct {
	refused bool
	err     error
}

// readRooms reports each answer to a Rooms ask. It stops at the first error (the
// test's end closes the connection).
func readRooms(conn *websocket.Conn, writing *sync.Mutex, sc roomsFlood, answers chan<- roomsAnswer) {
	total := sc.rooms + 1                 // and the lobby
	_ = conn.SetReadDeadline(time.Time{}) // Login's read left one
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			answers <- roomsAnswer{err: err}
			return
		}
		// Pages are up to 40 kB: counting entries, not decoding them, keeps the
		// clients' share of the CPU small beside the server's.
		switch {
		case bytes.HasPrefix(data, []byte(`{"action":"Rooms",`)):
			n := bytes.Count(data, []byte(`{"roomId":`))
			if n != sc.page() || !bytes.Contains(data, []byte(`,"total":`+strconv.Itoa(total)+`,`)) {
				answers <- roomsAnswer{err: fmt.Errorf("%d rooms in %.80q..., want %d of total %d", n, data, sc.page(), total)}
				continue
			}
			answers <- roomsAnswer{}
		case bytes.Contains(data, []byte(`"action":"Error"`)):
			if bytes.Contains(data, []byte(`"code":"rate_limited"`)) {
				answers <- roomsAnswer{refused: true}
				continue
			}
			answers <- roomsAnswer{err: fmt.Errorf("%s", data)}
		case bytes.Equal(data, []byte(`{"action":"Ping"}`)):
			writing.Lock()
			_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"action":"Pong"}`))
			writing.Unlock()
		}
	}
}

// chatUntil sends a line every 20 ms until stop, each once its previous one is back,
// and returns how long each took to come back to the sender.
func chatUntil(t *testing.T, c *chattest.Client, stop time.Time) []time.Duration {
	t.Helper()
	var trips []time.Duration
	for i := 0; time.Now().Before(stop); i++ {
		text := "line " + strconv.Itoa(i)
		sent := time.Now()
		c.Send(map[string]any{"text": text, "toUserId": 0})
		c.ExpectWhere("line "+text, func(m map[string]any) bool { return m["action"] == "PublicMessage" && m["text"] == text })
		trips = append(trips, time.Since(sent))
		time.Sleep(20 * time.Millisecond)
	}
	return trips
}
