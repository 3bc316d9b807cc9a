package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Inbound is one decoded client frame. Only the keys the protocol defines survive
// decoding: unknown keys are dropped here, so they are never relayed to others.
type Inbound struct {
	Action   string // "" for a chat line, as the Qt client sends it
	Text     string
	ToUserID uint64 // 0 means public
	Event    string // seed 001's heartbeat: {"event":"heartBeat","content":"ping"}
	Content  string

	// chatd's additions (docs/PROTOCOL.md). All optional: the Qt client sends none.
	RoomID      string // "" means DefaultRoomID for a chat line
	ClientMsgID string // the sender's id for a chat line, for Sent and idempotent resends
	FileID      string // a chat line's upload (POST /api/files), which it carries
	Seq         uint64 // Ack: the highest contiguous seq received
	Before      uint64 // History: messages with seq < Before (0: the newest)
	Limit       uint64 // History, Users and Rooms: page size (0: the server's default)
	Offset      uint64 // Users: members to skip; Rooms: rooms to skip
}

// IsChat reports whether the frame is a chat line (no action, or ActionMessage).
func (in *Inbound) IsChat() bool { return in.Action == "" || in.Action == ActionMessage }

// IsHeartbeatPing reports whether the frame is seed 001's heartbeat ping.
func (in *Inbound) IsHeartbeatPing() bool {
	return in.Action == "" && in.Event == HeartbeatEvent && in.Content == HeartbeatPing
}

// userID accepts a JSON number or a numeric string: the seed's server cast whatever came
// with (int), and other clients send ids as strings.
type userID uint64

func (u *userID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*u = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return errBadUserID
	}
	*u = userID(n)
	return nil
}

var errBadUserID = errors.New("toUserId must be a non-negative integer")

// count is seq, before, limit or offset: a JSON number or numeric string, like userID.
type count uint64

func (n *count) UnmarshalJSON(b []byte) error {
	var u userID
	if err := u.UnmarshalJSON(b); err != nil {
		return errBadCount
	}
	*n = count(u)
	return nil
}

var errBadCount = errors.New("seq, before, limit and offset must be non-negative integers")

type wireInbound struct {
	Action   string `json:"action"`
	Text     string `json:"text"`
	ToUserID userID `json:"toUserId"`
	Event    string `json:"event"`
	Content  string `json:"content"`

	RoomID      string `json:"roomId"`
	ClientMsgID string `json:"clientMsgId"`
	FileID      string `json:"fileId"`
	Seq         count  `json:"seq"`
	Before      count  `json:"before"`
	Limit       count  `json:"limit"`
	Offset      count  `json:"offset"`
}

// Decode parses one client frame. It never panics; every failure is an *Error whose
// Code tells the client what was wrong. The hand-written scanner takes the frames it
// decodes exactly as encoding/json would; the rest, errors included, go to decodeStd.
func Decode(data []byte) (Inbound, *Error) {
	if in, ok := scanInbound(data); ok {
		return in, nil
	}
	return decodeStd(data)
}

// decodeStd is the complete decoder, encoding/json into wireInbound: the semantics the
// scanner follows, and the wording of every decoding error.
func decodeStd(data []byte) (Inbound, *Error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if json.Valid(data) {
			return Inbound{}, errorf(CodeNotObject, "a message must be a JSON object")
		}
		return Inbound{}, errorf(CodeBadJSON, "the message is not valid JSON")
	}
	var w wireInbound
	if err := json.Unmarshal(data, &w); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return Inbound{}, errorf(CodeBadField, "%q must be a %s", typeErr.Field, typeErr.Type.String())
		case errors.Is(err, errBadUserID):
			return Inbound{}, errorf(CodeBadField, "%v", errBadUserID)
		case errors.Is(err, errBadCount):
			return Inbound{}, errorf(CodeBadField, "%v", errBadCount)
		default:
			return Inbound{}, errorf(CodeBadJSON, "the message is not valid JSON")
		}
	}
	return w.inbound(), nil
}

func (w *wireInbound) inbound() Inbound {
	return Inbound{
		Action: w.Action, Text: w.Text, ToUserID: uint64(w.ToUserID), Event: w.Event, Content: w.Content,
		RoomID: w.RoomID, ClientMsgID: w.ClientMsgID, FileID: w.FileID,
		Seq: uint64(w.Seq), Before: uint64(w.Before), Limit: uint64(w.Limit), Offset: uint64(w.Offset),
	}
}

// DecodeUserIDs reads the optional "userIds" array of a Users request (kept out of
// Inbound so that Inbound stays comparable). Call it after Decode accepted data.
func DecodeUserIDs(data []byte) ([]uint64, *Error) {
	var w struct {
		UserIDs []userID `json:"userIds"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, errorf(CodeBadField, "userIds must be an array of user ids")
	}
	ids := make([]uint64, len(w.UserIDs))
	for i, id := range w.UserIDs {
		ids[i] = uint64(id)
	}
	return ids, nil
}
