// Package engine is chatd's event loop and WebSocket layer: nbio pollers accept
// connections and read them without a goroutine per connection; the engine parses
// each request head (handshake.go) and each WebSocket frame (wsreader.go) itself,
// through a session in nbio's parser slot (session.go), and hands every event to a
// Worker that calls a Handler the way Workerman calls its callbacks. nbio keeps the
// epoll poller, non-blocking writes, TLS and the plain HTTP routes.
//
// # Concurrency
//
// A connection's bytes are parsed on its poller, in order. The Worker turns the
// events into Workerman's single-worker model: every Handler callback and every timer
// runs on one goroutine, the owner, in the order the events arrived. A Handler
// therefore needs no locks, and must never block: no disk, no network, no sleeping.
// Conn methods are owner-only too, except where documented. Pongs and the answer to a
// peer's close frame are written by the poller.
//
// Frames a callback sends are appended to the connection's pending buffer and written
// when the owner finishes its current batch of events, so a burst of frames to one
// connection costs one write. Every byte queued for a connection counts against its
// write budget (--max-write-buffer), and all of them against --max-total-write-buffer
// (budget.go).
package engine
