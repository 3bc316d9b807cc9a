package chat

import (
	"slices"
	"sort"
	"time"

	"github.com/chatd/chatd/engine/store"
)

// replayCache keeps the frames of each room's latest replay read, per kind of client,
// for the replays that come right after it. A replay's frames depend only on the
// lines and on whether the client opted in, so a login storm can share them: 500
// logins into a room of 3 KB lines read the same 50 lines 500 times, and the
// connections that could not take them yet parked 500 copies (75 MB at once).
// Edits, deletes and reactions change stored lines: every commit with any of them
// drops the room's pages, and a read that started before such a commit is not kept.
type replayCache struct {
	pages map[replayKey]*replayPage
	bytes int    // all pages' frames together, at most replayCacheBytes
	epoch uint64 // counts the drops: a read is kept only if none happened while it ran
}

type replayKey struct {
	room  string
	optIn bool
}

// replayPage is one read: the stored lines in (after, covered], in seq order, and
// their frames (nil: nothing to send, as for a deleted line to the seed's client).
type replayPage struct {
	after, covered uint64
	seqs           []uint64
	frames         [][]byte
	bytes          int
	at             time.Time
}

const (
	// replayCacheBytes bounds the cache, all rooms together; replayPageBytes one page
	// (--history-on-join lines of the largest size fit: 50 × 64 KiB is 3.2 MB).
	replayCacheBytes = 16 << 20
	replayPageBytes  = 4 << 20
	// replayCacheTTL is how long a page serves: a login storm lasts seconds, and an
	// idle server should not keep its rooms' last lines in memory.
	replayCacheTTL = 10 * time.Second
)

// get returns the cached lines in (after, upto] (a page holds at most syncPage) and
// the seq the replay has then reached; ok is false unless a fresh page starts at or
// before after and covers more than it.
func (c *replayCache) get(k replayKey, after, upto uint64, now time.Time) (seqs []uint64, frames [][]byte, through uint64, ok bool) {
	p := c.pages[k]
	if p == nil || now.Sub(p.at) > replayCacheTTL || after < p.after || after >= p.covered || upto <= after {
		return nil, nil, 0, false
	}
	through = min(upto, p.covered)
	i := sort.Search(len(p.seqs), func(i int) bool { return p.seqs[i] > after })
	j := sort.Search(len(p.seqs), func(j int) bool { return p.seqs[j] > through })
	return p.seqs[i:j], p.frames[i:j], through, true
}

// put keeps a read of (after, upto] that returned seqs and frames, if no drop
// happened since epoch (when the read was queued). A read that continues the room's
// page (a login's tail, the lines sent since the page was read) is added to it, the
// oldest lines going past syncPage lines or replayPageBytes; a read that reaches less
// far than the page is not kept.
func (c *replayCache) put(k replayKey, epoch, after, upto uint64, seqs []uint64, frames [][]byte, now time.Time) {
	covered := upto
	if len(seqs) >= syncPage { // a full page: what lies past its last line was not read
		covered = seqs[len(seqs)-1]
	}
	if epoch != c.epoch || covered <= after {
		return
	}
	old := c.pages[k]
	if old != nil && now.Sub(old.at) <= replayCacheTTL {
		if old.covered >= covered {
			return
		}
		if old.after <= after && after <= old.covered {
			i := sort.Search(len(seqs), func(i int) bool { return seqs[i] > old.covered })
			seqs = append(slices.Clip(old.seqs), seqs[i:]...)
			frames = append(slices.Clip(old.frames), frames[i:]...)
			after = old.after
		}
	}
	c.remove(k)
	p := newReplayPage(after, covered, seqs, frames, now)
	if p == nil || c.bytes+p.bytes > replayCacheBytes {
		return
	}
	if c.pages == nil {
		c.pages = make(map[replayKey]*replayPage)
	}
	c.pages[k] = p
	c.bytes += p.bytes
}

// newReplayPage is a page of the newest lines of seqs: at most syncPage of them and
// replayPageBytes of frames (nil if not one fits).
func newReplayPage(after, covered uint64, seqs []uint64, frames [][]byte, now time.Time) *replayPage {
	p := &replayPage{after: after, covered: covered, seqs: seqs, frames: frames, at: now}
	for _, f := range frames {
		p.bytes += len(f)
	}
	drop := 0
	for ; drop < len(seqs) && (len(seqs)-drop > syncPage || p.bytes > replayPageBytes); drop++ {
		p.bytes -= len(frames[drop])
		p.after = seqs[drop]
	}
	p.seqs, p.frames = seqs[drop:], frames[drop:]
	if p.after >= p.covered {
		return nil
	}
	return p
}

// drop forgets room's pages: a line of it changed.
func (c *replayCache) drop(room string) {
	c.epoch++
	c.remove(replayKey{room, false})
	c.remove(replayKey{room, true})
}

func (c *replayCache) remove(k replayKey) {
	if p := c.pages[k]; p != nil {
		c.bytes -= p.bytes
		delete(c.pages, k)
	}
}

// sweep forgets the pages past their time.
func (c *replayCache) sweep(now time.Time) {
	for k, p := range c.pages {
		if now.Sub(p.at) > replayCacheTTL {
			c.remove(k)
		}
	}
}

// dropChangedReplays forgets the cached replays of every room in which b changed a
// stored line: before the commit's Edited, Deleted and Reactions go out, so no replay
// after them sends the line as it was.
func (ch *Chat) dropChangedReplays(b *store.Batch) {
	for i := range b.Edits {
		ch.replays.drop(b.Edits[i].Room)
	}
	for i := range b.Reactions {
		ch.replays.drop(b.Reactions[i].Room)
	}
}
