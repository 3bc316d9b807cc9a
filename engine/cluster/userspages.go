package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/engine/chat"
)

// Users pages of rooms above --presence-full-limit (docs/CLUSTER.md, "Users pages of
// big rooms"): the chat asks each node whose part of the page it needs on
// chatd.users.<node> (core NATS request/reply), and that node answers from its own
// members only, at most a page, read on its owner. Both sides are bounded: a few
// goroutines ask (one page at a time each, its nodes in turn, all within one
// timeout) and a few answer, each with a capped queue; a full queue is refused at
// once (the client gets busy, the asking node a busy answer), never waited on.

const (
	usersPrefix = "chatd.users."
	// usersAskers and maxUsersAsks bound the pages this node asks for at once.
	usersAskers  = 8
	maxUsersAsks = 64
	// usersServers and maxUsersServes bound the other nodes' requests answered at once.
	usersServers   = 2
	maxUsersServes = 64
	// maxUsersPage bounds the members of one answer (a Users page's limit).
	maxUsersPage = 100
	// usersTimeout bounds one page's requests (all its nodes together), and an
	// answer's wait for this node's owner.
	usersTimeout = time.Second
)

// errUsersBusy is a node's answer when its queue of requests is full.
var errUsersBusy = errors.New("the node is answering too many users pages")

type usersRequest struct {
	Room   string `json:"r"`
	Offset int    `json:"o"`
	Limit  int    `json:"n"`
}

type usersAnswer struct {
	Members []usersMember `json:"m,omitempty"`
	Busy    bool          `json:"busy,omitempty"`
}

// usersMember is a member's fields and status fields, each as a JSON object.
type usersMember struct {
	Fields json.RawMessage `json:"f"`
	Status json.RawMessage `json:"s"`
}

type usersAsk struct {
	room  string
	spans []chat.PageSpan
	done  func([]chat.NodePage)
}

// usersPages is the queues between the owner, nats.go's goroutine and the workers.
type usersPages struct {
	asks   chan usersAsk
	serves chan *nats.Msg
}

// startUsersPages answers the other nodes' requests and starts the askers (on the
// owner, from StartPresence).
func (l *presenceLink) startUsersPages() error {
	p := &usersPages{asks: make(chan usersAsk, maxUsersAsks), serves: make(chan *nats.Msg, maxUsersServes)}
	sub, err := l.nc.Subscribe(usersPrefix+NodeToken(l.node), func(m *nats.Msg) {
		select {
		case p.serves <- m:
		default:
			respondUsers(m, usersAnswer{Busy: true})
		}
	})
	if err != nil {
		return fmt.Errorf("serve users pages: %w", err)
	}
	l.mu.Lock()
	l.subs = append(l.subs, sub)
	l.mu.Unlock()
	l.pages = p
	l.wg.Add(usersAskers + usersServers)
	for range usersAskers {
		go l.askUsersLoop(p)
	}
	for range usersServers {
		go l.serveUsersLoop(p)
	}
	return nil
}

// AskUsersPages queues a page's asks (the owner's; never blocks).
func (l *presenceLink) AskUsersPages(room string, spans []chat.PageSpan, done func([]chat.NodePage)) bool {
	if l.pages == nil {
		return false
	}
	select {
	case l.pages.asks <- usersAsk{room: room, spans: spans, done: done}:
		return true
	default:
		return false
	}
}

// askUsersLoop asks the nodes of one page after another and hands each page's
// answers to the owner.
func (l *presenceLink) askUsersLoop(p *usersPages) {
	defer l.wg.Done()
	for {
		select {
		case <-l.ctx.Done():
			return
		case ask := <-p.asks:
			pages := l.askNodes(ask)
			l.post(func() { ask.done(pages) })
		}
	}
}

