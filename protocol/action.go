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
)

// Actions a client sends. A chat line has no action at all (the Qt client's way), or
// the explicit ActionMessage.
const (
	ActionPong    = "Pong"
	ActionMessage = "Message"
)

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
