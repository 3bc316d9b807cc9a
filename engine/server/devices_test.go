package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
)

// One account on several devices is one user (issue 14, item 4): over real sockets,
// a second connection of an account does not replace the first; others hear of the
// account once when its first device comes and once when its last leaves; every line
// reaches every device, Sent only the one that sent it; rooms and read positions are
// the account's.

// connections is the server's open connection count from /status.
func connections(t *testing.T, s *chattest.Server) float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr + "/status")
	if err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode /status: %v", err)
	}
	n, _ := st["connections"].(float64)
	return n
}

// presenceOf reads bob's frames up to the public line text and returns the actions
// about userID it saw meanwhile (Connected, Disconnected, ConnectionLost).
func presenceOf(t *testing.T, bob *chattest.Client, userID any, text string) []string {
	t.Helper()
	var seen []string
	bob.ExpectWhere("line "+text, func(m map[string]any) bool {
		if m["userId"] == userID && m["action"] != "PublicMessage" {
			seen = append(seen, fmt.Sprint(m["action"]))
		}
		return m["action"] == "PublicMessage" && m["text"] == text
	})
	return seen
}

func TestAccountOnSeveralDevicesIsOneUser(t *testing.T) {
	s := chattest.Start(t)
	bob, _ := s.Login(t, "Bob") // the seed's presence: Connected and Disconnected
	tok, _ := newAPI(t, s, "").register("Gil", "gils password")
	phone, auth := dialToken(t, s, tok)
	id := auth["userId"]
	laptop, auth2 := dialToken(t, s, tok)
	if auth2["userId"] != id || auth2["account"] != true || auth2["userName"] != "Gil" {
		t.Fatalf("second device: %v", auth2)
	}

	bob.Send(map[string]any{"text": "marker 1"})
	if got := presenceOf(t, bob, id, "marker 1"); len(got) != 1 || got[0] != "Connected" {
		t.Fatalf("two devices: Bob saw %v about Gil, want one Connected", got)
	}

	cid := "from-phone"
	phone.Send(map[string]any{"text": "hello", "clientMsgId": cid})
	phone.ExpectWhere("Sent", func(m map[string]any) bool { return m["action"] == "Sent" && m["clientMsgId"] == cid })
	var laptopSent bool
	laptop.ExpectWhere("the phone's line", func(m map[string]any) bool {
		laptopSent = laptopSent || m["action"] == "Sent"
		return m["action"] == "PublicMessage" && m["text"] == "hello"
	})
	laptop.Send(map[string]any{"text": "from the laptop", "clientMsgId": "from-laptop"})
	laptop.ExpectWhere("its own Sent", func(m map[string]any) bool {
		if m["action"] == "Sent" && m["clientMsgId"] == cid {
			laptopSent = true
		}
		return m["action"] == "Sent" && m["clientMsgId"] == "from-laptop"
	})
	if laptopSent {
		t.Fatal("the laptop got the Sent of the phone's line")
	}

	bob.Send(map[string]any{"text": "psst", "toUserId": id})
	for _, d := range []*chattest.Client{phone, laptop} {
		if m := d.Expect("PrivateMessage"); m["text"] != "psst" {
			t.Fatalf("private line: %v", m)
		}
	}

	phone.Conn.Close()
	chattest.Eventually(t, 5*time.Second, "the phone's close", func() bool { return connections(t, s) == 2 })
	bob.Send(map[string]any{"text": "marker 2"})
	if got := presenceOf(t, bob, id, "marker 2"); len(got) != 0 {
		t.Fatalf("one of two devices left: Bob saw %v about Gil", got)
	}
	if m := laptop.ExpectWhere("marker 2", func(m map[string]any) bool { return m["text"] == "marker 2" }); m["action"] != "PublicMessage" {
		t.Fatalf("the laptop after the phone left: %v", m)
	}
	laptop.Conn.Close()
	bob.ExpectWhere("Disconnected Gil", func(m map[string]any) bool { return m["action"] == "Disconnected" && m["userId"] == id })
}

// TestAccountDevicesShareRoomsAndReads: a join or a leave on one device is done on
// all of them, a device that arrives later rejoins the account's rooms, and a Read on
// one sends ReadMarker to the others.
func TestAccountDevicesShareRoomsAndReads(t *testing.T) {
	s := chattest.Start(t)
	tok, _ := newAPI(t, s, "").register("Hal", "hals password")
	a, _ := dialToken(t, s, tok)
	b, _ := dialToken(t, s, tok)

	a.Send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	for _, d := range []*chattest.Client{a, b} {
		if m := d.Expect("RoomJoined"); m["roomId"] != "dev" || m["count"] != float64(1) {
			t.Fatalf("RoomJoined on both devices, counted once: %v", m)
		}
	}
	c, _ := dialToken(t, s, tok) // a new device while the others are online: it roams too
	if m := c.Expect("RoomJoined"); m["roomId"] != "dev" || m["count"] != float64(1) {
		t.Fatalf("a third device rejoins the account's rooms: %v", m)
	}
	c.Conn.Close()
	bob, _ := s.LoginQuery(t, "Bob", editOptIn)
	bob.Send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	if m := bob.Expect("RoomJoined"); m["count"] != float64(2) {
		t.Fatalf("Hal on two devices and Bob: %v, want count 2", m)
	}
	seq := sendTagged(t, bob, map[string]any{"text": "news", "roomId": "dev"})
	for _, d := range []*chattest.Client{a, b} {
		d.ExpectWhere("news", func(m map[string]any) bool { return m["text"] == "news" })
	}

	a.Send(map[string]any{"action": "Read", "roomId": "dev", "seq": seq})
	if m := b.Expect("ReadMarker"); m["roomId"] != "dev" || m["seq"] != seq {
		t.Fatalf("ReadMarker: %v, want dev %v", m, seq)
	}
	a.Send(map[string]any{"action": "Rooms"}) // the device that read gets no ReadMarker
	if m := a.ExpectWhere("Rooms or ReadMarker", func(m map[string]any) bool {
		return m["action"] == "Rooms" || m["action"] == "ReadMarker"
	}); m["action"] != "Rooms" {
		t.Fatalf("the reading device: %v", m)
	}

	b.Send(map[string]any{"action": "LeaveRoom", "roomId": "dev"})
	for _, d := range []*chattest.Client{a, b} {
		if m := d.Expect("RoomLeft"); m["roomId"] != "dev" {
			t.Fatalf("RoomLeft: %v", m)
		}
	}
	a.Send(map[string]any{"text": "still here?", "roomId": "dev"})
	if e := a.Expect("Error"); e["code"] != "not_in_room" {
		t.Fatalf("after a leave on the other device: %v", e)
	}
}

// TestAccountDeviceLimit: past 8 connections the oldest is replaced (4002).
func TestAccountDeviceLimit(t *testing.T) {
	s := chattest.Start(t)
	tok, _ := newAPI(t, s, "").register("Ida", "idas password")
	oldest, _ := dialToken(t, s, tok)
	for range 7 {
		dialToken(t, s, tok)
	}
	newest, m := dialToken(t, s, tok)
	if m["action"] != "Authorized" {
		t.Fatalf("the 9th: %v", m)
	}
	expectClose(t, oldest, 4002)
	newest.Send(map[string]any{"text": "ninth"})
	newest.ExpectWhere("ninth", func(m map[string]any) bool { return m["text"] == "ninth" })
}