// askNodes asks each span's node in turn, within usersTimeout for them all, and
// stops at the first that fails: the page ends there.
func (l *presenceLink) askNodes(ask usersAsk) []chat.NodePage {
	ctx, cancel := context.WithTimeout(l.ctx, usersTimeout)
	defer cancel()
	pages := make([]chat.NodePage, 0, len(ask.spans))
	for _, span := range ask.spans {
		members, err := RequestUsers(ctx, l.nc, span.Node, usersRequest{Room: ask.room, Offset: span.Offset, Limit: span.Limit})
		pages = append(pages, chat.NodePage{Members: members, Err: err})
		if err != nil {
			l.log.Debug("users page request failed", "node", span.Node, "room", ask.room, "err", err)
			break
		}
	}
	return pages
}

// RequestUsers asks node for its members of a room (at most req.Limit, from
// req.Offset in its join order). It blocks for a round trip: never call it on the owner.
func RequestUsers(ctx context.Context, nc *nats.Conn, node string, req usersRequest) ([]chat.PageMember, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode users request: %w", err)
	}
	m, err := nc.RequestWithContext(ctx, usersPrefix+NodeToken(node), b)
	if err != nil {
		return nil, fmt.Errorf("users page of %s: %w", node, err)
	}
	var a usersAnswer
	if err := json.Unmarshal(m.Data, &a); err != nil {
		return nil, fmt.Errorf("users page of %s: %w", node, err)
	}
	if a.Busy {
		return nil, fmt.Errorf("users page of %s: %w", node, errUsersBusy)
	}
	members := make([]chat.PageMember, 0, min(len(a.Members), req.Limit))
	for _, u := range a.Members[:min(len(a.Members), req.Limit)] {
		members = append(members, chat.PageMember{Fields: unwrapFields(u.Fields), Status: unwrapStatus(u.Status)})
	}
	return members, nil
}

// serveUsersLoop answers the other nodes' requests, one at a time.
func (l *presenceLink) serveUsersLoop(p *usersPages) {
	defer l.wg.Done()
	for {
		select {
		case <-l.ctx.Done():
			return
		case m := <-p.serves:
			respondUsers(m, l.answerUsers(m.Data))
		}
	}
}

// answerUsers reads this node's part of a page on the owner, waiting at most
// usersTimeout for it.
func (l *presenceLink) answerUsers(data []byte) usersAnswer {
	var req usersRequest
	if json.Unmarshal(data, &req) != nil || req.Offset < 0 || req.Limit <= 0 {
		return usersAnswer{} // nothing to list
	}
	req.Limit = min(req.Limit, maxUsersPage)
	reply := make(chan chat.NodePage, 1)
	l.post(func() { reply <- l.hooks.LocalPage(req.Room, req.Offset, req.Limit) })
	timer := time.NewTimer(usersTimeout)
	defer timer.Stop()
	select {
	case page := <-reply:
		a := usersAnswer{Members: make([]usersMember, 0, len(page.Members))}
		for _, m := range page.Members {
			a.Members = append(a.Members, usersMember{Fields: wrapFields(m.Fields), Status: wrapStatus(m.Status)})
		}
		return a
	case <-timer.C:
		return usersAnswer{Busy: true} // the owner is far behind
	case <-l.ctx.Done():
		return usersAnswer{Busy: true}
	}
}

// wrapStatus makes the chat's status fields (,"status":…,"statusText":…) a JSON
// object; unwrapStatus undoes it (a copy, with the comma back).
func wrapStatus(f []byte) json.RawMessage {
	if len(f) == 0 || f[0] != ',' {
		return json.RawMessage(`{}`)
	}
	return wrapFields(f[1:])
}

func unwrapStatus(f json.RawMessage) []byte {
	inner := unwrapFields(f)
	if len(inner) == 0 {
		return nil
	}
	return append([]byte{','}, inner...)
}

// respondUsers sends a; a lost answer times the asker out, which ends its page.
func respondUsers(m *nats.Msg, a usersAnswer) {
	b, err := json.Marshal(a)
	if err != nil {
		b = []byte(`{"busy":true}`) // never: the fields are the chat's own encoding
	}
	_ = m.Respond(b)
}
