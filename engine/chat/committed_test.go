package chat

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
)

// TestEchoAndSentLeaveInOneWrite: a sender alone in its room gets each durable
// line's echo and its Sent in the same write, one write per commit at most, in the
// order echo, Sent, line after line.
func TestEchoAndSentLeaveInOneWrite(t *testing.T) {
	for _, lines := range []int{1, 5} {
		t.Run(fmt.Sprint(lines, " lines"), func(t *testing.T) {
			f := newFixture(t, testConfig(fast), withHistory(t, sqlite(t)))
			a, _ := f.login("a", nil)
			join(a, "solo")
			a.unread()
			writes, frames, commits := a.Writes(), len(a.Frames()), f.commits()
			for i := range lines {
				f.h.W.Receive(a.Conn, engine.Message{Data: fmt.Appendf(nil, `{"text":"line %d","roomId":"solo","clientMsgId":"c%d"}`, i, i)})
			}
			for i := range lines {
				a.expectWhere("Sent c"+fmt.Sprint(i), func(m map[string]any) bool { return m["action"] == "Sent" && m["clientMsgId"] == fmt.Sprint("c", i) })
			}
			got := a.Messages()[frames:]
			if len(got) != 2*lines {
				t.Fatalf("%d frames after %d lines, want %d: %v", len(got), lines, 2*lines, got)
			}
			for i := range lines {
				echo, sent := got[2*i], got[2*i+1]
				if echo["action"] != "PublicMessage" || echo["clientMsgId"] != fmt.Sprint("c", i) || sent["action"] != "Sent" || sent["seq"] != echo["seq"] {
					t.Fatalf("frames %d, %d are %v, %v; want line %d's echo then its Sent", 2*i, 2*i+1, echo, sent, i)
				}
			}
			w, c := uint64(a.Writes()-writes), f.commits()-commits
			if w < 1 || w > c || lines == 1 && w != 1 {
				t.Fatalf("%d lines took %d writes over %d commits; want one write per commit at most", lines, w, c)
			}
		})
	}
}

// commits is how many commits with messages the chat has delivered.
func (f *fixture) commits() uint64 {
	var n uint64
	f.h.Do(func() { n = f.ch.counters.commits })
	return n
}

// TestKeptFramesAreNotReused: a committed message's frame is reused for the next one
// only when no recipient kept it. An ack=1 member keeps every frame for resends, and
// each resend must still be the message it was; a seed member next to it gets every
// message intact.
func TestKeptFramesAreNotReused(t *testing.T) {
	now := time.Unix(1000, 0)
	f := newFixture(t, testConfig(fast), withHistory(t, sqlite(t)), stepClock(&now))
	acker, _ := f.login("acker", optIn("ack", "1"))
	seed, _ := f.login("seed", nil)
	sender, _ := f.login("sender", nil)
	for _, c := range []*client{acker, seed, sender} {
		join(c, "r")
	}
	texts := []string{"one", "two, a longer line than the first", "3"}
	var delivered [][]byte
	for _, text := range texts {
		sender.send(map[string]any{"text": text, "roomId": "r"})
		acker.expectWhere("line "+text, func(m map[string]any) bool { return isMsg("r")(m) && m["text"] == text })
		seed.expectWhere("line "+text, func(m map[string]any) bool { return isMsg("r")(m) && m["text"] == text })
		frames := acker.Frames()
		delivered = append(delivered, frames[len(frames)-1].Payload)
	}
	before := len(acker.Frames())
	f.h.Do(func() { now = now.Add(2 * time.Hour); f.ch.resendUnacked() })
	resent := acker.Frames()[before:]
	if len(resent) != len(texts) {
		t.Fatalf("%d frames resent, want %d", len(resent), len(texts))
	}
	for i, fr := range resent {
		if !bytes.Equal(fr.Payload, delivered[i]) {
			t.Fatalf("resend %d is %s, want %s as delivered", i, fr.Payload, delivered[i])
		}
	}
}

// TestOfflineSenderFieldsAreEncoded: a line committed after its sender left is
// delivered with the sender's fields all the same (encoded from the stored row, as
// there is no user to take them from).
func TestOfflineSenderFieldsAreEncoded(t *testing.T) {
	f := newFixture(t, testConfig(fast))
	reader, _ := f.login("reader", nil)
	join(reader, "r")
	f.h.Do(func() {
		s := f.ch.stream("r")
		s.assigned++
		m := store.Message{Room: "r", Seq: s.assigned, TS: 1, UserID: 999, UserName: "Вася", Gender: 2, Color: "#34495e", Text: "after she left"}
		f.ch.committed([]store.Message{m}, nil) // user 999 is not online
	})
	got := reader.expectWhere("the line", isMsg("r"))
	if got["userName"] != "Вася" || got["userColor"] != "#34495e" || num(t, got, "gender") != 2 || num(t, got, "userId") != 999 || got["text"] != "after she left" {
		t.Fatalf("line from an offline sender is %v", got)
	}
}
