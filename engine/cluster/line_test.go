package cluster

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/engine/store"
)

// TestLineRoundTrip: a line's body and its Chatd-Seq header give back every field of
// store.Message; a body on another room's subject, or without a seq, is refused.
func TestLineRoundTrip(t *testing.T) {
	m := store.Message{Room: "a.b", Seq: 7, TS: 1700000000000, UserID: 3, UserName: "Вася", Gender: 2,
		Color: "#abc", ToUserID: 9, Text: "hi <b>", ClientMsgID: "c1", File: `{"id":"x"}`,
		ReplyTo: "quote", ReplySeq: 5, EditedAt: 1700000000001, Deleted: true, Conn: 42}
	data, err := encodeLine(&m)
	if err != nil {
		t.Fatal(err)
	}
	h := nats.Header{}
	h.Set(HeaderSeq, "7")
	got, err := decodeLine(Subject(m.Room), h, data)
	if err != nil || got != m {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, m)
	}
	if _, err := decodeLine(Subject("lobby"), h, data); err == nil {
		t.Fatal("a line of a.b on lobby's subject was accepted")
	}
	if _, err := decodeLine(Subject(m.Room), nats.Header{}, data); err == nil {
		t.Fatal("a line without a seq was accepted")
	}
}
