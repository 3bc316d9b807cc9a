package loadgen

import (
	"fmt"

	"github.com/valyala/fastjson"
)

// Frame is one server frame, with the keys the bench reads. Every frame is parsed
// (and so validated) whole; a frame that is not a JSON object counts as
// ErrKindBadFrame.
type Frame struct {
	Action   string
	UserID   uint64
	UserName string
	Text     string
	ToUserID uint64
	Code     string // Error frames
	// chatd's additions: the room and seq of a stored message, the sender's id of a
	// message (echoed in Sent).
	RoomID      string
	Seq         uint64
	ClientMsgID string
	Users       int // entries in Authorized's user list
	// Authorized of an opt-in client: its resume token, and whether it resumed.
	ResumeToken string
	Resumed     bool
}

var pongJSON = []byte(`{"action":"Pong"}`)

// parsers: encoding/json cost chatbench about 10 µs of CPU per frame, so at 100k
// deliveries/s the simulated clients competed with the server under test for the same
// two cores. fastjson parses the whole frame too, about ten times cheaper.
var parsers fastjson.ParserPool

// parseFrame decodes data into f, which must be zero.
func parseFrame(data []byte, f *Frame) error {
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(data)
	if err != nil {
		return err
	}
	o, err := v.Object()
	if err != nil {
		return fmt.Errorf("frame is not a JSON object: %w", err)
	}
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "action":
			f.Action = stringOf(v)
		case "userId":
			f.UserID = v.GetUint64()
		case "userName":
			f.UserName = stringOf(v)
		case "text":
			f.Text = stringOf(v)
		case "toUserId":
			f.ToUserID = v.GetUint64()
		case "code":
			f.Code = stringOf(v)
		case "roomId":
			f.RoomID = stringOf(v)
		case "seq":
			f.Seq = v.GetUint64()
		case "clientMsgId":
			f.ClientMsgID = stringOf(v)
		case "resumeToken":
			f.ResumeToken = stringOf(v)
		case "resumed":
			f.Resumed = v.GetBool()
		case "users":
			f.Users = len(v.GetArray())
		}
	})
	return nil
}

// stringOf copies a string value out of the parser's memory (the parser is reused).
func stringOf(v *fastjson.Value) string {
	b, err := v.StringBytes()
	if err != nil {
		return ""
	}
	return string(b)
}
