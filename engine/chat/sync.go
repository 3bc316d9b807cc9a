package chat

import (
	"context"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

const (
	// syncPage is how many messages one replay read fetches.
	syncPage = 500
	// maxReplay bounds a resume replay for a client without acks, which cannot pace
	// it: older missed messages are left to History.
	maxReplay = 10_000
	// readTimeout bounds one history read.
	readTimeout = 10 * time.Second
)

// startSync brings a new membership up to date from the history: with since (resume)
// every message after the client's seq, otherwise the last --history-on-join. Live
// messages are held back meanwhile (deliver skips a syncing membership) and read
// from the history instead, so the client gets the room in seq order with no gap and
// no duplicate.
func (ch *Chat) startSync(u *user, ms *membership, sn since, roomID string) {
	upto := ch.committedSeq(roomID)
	after, resume := sn.seqs[roomID]
	if resume {
		after = min(after, upto)
		ms.limited = !u.ack
		if ms.limited && upto-after > maxReplay {
			after = upto - maxReplay
		}
	} else {
		after = upto - min(upto, uint64(max(ch.cfg.HistoryOnJoin, 0)))
	}
	if after >= upto || ch.store == nil {
		after = upto
	}
	ms.delivered = after
	if u.ack {
		ms.acksOf().acked = after
	}
	if after >= upto {
		return
	}
	ms.syncing, ms.syncUpto = true, upto
	ch.readRange(u, ms)
}

// readRange sends the next page of a replay: from the replay cache when it has the
// page, else read off the owner and sent on the owner.
func (ch *Chat) readRange(u *user, ms *membership) {
	roomID, after, upto := ms.room, ms.delivered, ms.syncUpto
	optIn := u.optIn // the seed's client gets the seed's frames: no reactions
	key := replayKey{roomID, optIn}
	if seqs, frames, through, ok := ch.replays.get(key, after, upto, ch.now()); ok {
		ch.counters.replaysCached++
		ch.sendReplay(u, ms, seqs, frames)
		ms.delivered = max(ms.delivered, through)
		ch.continueSync(u, ms)
		return
	}
	epoch := ch.replays.epoch
	ch.readReplay(u, func(ctx context.Context, st store.Store) func() {
		msgs, err := st.Range(ctx, roomID, after, upto, syncPage)
		var rx map[uint64][]store.ReactionCount
		if err == nil && optIn {
			rx, err = reactionsOf(ctx, st, roomID, msgs)
		}
		frames := make([][]byte, len(msgs))
		seqs := make([]uint64, len(msgs))
		for i := range msgs {
			seqs[i] = msgs[i].Seq
			if p := encodeStoredFor(nil, &msgs[i], optIn); p != nil { // nil: deleted, for the seed's client
				rs := rx[msgs[i].Seq]
				if msgs[i].Deleted {
					rs = nil // a deleted line shows nothing but its place
				}
				frames[i] = engine.AppendFrame(nil, engine.OpText, withReactions(p, rs))
			}
		}
		// Only the frames and seqs wait for the owner, not the messages' texts: a login
		// storm of 500 into a room of 3 KB lines held 200 MB of replays at once, and the
		// heap the runtime grew for it kept some metadata resident after the storm.
		msgs = nil
		return func() {
			if err == nil {
				ch.replays.put(key, epoch, after, upto, seqs, frames, ch.now())
			}
			if !u.online() || ch.membershipOf(u, roomID) != ms {
				return // gone, or left the room meanwhile
			}
			if err != nil {
				ch.log.Error("history replay failed", "room", roomID, "userId", u.info.ID, "err", err)
				ch.sendError(u, &protocol.Error{Code: protocol.CodeHistoryUnavailable, Message: "could not read the history of " + quote(roomID)})
				ms.syncing = false
				ms.delivered = max(ms.delivered, ch.committedSeq(roomID))
				return
			}
			ch.sendReplay(u, ms, seqs, frames)
			if len(seqs) == 0 && ms.delivered < ms.syncUpto {
				// The history lacks what its counters promise: skip rather than spin.
				ch.log.Error("history has a gap", "room", roomID, "after", ms.delivered, "upto", ms.syncUpto)
				ms.delivered = ms.syncUpto
			}
			ch.continueSync(u, ms)
		}
	})
}

// sendReplay sends u the frames of a replay page it does not have yet; the frames
// are shared (the replay cache's), never modified.
func (ch *Chat) sendReplay(u *user, ms *membership, seqs []uint64, frames [][]byte) {
	for i, seq := range seqs {
		if seq <= ms.delivered {
			continue
		}
		if frames[i] == nil {
			ms.delivered = seq
			continue
		}
		u.conn.SendFrame(frames[i])
		ms.delivered = seq
		ch.track(u, ms, ms.delivered, frames[i])
	}
}

// continueSync reads the next page, follows the room's newest commits, or ends the
// replay once the client has everything committed so far. It runs on the owner
// between commits, so live delivery takes over exactly where the replay stopped.
func (ch *Chat) continueSync(u *user, ms *membership) {
	if ms.delivered >= ms.syncUpto {
		committed := ch.committedSeq(ms.room)
		if committed <= ms.delivered {
			ms.syncing = false
			return
		}
		ms.syncUpto = committed
	}
	if u.ack && ms.unackedLen() >= maxUnacked/2 {
		ms.waitAck = true // handleAck carries on when the client has caught up
		return
	}
	ch.readRange(u, ms)
}

// since is the resume parameter since=room:seq,room:seq: the last seq the client has
// of each room (its inbox too, as "@userId").
type since struct {
	seqs  map[string]uint64
	order []string
}

// maxSinceRooms bounds the rooms one since parameter may name.
const maxSinceRooms = 256

func parseSince(raw string) since {
	s := since{seqs: make(map[string]uint64)}
	for raw != "" && len(s.order) < maxSinceRooms {
		var part string
		part, raw, _ = cut(raw, ',')
		room, num, ok := cutLast(part, ':')
		if !ok || room == "" {
			continue
		}
		n, err := parseUint(num)
		if err != nil {
			continue
		}
		if _, dup := s.seqs[room]; !dup {
			s.order = append(s.order, room)
		}
		s.seqs[room] = n
	}
	return s
}
