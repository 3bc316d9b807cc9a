package chat

import (
	"io"
	"log/slog"
	"net/url"
	"testing"

	"github.com/chatd/chatd/engine"
)

// benchLogin measures one seed-client login and logout in a default room of 1,000
// users: the nickname search ("user (1001)" when every user is called "user"), the
// Authorized with the whole user list, Connected and Disconnected to everyone.
func benchLogin(b *testing.B, sameName bool) {
	cfg := engine.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ch := New(cfg)
	name := func(i int) string {
		if sameName {
			return "user"
		}
		return "user" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
	}
	for i := 1; i <= 1000; i++ {
		c := engine.NewConn(uint64(i), discard{})
		ch.OnWebSocketConnect(c, &engine.Request{Query: url.Values{"userName": {name(i)}}})
	}
	q := &engine.Request{Query: url.Values{"userName": {name(0)}}}
	id := uint64(1000)
	b.ReportAllocs()
	for b.Loop() {
		id++
		c := engine.NewConn(id, discard{})
		ch.OnWebSocketConnect(c, q)
		ch.OnClose(c, engine.CloseNormal)
	}
}

func BenchmarkLoginSameName1000(b *testing.B)      { benchLogin(b, true) }
func BenchmarkLoginDistinctNames1000(b *testing.B) { benchLogin(b, false) }

// BenchmarkLoginRamp1000: 1,000 seed clients log in one after another (no one
// leaves), as in a reconnect storm after a restart. One op is the whole ramp.
func BenchmarkLoginRamp1000(b *testing.B) {
	cfg := engine.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	q := &engine.Request{Query: url.Values{"userName": {"user"}}}
	b.ReportAllocs()
	for b.Loop() {
		ch := New(cfg)
		for i := 1; i <= 1000; i++ {
			ch.OnWebSocketConnect(engine.NewConn(uint64(i), discard{}), q)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/login")
}
