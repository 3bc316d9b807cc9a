package engine

import "sync"

// minParallelWrite is the smallest batch worth splitting: below it, handing work to
// another goroutine costs more than the writes it saves.
const minParallelWrite = 64

// writers write one batch's pending frames in parallel with the owner. A broadcast to
// a big room is one write(2) per recipient, each a few microseconds of kernel time on
// loopback; done by the owner alone, they made the last recipient of a 1,000-member
// room wait for 999 syscalls, and queued the next message behind them. The owner
// waits for all of them, so a connection is never written by two goroutines at once
// and frames keep their order.
type writers struct {
	jobs chan []*Conn
	wg   sync.WaitGroup
	n    int
}

// newWriters starts n-1 helper goroutines (the owner is the n-th writer); nil when
// n < 2.
func newWriters(n int) *writers {
	if n < 2 {
		return nil
	}
	ws := &writers{jobs: make(chan []*Conn, n), n: n}
	for range n - 1 {
		go func() {
			for part := range ws.jobs {
				for _, c := range part {
					c.write()
				}
				ws.wg.Done()
			}
		}()
	}
	return ws
}

// writeAll writes every connection's pending frames and returns when all are written.
func (ws *writers) writeAll(dirty []*Conn) {
	if ws == nil || len(dirty) < minParallelWrite {
		for _, c := range dirty {
			c.write()
		}
		return
	}
	size := (len(dirty) + ws.n - 1) / ws.n
	own, rest := dirty[:size], dirty[size:]
	for len(rest) > 0 {
		part := rest[:min(size, len(rest))]
		rest = rest[len(part):]
		ws.wg.Add(1)
		ws.jobs <- part
	}
	for _, c := range own {
		c.write()
	}
	ws.wg.Wait()
}

// stop ends the helper goroutines.
func (ws *writers) stop() {
	if ws != nil {
		close(ws.jobs)
	}
}
