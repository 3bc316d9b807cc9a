package protocol

import "strconv"

// Read markers (accounts only): how far an account has read each room.
const (
	ActionRead       = "Read"       // client: {"action":"Read","roomId":"x","seq":N}, read up to seq
	ActionReadMarker = "ReadMarker" // server: an account's read position moved (to its other connections)
)

// AppendReadMarker writes ReadMarker.
func AppendReadMarker(dst []byte, roomID string, seq uint64) []byte {
	dst = append(dst, `{"action":"ReadMarker","roomId":`...)
	dst = AppendString(dst, roomID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, '}')
}

// NoUnread marks a RoomCount or MemberPage that carries no "unread" (the user is not
// an account, or not in the room).
const NoUnread = -1
