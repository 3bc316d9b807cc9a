package engine

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A login storm in a big room (each login announced to everyone) leaves tens of MB of
// garbage and freed heap behind. An idle server allocates too little to trigger another
// GC, and the runtime gives freed heap back to the OS only slowly, so it would keep
// the storm's peak as its resident size. releaseMemory looks now and then: once the
// server has calmed down holding much more heap than after its last look, it collects
// and returns the free heap at once, so RSS tracks what the connections use.
const (
	releaseCheckEvery = time.Second
	releaseAbove      = 4 << 20 // heap growth worth a forced release (4 KB per connection of a 1,000-user server)
	calmAllocation    = 8 << 20 // allocated per check by a server that has calmed down
	// releaseSpacing is the fewest checks between two releases: a moderately busy
	// server's heap swings by more than releaseAbove between GCs, and a forced GC
	// every second would cost more than the memory is worth.
	releaseSpacing = 30
	// calmChecks is how many checks in a row must find the server calm: a login ramp
	// slows at its end, and one calm second there released mid-ramp, after which the
	// spacing kept the ramp's last 20 MB resident for 30 s (idle at 15,000: RSS 50 MB
	// for 27 s, 26 MB after the next release).
	calmChecks = 3
)

func (w *Worker) releaseMemory() {
	sample := []metrics.Sample{
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}, // live and not yet collected
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/gc/heap/allocs:bytes"},
	}
	held := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64() + sample[1].Value.Uint64() + sample[2].Value.Uint64()
	}
	every := w.releaseEvery
	if every <= 0 {
		every = releaseCheckEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	base := held() // what the heap held after the last release
	var allocated uint64
	spacing := w.releaseGap
	if spacing <= 0 {
		spacing = releaseSpacing
	}
	checks, calmFor := spacing, 0
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		now := held()
		total := sample[3].Value.Uint64()
		// Only when calm: a busy server's own GC cycles are doing this job, and the
		// last GC's idea of the live heap is stale (it may have run mid-storm), so
		// only a forced GC can tell what is garbage.
		calmFor++
		if total-allocated >= calmAllocation {
			calmFor = 0
		}
		allocated = total
		checks++
		if calmFor >= calmChecks && now > base+releaseAbove && (checks >= spacing || w.releaseSoon.Swap(false)) {
			checks = 0
			w.dropFreeBuffers()
			if w.onRelease != nil {
				w.onRelease()
			}
			debug.FreeOSMemory()
			w.stats.memoryReleases.Add(1)
			base = held()
		} else if now < base {
			base = now
		}
	}
}

// dropFreeBuffers empties the owner's free list of pending buffers, and the empty
// buffers backed-up connections keep (Conn.afterWrite), and waits for it: a calm
// server needs none, and after a storm the list holds up to maxFreeBytes (4 MiB: 4 KB
// per connection of a 1,000-user server).
func (w *Worker) dropFreeBuffers() {
	done := make(chan struct{})
	w.Post(func() {
		w.loop.buffers, w.loop.freeBytes = nil, 0
		w.loop.dropQueues = 2
		for _, c := range w.loop.conns {
			if len(c.out) == 0 {
				c.out = nil
			}
		}
		close(done)
	})
	select {
	case <-done:
	case <-w.done:
	case <-time.After(time.Second): // a busy owner: release what we can without it
	}
}

// OnRelease makes fn part of every memory release: memory outside the Go heap that
// the storm filled (the history database's page caches) goes back with the heap's.
// fn runs on the releasing goroutine, never the owner's; call before Start.
func (w *Worker) OnRelease(fn func()) { w.onRelease = fn }
