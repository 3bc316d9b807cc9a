package loadgen

import "encoding/json"

// Frame is one server frame, with the keys the bench reads. Every frame is parsed into
// it; a frame that is not a JSON object counts as ErrKindBadFrame.
type Frame struct {
	Action   string `json:"action"`
	UserID   uint64 `json:"userId"`
	UserName string `json:"userName"`
	Text     string `json:"text"`
	ToUserID uint64 `json:"toUserId"`
	Code     string `json:"code"` // Error frames
	// chatd's additions: the room and seq of a stored message, the sender's id of a
	// message (echoed in Sent).
	RoomID      string `json:"roomId"`
	Seq         uint64 `json:"seq"`
	ClientMsgID string `json:"clientMsgId"`
	Users       []struct {
		UserID uint64 `json:"userId"`
	} `json:"users"` // Authorized
}

var pongJSON = []byte(`{"action":"Pong"}`)

// parseFrame decodes data into f, which must be zero.
func parseFrame(data []byte, f *Frame) error {
	return json.Unmarshal(data, f)
}
