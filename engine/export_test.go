package engine

// Owner-only views of a worker's internals for the engine's external tests: call them
// inside Harness.Do.

// HasPendingBuffer reports whether c holds a pending-frames buffer.
func HasPendingBuffer(c *Conn) bool { return c.out != nil }

// DirtyConns is the number of connections waiting for the owner's next flush.
func DirtyConns(w *Worker) int { return len(w.loop.dirty) }

// ParkedBytes is what parked frames cost the write budgets now. Safe from any goroutine.
func ParkedBytes(w *Worker) int64 { return w.parked.Load() }
