// Package engine is chatd's event loop: nbio pollers accept connections, parse HTTP and
// WebSocket frames without a goroutine per connection, and hand each event to a Worker
// that calls a Handler the way Workerman calls its callbacks.
//
// # Concurrency
//
// nbio runs frame handlers on a small pool, serialized per connection and parallel
// across connections. The Worker turns that into Workerman's single-worker model: every
// Handler callback and every timer runs on one goroutine, the owner, in the order the
// events arrived. A Handler therefore needs no locks, and must never block: no disk, no
// network, no sleeping. Conn methods are owner-only too, except where documented.
//
// Frames a callback sends are appended to the connection's pending buffer and written
// when the owner finishes its current batch of events, so a burst of frames to one
// connection costs one write.
package engine
