package chat

import (
	"github.com/chatd/chatd/protocol"
)

// Users pages of rooms above --presence-full-limit on a cluster node (docs/CLUSTER.md,
// "Users pages of big rooms"). The room's members are listed node by node: this
// node's own first, in join order as on one node, then each other node's own, by node
// name, in its join order. The counts of the other nodes' last ticks say where each
// node's part starts, so a page from offset is a slice of at most two or three
// nodes' parts: the local one is cut at once, the others are asked for (at most a
// page each, from their own members only) by the link's askers, and the answer goes
// to the client through the owner's queue. The owner never waits; a node that does
// not answer in time ends the page there (more: true), so the client's next offset
// asks it again; a page that would be empty is the Error cluster_unavailable.

// maxUsersAsksPerConn bounds the Users pages one connection waits for at once; the
// link bounds those of the whole node.
const maxUsersAsksPerConn = 2

// NodeCount is one other node's members of a room, as its last tick said.
type NodeCount struct {
	Node  string
	Count int
}

// PageSpan is one node's part of a Users page: its members from Offset, at most Limit.
type PageSpan struct {
	Node          string
	Offset, Limit int
}

// PageMember is a member in a node's part: its fields and its status fields.
type PageMember struct {
	Fields, Status []byte
}

// NodePage is a node's answer for its span; Err: it did not answer (in time).
type NodePage struct {
	Members []PageMember
	Err     error
}

// pagedByNodes is whether r's Users pages ask the other nodes: a cluster room above
// --presence-full-limit.
func (ch *Chat) pagedByNodes(r *room) bool {
	return ch.link != nil && ch.count(r) > ch.cfg.PresenceFullLimit
}

// usersFromNodes answers u's Users page of r from offset (at most limit users): the
// local part now, the other nodes' when they answered.
func (ch *Chat) usersFromNodes(u *user, r *room, offset, limit int) {
	p := protocol.MemberPage{RoomID: r.id, Count: ch.count(r), Offset: offset}
	end := min(len(r.members), offset+limit)
	for i := offset; i < end; i++ {
		p.Users = append(p.Users, r.members[i].encoded())
		p.Statuses = append(p.Statuses, ch.statusFields(r.members[i]))
	}
	spans, total := ch.pageSpans(r, offset, limit)
	if len(spans) == 0 {
		p.More = offset+len(p.Users) < total
		u.conn.SendText(protocol.AppendMemberPage(nil, protocol.ActionUsers, p))
		return
	}
	if ch.usersAsks == nil {
		ch.usersAsks = make(map[uint64]int)
	}
	conn := u.conn.ID()
	if ch.usersAsks[conn] >= maxUsersAsksPerConn {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBusy, Message: "Users pages of " + quote(r.id) + " are being asked of the other nodes; retry after them"})
		return
	}
	asked := ch.link.AskUsersPages(r.id, spans, func(pages []NodePage) {
		ch.usersAnswered(u, conn, r.id, p, spans, pages, total)
	})
	if !asked {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeBusy, Message: "the node is asking the other nodes for too many Users pages; retry later"})
		return
	}
	ch.usersAsks[conn]++
}

// pageSpans is the other nodes' parts of r's page from offset of at most limit
// users, and how many members all the parts hold.
func (ch *Chat) pageSpans(r *room, offset, limit int) ([]PageSpan, int) {
	var spans []PageSpan
	pos := len(r.members) // the local part is first
	for _, c := range ch.link.RemoteNodeCounts(r.id) {
		lo, hi := max(offset, pos), min(offset+limit, pos+c.Count)
		if lo < hi {
			spans = append(spans, PageSpan{Node: c.Node, Offset: lo - pos, Limit: hi - lo})
		}
		pos += c.Count
	}
	return spans, pos
}

// usersAnswered sends u the page whose local part is p, with the other nodes'
// answers for spans, up to the first that failed.
func (ch *Chat) usersAnswered(u *user, conn uint64, roomID string, p protocol.MemberPage, spans []PageSpan, pages []NodePage, total int) {
	if ch.usersAsks[conn]--; ch.usersAsks[conn] <= 0 {
		delete(ch.usersAsks, conn)
	}
	if !u.online() || u.rooms.get(roomID) == nil {
		return // gone, or left the room meanwhile
	}
	var failed *PageSpan
	for i := range spans {
		if i >= len(pages) || pages[i].Err != nil {
			failed = &spans[i]
			break
		}
		for _, m := range pages[i].Members {
			p.Users = append(p.Users, m.Fields)
			p.Statuses = append(p.Statuses, m.Status)
		}
	}
	if failed != nil && len(p.Users) == 0 {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeClusterUnavailable,
			Message: "node " + quote(failed.Node) + " did not answer for its members of " + quote(roomID) + "; retry later"})
		return
	}
	if r := ch.rooms[roomID]; r != nil {
		p.Count = ch.count(r) // as of now, as the client's presence says
	}
	p.More = failed != nil || p.Offset+len(p.Users) < total
	u.conn.SendText(protocol.AppendMemberPage(nil, protocol.ActionUsers, p))
}

// localPage is this node's members of roomID from offset, at most limit, for another
// node's Users page: copies, as the link reads them off the owner.
func (ch *Chat) localPage(roomID string, offset, limit int) NodePage {
	r := ch.rooms[roomID]
	if r == nil || offset < 0 || offset >= len(r.members) {
		return NodePage{}
	}
	end := min(len(r.members), offset+min(limit, membersPage))
	page := NodePage{Members: make([]PageMember, 0, end-offset)}
	for _, m := range r.members[offset:end] {
		page.Members = append(page.Members, PageMember{
			Fields: append([]byte(nil), m.encoded()...),
			Status: append([]byte(nil), ch.statusFields(m)...)})
	}
	return page
}
