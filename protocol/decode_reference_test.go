package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// decodeReference is Decode as it was before the hand-written scanner (encoding/json
// into a struct), frozen here with its own types so that FuzzDecodeEquivalence and
// the tests compare the fast decoder with what the server did, not with itself.
func decodeReference(data []byte) (Inbound, *Error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if json.Valid(data) {
			return Inbound{}, errorf(CodeNotObject, "a message must be a JSON object")
		}
		return Inbound{}, errorf(CodeBadJSON, "the message is not valid JSON")
	}
	var w refWireInbound
	if err := json.Unmarshal(data, &w); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return Inbound{}, errorf(CodeBadField, "%q must be a %s", typeErr.Field, typeErr.Type.String())
		case errors.Is(err, errRefBadUserID):
			return Inbound{}, errorf(CodeBadField, "%v", errRefBadUserID)
		case errors.Is(err, errRefBadCount):
			return Inbound{}, errorf(CodeBadField, "%v", errRefBadCount)
		default:
			return Inbound{}, errorf(CodeBadJSON, "the message is not valid JSON")
		}
	}
	return Inbound{
		Action: w.Action, Text: w.Text, ToUserID: uint64(w.ToUserID), Event: w.Event, Content: w.Content,
		RoomID: w.RoomID, ClientMsgID: w.ClientMsgID,
		Seq: uint64(w.Seq), Before: uint64(w.Before), Limit: uint64(w.Limit), Offset: uint64(w.Offset),
	}, nil
}

type refUserID uint64

func (u *refUserID) UnmarshalJSON(b []byte) error {
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
		return errRefBadUserID
	}
	*u = refUserID(n)
	return nil
}

var errRefBadUserID = errors.New("toUserId must be a non-negative integer")

type refCount uint64

func (n *refCount) UnmarshalJSON(b []byte) error {
	var u refUserID
	if err := u.UnmarshalJSON(b); err != nil {
		return errRefBadCount
	}
	*n = refCount(u)
	return nil
}

var errRefBadCount = errors.New("seq, before, limit and offset must be non-negative integers")

type refWireInbound struct {
	Action   string    `json:"action"`
	Text     string    `json:"text"`
	ToUserID refUserID `json:"toUserId"`
	Event    string    `json:"event"`
	Content  string    `json:"content"`

	RoomID      string   `json:"roomId"`
	ClientMsgID string   `json:"clientMsgId"`
	Seq         refCount `json:"seq"`
	Before      refCount `json:"before"`
	Limit       refCount `json:"limit"`
	Offset      refCount `json:"offset"`
}
