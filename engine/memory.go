package engine

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A login storm in a big room (each login announced to everyone) leaves tens of MB of
// freed heap behind. The Go runtime gives it back to the OS only slowly, so an idle
// server would keep the storm's peak as its resident size. releaseMemory checks now
// and then and returns the free heap at once when it is large, so RSS tracks what the
// connections really use.
const (
	releaseCheckEvery = 5 * time.Second
	releaseAbove      = 32 << 20 // free, unreleased heap bytes worth a forced release
)

func (w *Worker) releaseMemory() {
	sample := []metrics.Sample{
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
	}
	every := w.releaseEvery
	if every <= 0 {
		every = releaseCheckEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		metrics.Read(sample)
		free, live := sample[0].Value.Uint64(), sample[1].Value.Uint64()
		if free > releaseAbove && free > live {
			debug.FreeOSMemory()
			w.stats.memoryReleases.Add(1)
		}
	}
}
