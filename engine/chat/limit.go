package chat

import "time"

// bucket is a token bucket: rate tokens a second, at most burst at once.
type bucket struct {
	tokens   float64
	last     time.Time
	rejected int // rejections in a row; too many and the client is cut off
}

func (b *bucket) allow(now time.Time, rate float64, burst int) bool {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else {
		b.tokens += now.Sub(b.last).Seconds() * rate
		if b.tokens > float64(burst) {
			b.tokens = float64(burst)
		}
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		b.rejected = 0
		return true
	}
	b.rejected++
	return false
}
