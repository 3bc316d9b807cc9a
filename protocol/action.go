package protocol

// Actions the server sends. The first eight are the seed's; Error is chatd's.
const (
	ActionAuthorized     = "Authorized"
	ActionConnected      = "Connected"
	ActionDisconnected   = "Disconnected"
	ActionConnectionLost = "ConnectionLost"
	ActionPing           = "Ping"
	ActionPublicMessage  = "PublicMessage"
	ActionPrivateMessage = "PrivateMessage"
	ActionError          = "Error"

	// chatd's additions (docs/PROTOCOL.md); the Qt client ignores them.
	ActionRoomJoined = "RoomJoined" // answer to JoinRoom (and rooms restored by resume)
	ActionRoomLeft   = "RoomLeft"   // answer to LeaveRoom
	ActionRooms      = "Rooms"      // answer to Rooms: rooms and their online counts
	ActionUsers      = "Users"      // answer to Users: one page of a room's members
	ActionHistory    = "History"    // answer to History: one page of older messages
	ActionPresence   = "Presence"   // joins and leaves in rooms, per room, with counts
	ActionSent       = "Sent"       // a message with clientMsgId is durably stored
)

// Actions a client sends. A chat line has no action at all (the Qt client's way), or
// the explicit ActionMessage.
const (
	ActionPong    = "Pong"
	ActionMessage = "Message"

	ActionJoinRoom  = "JoinRoom"
	ActionLeaveRoom = "LeaveRoom"
	ActionAck       = "Ack"
	// Rooms, Users and History are both the request and the answer's action.
)

// DefaultRoomID is the room every user is in and cannot leave: the seed's one chat,
// where the Qt client lives. A chat line without roomId goes here.
const DefaultRoomID = "lobby"

// MaxClientMsgID is the longest clientMsgId accepted, in bytes.
const MaxClientMsgID = 64

// Seed 001's heartbeat, answered as its Node server does.
const (
	HeartbeatEvent = "heartBeat"
	HeartbeatPing  = "ping"
	HeartbeatPong  = "pong"
)

// Gender values as the seed defines them; anything else is GenderUnknown.
const (
	GenderUnknown = 0
	GenderMale    = 1
	GenderFemale  = 2
)

// NotDeliveredText is the seed's text for a private message whose recipient is not
// online; the Qt client shows it to the sender as-is.
const NotDeliveredText = "Не удалось отправить сообщение выбранному пользователю"
