package cluster

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/engine/store"
)

// wireLine is a line's body in the lines stream: JSON of everything store.Message
// holds but its seq, which is the header Chatd-Seq (set by AppendLine, so a line
// renumbered after a lost race is not encoded again). clientMsgId and userId are in
// it so that every node can fill its dedupe table from the lines it consumes; conn
// matters only to the node that sent the line (its Msg-Id says which), for Sent.
type wireLine struct {
	Room        string `json:"room"`
	TS          int64  `json:"ts"`
	UserID      uint64 `json:"userId"`
	UserName    string `json:"userName"`
	Gender      int    `json:"gender,omitempty"`
	Color       string `json:"color,omitempty"`
	ToUserID    uint64 `json:"toUserId,omitempty"`
	Text        string `json:"text"`
	ClientMsgID string `json:"clientMsgId,omitempty"`
	File        string `json:"file,omitempty"`
	ReplyTo     string `json:"replyTo,omitempty"`
	ReplySeq    uint64 `json:"replySeq,omitempty"`
	EditedAt    int64  `json:"editedAt,omitempty"`
	Deleted     bool   `json:"deleted,omitempty"`
	Conn        uint64 `json:"conn,omitempty"`
}

// encodeLine is m's stream body.
func encodeLine(m *store.Message) ([]byte, error) {
	data, err := json.Marshal(wireLine{
		Room: m.Room, TS: m.TS, UserID: m.UserID, UserName: m.UserName, Gender: m.Gender,
		Color: m.Color, ToUserID: m.ToUserID, Text: m.Text, ClientMsgID: m.ClientMsgID,
		File: m.File, ReplyTo: m.ReplyTo, ReplySeq: m.ReplySeq, EditedAt: m.EditedAt,
		Deleted: m.Deleted, Conn: m.Conn,
	})
	if err != nil {
		return nil, fmt.Errorf("encode line of %s: %w", m.Room, err)
	}
	return data, nil
}

// decodeLine is the line a stream message carries, with its final seq. The subject
// must be the room's: a body naming another room is refused, not filed there.
func decodeLine(subject string, h nats.Header, data []byte) (store.Message, error) {
	var w wireLine
	if err := json.Unmarshal(data, &w); err != nil {
		return store.Message{}, fmt.Errorf("decode line on %s: %w", subject, err)
	}
	if Subject(w.Room) != subject {
		return store.Message{}, fmt.Errorf("line of room %q on subject %s", w.Room, subject)
	}
	seq, err := strconv.ParseUint(h.Get(HeaderSeq), 10, 64)
	if err != nil || seq == 0 {
		return store.Message{}, fmt.Errorf("line on %s: bad %s header %q", subject, HeaderSeq, h.Get(HeaderSeq))
	}
	return store.Message{
		Room: w.Room, Seq: seq, TS: w.TS, UserID: w.UserID, UserName: w.UserName, Gender: w.Gender,
		Color: w.Color, ToUserID: w.ToUserID, Text: w.Text, ClientMsgID: w.ClientMsgID,
		File: w.File, ReplyTo: w.ReplyTo, ReplySeq: w.ReplySeq, EditedAt: w.EditedAt,
		Deleted: w.Deleted, Conn: w.Conn,
	}, nil
}
