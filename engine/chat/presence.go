package chat

import (
	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/protocol"
)

// change is one user's net presence change in a room during one compact tick: only
// the difference between the tick's start and end is sent, so a client that left and
// came back (a resume) causes nothing.
type change struct {
	fields []byte
	was    bool // a member when the tick started
	is     bool
	lost   bool
}

// joined announces u in r: the seed's Connected in the default room (to clients that
// use the seed's presence, the newcomer included), a Presence frame at once elsewhere,
// and a change for the next compact tick everywhere.
func (ch *Chat) joined(r *room, u *user) {
	ch.noteLocal(r, u.info.ID, true) // first: the counts below count it once
	if r.isDefault {
		ch.sendSeedPresence(r, protocol.AppendUserEvent(ch.payload[:0], protocol.ActionConnected, u.encodedOnce()))
	} else {
		ch.sendSeedPresence(r, ch.presenceNow(r, protocol.PresenceRoom{Joined: [][]byte{u.encodedOnce()}}))
	}
	ch.noteChange(r, u, true, false)
}

// left announces that u left r (lost: dropped by the heartbeat).
func (ch *Chat) left(r *room, u *user, lost bool) {
	ch.noteLocal(r, u.info.ID, false)
	switch {
	case r.isDefault && lost:
		ch.sendSeedPresence(r, protocol.AppendUserEvent(ch.payload[:0], protocol.ActionConnectionLost, u.encodedOnce()))
	case r.isDefault:
		ch.sendSeedPresence(r, protocol.AppendUserEvent(ch.payload[:0], protocol.ActionDisconnected, u.encodedOnce()))
	case lost:
		ch.sendSeedPresence(r, ch.presenceNow(r, protocol.PresenceRoom{Lost: []uint64{u.info.ID}}))
	default:
		ch.sendSeedPresence(r, ch.presenceNow(r, protocol.PresenceRoom{Left: []uint64{u.info.ID}}))
	}
	ch.noteChange(r, u, false, lost)
}

// presenceNow encodes a one-room Presence frame for clients without presence=compact.
func (ch *Chat) presenceNow(r *room, p protocol.PresenceRoom) []byte {
	p.RoomID, p.Count = r.id, ch.count(r)
	b := append(ch.payload[:0], protocol.PresenceHead...)
	b = protocol.AppendPresenceRoom(b, p)
	return append(b, protocol.PresenceTail...)
}

// sendSeedPresence frames payload once and sends it to r's members that use the
// seed's presence (every member but those with presence=compact).
func (ch *Chat) sendSeedPresence(r *room, payload []byte) {
	ch.payload = payload
	frame := engine.AppendFrame(nil, engine.OpText, payload) // shared, never modified
	for _, m := range r.members {
		if !m.compact {
			m.conn.SendFrame(frame)
		}
		for _, d := range ch.otherDevices(m) {
			if !d.compact {
				d.conn.SendFrame(frame)
			}
		}
	}
}

func (ch *Chat) noteChange(r *room, u *user, is, lost bool) {
	if !r.pending() {
		ch.dirty = append(ch.dirty, r)
	}
	if r.changes == nil {
		r.changes = make(map[uint64]*change)
	}
	c := r.changes[u.info.ID]
	if c == nil {
		c = &change{fields: u.encodedOnce(), was: !is}
		r.changes[u.info.ID] = c
	}
	c.is, c.lost = is, lost
}

// flushPresence is the compact tick: each room's net changes are encoded once, and
// every compact member gets one Presence frame with the entries of all its rooms.
// Rooms above --presence-full-limit send the count only. On a cluster node the
// tick's local changes also go to the other nodes (remote.go), in one message.
func (ch *Chat) flushPresence() {
	if len(ch.dirty) == 0 {
		return
	}
	var out presenceOut
	var tick []RoomPresence
	for _, r := range ch.dirty {
		tick = ch.localTick(tick, r)
		ch.gatherPresence(r, &out)
	}
	ch.dirty = ch.dirty[:0]
	out.send()
	if len(tick) > 0 {
		ch.link.PublishTick(tick, ch.localMembership)
	}
}

