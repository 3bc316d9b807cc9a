package chat

import (
	"errors"
	"fmt"
	"time"

	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Config is what the chat reads: heartbeat, names, colors, rate limits, history,
// acks, resume, presence and rooms. Start from DefaultConfig: New uses every value as
// it is (a zero keeps its meaning, or is refused) and never fills one in. Each field's
// comment names its chatd flag, which Validate names when the value is wrong.
type Config struct {
	PingInterval  time.Duration // --ping-interval: how often the chat sends Ping
	PingMaxMissed int           // --ping-max-missed: unanswered Pings before ConnectionLost
	MaxNameLength int           // --max-name-length: characters kept of a nickname
	MaxTextLength int           // --max-text-length: characters allowed in one chat message
	DefaultName   string        // --default-name: nickname when none (or nothing valid) is given
	DefaultColor  string        // --default-color: color when none (or an invalid one) is given
	RateLimit     float64       // --rate-limit: chat messages per second per connection
	RateBurst     int           // --rate-burst: messages a connection may send at once above the rate

	HistoryFlushInterval time.Duration // --history-flush-interval: the longest an idle writer lets messages gather before a commit (0: commit at once)
	HistoryOnJoin        int           // --history-on-join: messages a client gets on joining a room (0 or -1: none)
	AckTimeout           time.Duration // --ack-timeout: unacknowledged messages are resent after this (ack=1 clients)
	ResumeGrace          time.Duration // --resume-grace: how long a resume token keeps a user's identity after it leaves
	PresenceFullLimit    int           // --presence-full-limit: above this many members, compact presence sends counts only (0: always)
	PresenceInterval     time.Duration // --presence-interval: how often compact presence changes are sent, batched
	MaxRoomsPerUser      int           // --max-rooms-per-user: rooms a user may be in besides the default one (0: none)
	MaxRoomMembers       int           // --max-room-members: members a room may have (the default room: unlimited)
	StoreTimeout         time.Duration // --store-timeout: how long a commit may fail or hang before chat lines get store_unavailable
	BuzzInterval         time.Duration // --buzz-interval: at most one Buzz per sender and recipient this often
	EditWindow           time.Duration // --edit-window: how long after sending its author may edit a message
	Moderators           []string      // --moderators: account names that may delete any message

	// Durability is --durability, what a line that got Sent survives: power (a power
	// cut of the machine) or crash (kill -9 of chatd). The server opens the store with it.
	Durability store.Durability
}

// DefaultConfig is the chat's configuration with every default in place, as the seed
// has them where it has them (a 5-second heartbeat, the name Инкогнито).
func DefaultConfig() Config {
	return Config{
		PingInterval:         5 * time.Second,
		PingMaxMissed:        3,
		MaxNameLength:        32,
		MaxTextLength:        4000,
		DefaultName:          "Инкогнито",
		DefaultColor:         "#000000",
		RateLimit:            20,
		RateBurst:            40,
		HistoryFlushInterval: 2 * time.Millisecond,
		HistoryOnJoin:        50,
		AckTimeout:           5 * time.Second,
		ResumeGrace:          2 * time.Minute,
		PresenceFullLimit:    1000,
		PresenceInterval:     200 * time.Millisecond,
		MaxRoomsPerUser:      32,
		MaxRoomMembers:       10_000,
		StoreTimeout:         5 * time.Second,
		BuzzInterval:         10 * time.Second,
		EditWindow:           48 * time.Hour,

		Durability: store.DurabilityPower,
	}
}

// Validate reports every invalid setting, each naming its flag.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, flag, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...)))
		}
	}
	check(c.PingInterval >= 10*time.Millisecond, "ping-interval", "must be at least 10ms, got %s", c.PingInterval)
	check(c.PingMaxMissed >= 1, "ping-max-missed", "must be at least 1, got %d", c.PingMaxMissed)
	check(c.MaxNameLength >= 1 && c.MaxNameLength <= 256, "max-name-length", "must be 1..256, got %d", c.MaxNameLength)
	check(c.MaxTextLength >= 1, "max-text-length", "must be at least 1, got %d", c.MaxTextLength)
	check(c.RateLimit > 0, "rate-limit", "must be positive, got %g", c.RateLimit)
	check(c.RateBurst >= 1, "rate-burst", "must be at least 1, got %d", c.RateBurst)
	check(c.DefaultName != "" && protocol.FilterName(c.DefaultName, 0) == c.DefaultName, "default-name",
		"must be a valid nickname (letters, digits, - _ and spaces), got %q", c.DefaultName)
	check(protocol.ValidColor(c.DefaultColor), "default-color", "must be #rgb or #rrggbb, got %q", c.DefaultColor)
	check(c.HistoryFlushInterval >= 0 && c.HistoryFlushInterval <= time.Second, "history-flush-interval", "must be 0..1s, got %s", c.HistoryFlushInterval)
	check(c.HistoryOnJoin >= -1 && c.HistoryOnJoin <= 1000, "history-on-join", "must be -1..1000, got %d", c.HistoryOnJoin)
	check(c.AckTimeout >= 10*time.Millisecond, "ack-timeout", "must be at least 10ms, got %s", c.AckTimeout)
	check(c.ResumeGrace >= time.Second, "resume-grace", "must be at least 1s, got %s", c.ResumeGrace)
	check(c.PresenceFullLimit >= 0, "presence-full-limit", "must not be negative, got %d", c.PresenceFullLimit)
	check(c.PresenceInterval >= 10*time.Millisecond && c.PresenceInterval <= 10*time.Second, "presence-interval", "must be 10ms..10s, got %s", c.PresenceInterval)
	check(c.MaxRoomsPerUser >= 0, "max-rooms-per-user", "must not be negative, got %d", c.MaxRoomsPerUser)
	check(c.StoreTimeout >= 100*time.Millisecond, "store-timeout", "must be at least 100ms, got %s", c.StoreTimeout)
	check(c.Durability.Valid(), "durability", "must be %s or %s, got %q", store.DurabilityPower, store.DurabilityCrash, c.Durability)
	check(c.BuzzInterval >= 100*time.Millisecond && c.BuzzInterval <= time.Hour, "buzz-interval", "must be 100ms..1h, got %s", c.BuzzInterval)
	check(c.EditWindow >= 100*time.Millisecond, "edit-window", "must be at least 100ms, got %s", c.EditWindow)
	check(c.MaxRoomMembers >= 2, "max-room-members", "must be at least 2, got %d", c.MaxRoomMembers)
	return errors.Join(errs...)
}
