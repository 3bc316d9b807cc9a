package engine

// Handler is what a Worker runs: Workerman's callbacks. Every method runs on the owner
// goroutine, one at a time, in the order the events happened; none may block.
type Handler interface {
	// OnWorkerStart runs once, before the first connection is accepted. Timers are
	// usually added here.
	OnWorkerStart(w *Worker)
	// OnConnect runs when a connection has become a WebSocket, right before
	// OnWebSocketConnect. Plain HTTP requests never reach the Handler.
	OnConnect(c *Conn)
	// OnWebSocketConnect gets the handshake: path, query parameters and headers.
	OnWebSocketConnect(c *Conn, r *Request)
	// OnMessage gets one complete message. data stays valid after the call.
	OnMessage(c *Conn, m Message)
	// OnClose runs once per connection, whoever closed it, with the reason.
	OnClose(c *Conn, reason CloseReason)
	// OnWorkerStop runs once when the worker stops, before connections are closed.
	OnWorkerStop(w *Worker)
}

// Message is one WebSocket data message.
type Message struct {
	Data   []byte
	Binary bool // a BINARY frame; otherwise TEXT (valid UTF-8, checked by the engine)
}

// StatsReporter is an optional Handler method: figures merged into /status. It runs
// on the owner.
type StatsReporter interface {
	Stats() map[string]any
}

// SharedMessages is an optional Handler method, read once by New: a message whose
// payload is exactly one of these reaches OnMessage as that very slice, shared by every
// connection and read-only, instead of a copy. It is for the answers every client
// sends all the time: the chat's heartbeat Pong, from every client every
// --ping-interval, was an idle server's only steady garbage (24 bytes a connection a
// sweep: 2.9 MB in 40 s at 15,000 connections).
type SharedMessages interface {
	SharedMessages() [][]byte
}

// NopHandler implements every Handler method as a no-op, for embedding.
type NopHandler struct{}

func (NopHandler) OnWorkerStart(*Worker)              {}
func (NopHandler) OnConnect(*Conn)                    {}
func (NopHandler) OnWebSocketConnect(*Conn, *Request) {}
func (NopHandler) OnMessage(*Conn, Message)           {}
func (NopHandler) OnClose(*Conn, CloseReason)         {}
func (NopHandler) OnWorkerStop(*Worker)               {}