// tickChanges is a room's changes of one tick: its local users' and the other
// nodes' members', apart (remote.go).
type tickChanges struct{ local, remote map[uint64]*change }

// gatherPresence takes r's net changes of the tick and adds them to out for each of
// r's compact members; an empty non-default room is dropped here.
func (ch *Chat) gatherPresence(r *room, out *presenceOut) {
	count := ch.count(r)
	all := protocol.PresenceRoom{RoomID: r.id, Count: count}
	for id, c := range r.changes {
		addChange(&all, id, c)
	}
	for id, c := range r.remote {
		addChange(&all, id, c)
	}
	changes := tickChanges{r.changes, r.remote}
	r.changes, r.remote = nil, nil
	if len(r.members) == 0 && !r.isDefault {
		ch.dropRoom(r)
		return
	}
	if len(all.Joined)+len(all.Left)+len(all.Lost) == 0 {
		return
	}
	countOnly := count > ch.cfg.PresenceFullLimit
	if countOnly {
		all = protocol.PresenceRoom{RoomID: r.id, Count: count, CountOnly: true}
	}
	out.entry = protocol.AppendPresenceRoom(out.entry[:0], all)
	for _, m := range r.members {
		out.addMember(r, m, count, countOnly, changes)
		for _, d := range ch.otherDevices(m) {
			out.addMember(r, d, count, countOnly, changes)
		}
	}
}

// addMember adds r's entry of the tick for one member's connection.
func (o *presenceOut) addMember(r *room, m *user, count int, countOnly bool, changes tickChanges) {
	switch {
	case !m.compact:
	case countOnly && len(m.watch) > 0:
		o.add(m, o.watched(r, m, count, changes))
	default:
		o.add(m, o.entry)
	}
}

// presenceOut gathers one tick's Presence frames, one per compact member touched.
type presenceOut struct {
	touched     []*user
	frames      [][]byte // touched[i]'s frame (user.presenceAt is i+1): a slice in every user cost 24 bytes
	entry, mine []byte   // scratch: a room's entry for everyone, and for one watcher
}

func (o *presenceOut) add(m *user, entry []byte) {
	// (A tick cut short by a panic leaves presenceAt set: such a user starts afresh.)
	if at := int(m.presenceAt); at == 0 || at > len(o.touched) || o.touched[at-1] != m {
		o.touched = append(o.touched, m)
		o.frames = append(o.frames, append([]byte(nil), protocol.PresenceHead...))
		m.presenceAt = int32(len(o.touched))
	} else {
		o.frames[m.presenceAt-1] = append(o.frames[m.presenceAt-1], ',')
	}
	o.frames[m.presenceAt-1] = append(o.frames[m.presenceAt-1], entry...)
}

// watched is a big room's entry for m: the count, plus the changes of the users m
// asked about with Users userIds.
func (o *presenceOut) watched(r *room, m *user, count int, changes tickChanges) []byte {
	p := protocol.PresenceRoom{RoomID: r.id, Count: count}
	for id := range m.watch {
		if c := changes.local[id]; c != nil {
			addChange(&p, id, c)
		}
		if c := changes.remote[id]; c != nil {
			addChange(&p, id, c)
		}
	}
	o.mine = protocol.AppendPresenceRoom(o.mine[:0], p)
	return o.mine
}

func (o *presenceOut) send() {
	for i, m := range o.touched {
		m.conn.SendText(append(o.frames[i], protocol.PresenceTail...))
		// Not kept: a big ramp's batches grew them to kilobytes on every idle member.
		o.frames[i], m.presenceAt = nil, 0
	}
}

// addChange puts one user's net change of a tick into p.
func addChange(p *protocol.PresenceRoom, id uint64, c *change) {
	switch {
	case c.is && !c.was:
		p.Joined = append(p.Joined, c.fields)
	case !c.is && c.was && c.lost:
		p.Lost = append(p.Lost, id)
	case !c.is && c.was:
		p.Left = append(p.Left, id)
	}
}
