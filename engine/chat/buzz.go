package chat

import (
	"github.com/chatd/chatd/protocol"
)

// maxBuzzPeers is how many different users one sender may buzz within one
// --buzz-interval. It bounds the per-pair state: a sender's log is a fixed array, so
// buzzing many users costs the server no more memory than buzzing a few.
const maxBuzzPeers = 8

// buzzLog is one sender's recent buzzes: to whom and when (unix nanoseconds).
type buzzLog struct {
	to [maxBuzzPeers]uint64
	at [maxBuzzPeers]int64
}

// handleBuzz delivers a buzz to an online recipient: a Buzz frame to an opt-in
// client, the seed's PrivateMessage line (BuzzText) to the Qt client. Never stored.
func (ch *Chat) handleBuzz(u *user, in *protocol.Inbound) {
	to := ch.users[in.ToUserID]
	if to == nil && ch.buzzOtherNode(u, in.ToUserID) {
		return
	}
	if to == nil {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeRecipientOffline, Message: "no user with that userId is online"})
		return
	}
	if !ch.takeBuzz(u.info.ID, to.info.ID) {
		ch.counters.rateLimited++
		ch.sendError(u, &protocol.Error{Code: protocol.CodeRateLimited, Message: "one buzz per --buzz-interval to each user, at most 8 users at a time"})
		return
	}
	for _, d := range ch.devicesOf(to) {
		if d.optIn {
			ch.payload = protocol.AppendBuzz(ch.payload[:0], u.encoded())
		} else {
			ch.payload = protocol.AppendChat(ch.payload[:0], protocol.ActionPrivateMessage, u.encoded(), protocol.BuzzText, to.info.ID)
		}
		d.conn.SendText(ch.payload)
	}
}

// takeBuzz records a buzz from one user to another, or refuses it: the pair had one
// within --buzz-interval, or the sender buzzed maxBuzzPeers others within it.
func (ch *Chat) takeBuzz(from, to uint64) bool {
	now := ch.now().UnixNano()
	window := ch.cfg.BuzzInterval.Nanoseconds()
	log := ch.buzzes[from]
	if log == nil {
		log = &buzzLog{}
		ch.buzzes[from] = log
	}
	free := -1
	for i := range log.to {
		live := log.at[i] != 0 && now-log.at[i] < window
		if log.to[i] == to && log.at[i] != 0 {
			if live {
				return false
			}
			free = i
			break
		}
		if !live && free < 0 {
			free = i
		}
	}
	if free < 0 {
		return false
	}
	log.to[free], log.at[free] = to, now
	return true
}

// sweepBuzzes drops the logs of senders with no buzz left within --buzz-interval, so
// the logs kept are those of users who buzzed lately. Kept across a logout on
// purpose: reconnecting does not reset a sender's limit.
func (ch *Chat) sweepBuzzes() {
	now := ch.now().UnixNano()
	window := ch.cfg.BuzzInterval.Nanoseconds()
	for from, log := range ch.buzzes {
		if !log.live(now, window) {
			delete(ch.buzzes, from)
		}
	}
}

func (l *buzzLog) live(now, window int64) bool {
	for _, at := range l.at {
		if at != 0 && now-at < window {
			return true
		}
	}
	return false
}
