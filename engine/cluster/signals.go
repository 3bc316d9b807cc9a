package cluster

import (
	"encoding/json"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/engine/chat"
)

// Signals are what the chat sends live and never stores: Typing, Status and Buzz
// (docs/CLUSTER.md, "Signals"). They cross nodes on core NATS, one message per signal
// on chatd.signal (each node skips its own), and each node delivers them to its local
// audience as it would its own users'. A signal lost while NATS is away is lost, as a
// frame to a dropped connection would be: the next Typing or Status repeats it.

const signalSubject = "chatd.signal"

// maxQueuedSignals bounds the signals waiting for the NATS connection; past it new
// ones are dropped (each is rate limited per user on its node already).
const maxQueuedSignals = 4096

// wireSignal is a signal on the wire, with the node that sent it.
type wireSignal struct {
	Node string `json:"node"`
	chat.Signal
}

// signals publishes this node's signals and hands the other nodes' to the chat.
type signals struct {
	nc    *nats.Conn
	node  string
	queue chan []byte
	sub   *nats.Subscription
	done  chan struct{}
	once  sync.Once
}

func newSignals(j *Journal) *signals {
	s := &signals{nc: j.nc, node: j.node, queue: make(chan []byte, maxQueuedSignals), done: make(chan struct{})}
	go s.publishLoop(j)
	return s
}

func (s *signals) publishLoop(j *Journal) {
	for {
		select {
		case <-s.done:
			return
		case b := <-s.queue:
			if err := s.nc.Publish(signalSubject, b); err != nil {
				j.log.Debug("cluster: signal dropped", "err", err)
			}
		}
	}
}

// StartSignals subscribes to the other nodes' signals: apply gets each one on the
// owner (inside a func handed to post).
func (j *Journal) StartSignals(post func(func()), apply func(chat.Signal)) {
	s := j.signals
	sub, err := s.nc.Subscribe(signalSubject, func(m *nats.Msg) {
		var w wireSignal
		if json.Unmarshal(m.Data, &w) != nil || w.Node == s.node {
			return
		}
		post(func() { apply(w.Signal) })
	})
	if err != nil {
		j.log.Warn("cluster: subscribe to signals", "err", err)
		return
	}
	s.sub = sub
}

// PublishSignal queues one signal for the other nodes; it never blocks.
func (j *Journal) PublishSignal(sig chat.Signal) {
	s := j.signals
	b, err := json.Marshal(wireSignal{Node: s.node, Signal: sig})
	if err != nil {
		return
	}
	select {
	case s.queue <- b:
	default: // NATS is far behind: a live signal is not worth queuing without end
	}
}

// close stops the publisher and the subscription.
func (s *signals) close() {
	s.once.Do(func() {
		if s.sub != nil {
			_ = s.sub.Unsubscribe()
		}
		close(s.done)
	})
}
