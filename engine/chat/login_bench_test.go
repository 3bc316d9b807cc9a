package chat

import (
	"net/url"
	"testing"

	"github.com/chatd/chatd/engine"
)

// benchLogin measures one seed-client login and logout in a default room of 1,000
// users: the nickname search ("user (1001)" when every user is called "user"), the
// Authorized with the whole user list, Connected and Disconnected to everyone.
func benchLogin(b *testing.B, sameName bool) {
	f := newFixture(b, DefaultConfig())
	name := func(i int) string {
		if sameName {
			return "user"
		}
		return "user" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
	}
	for i := 1; i <= 1000; i++ {
		f.h.Attach(url.Values{"userName": {name(i)}}, true)
	}
	f.h.Sync()
	q := url.Values{"userName": {name(0)}}
	b.ReportAllocs()
	for b.Loop() {
		f.h.Attach(q, true).Drop(engine.CloseNormal)
		f.h.Sync()
	}
}

func BenchmarkLoginSameName1000(b *testing.B)      { benchLogin(b, true) }
func BenchmarkLoginDistinctNames1000(b *testing.B) { benchLogin(b, false) }

// BenchmarkLoginRamp1000: 1,000 seed clients log in one after another (no one
// leaves), as in a reconnect storm after a restart. One op is the whole ramp.
func BenchmarkLoginRamp1000(b *testing.B) {
	q := url.Values{"userName": {"user"}}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b, DefaultConfig())
		b.StartTimer()
		for range 1000 {
			f.h.Attach(q, true)
		}
		f.h.Sync()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/login")
}
