package chat

import (
	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/web"
)

// NewServer assembles chatd: a Worker running a Chat with its history in
// cfg.DataDir, and the browser client at /. Call Chat.Close after Worker.Stop to
// wait for the last commit.
func NewServer(cfg engine.Config) (*engine.Worker, *Chat, error) {
	cfg = cfg.WithDefaults()
	ch := New(cfg)
	w, err := engine.New(cfg, ch)
	if err != nil {
		return nil, nil, err
	}
	if err := ch.openHistory(w); err != nil {
		return nil, nil, err
	}
	w.Handle("GET /", web.Handler())
	return w, ch, nil
}
