package chat

import (
	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/web"
)

// NewServer assembles chatd: a Worker running a Chat, with the browser client at /.
func NewServer(cfg engine.Config) (*engine.Worker, *Chat, error) {
	ch := New(cfg)
	w, err := engine.New(cfg, ch)
	if err != nil {
		return nil, nil, err
	}
	w.Handle("GET /", web.Handler())
	return w, ch, nil
}
