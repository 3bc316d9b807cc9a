package store

import (
	"context"
	"time"
)

// Message is one stored chat message. (Room, Seq) is unique; Seq counts from 1 in
// each room without gaps, in the order the chat's owner accepted the messages.
type Message struct {
	Room        string // a public room id, or a user's inbox (protocol.InboxID)
	Seq         uint64
	TS          int64 // unix milliseconds
	UserID      uint64
	UserName    string
	Gender      int
	Color       string
	ToUserID    uint64 // a private message's recipient; 0 for a public one
	Text        string // formatted, as delivered
	ClientMsgID string // the sender's id for it, "" if none
	File        string // the file it carries, as JSON (protocol.FileRef); "" if none

	// Edit, delete and reply (edits.go).
	ReplyTo  string // a reply's quote as delivered (protocol.AppendReplyQuote), "" if none
	ReplySeq uint64 // the seq it quotes (same room), 0 if none: its delete scrubs the quote
	EditedAt int64  // unix milliseconds of the last edit, 0 if never edited
	Deleted  bool   // deleted: Text and ReplyTo are empty

	// Conn is the connection that sent it, so that Sent goes to that device of an
	// account online on several; never stored (0 after a load).
	Conn uint64
}

// Session is a resumable identity: a user that may come back with its resume token
// and get its name and userId again.
type Session struct {
	UserID   uint64
	Name     string
	Color    string
	Gender   int
	Online   bool
	LastSeen int64 // unix milliseconds of the last disconnect (or login)
	// Secret is the identity's random resume secret: its token proves it, so a token
	// names one identity only. Empty: stored before secrets existed, never resumable.
	Secret []byte
}

// Batch is what one commit writes.
type Batch struct {
	Messages []Message
	Sessions []Session
	// UserIDsUpTo reserves userIds up to it (0: none): it is kept as the highest
	// userId, so after a restart new ids start above every id handed out before.
	UserIDsUpTo uint64

	// Reactions are toggles applied in order after Messages (reactions.go); the
	// commit sets each one's outcome.
	Reactions []Reaction
	// Edits are edits and deletes of committed messages, applied after Messages.
	Edits []Edit
	// AccountRooms are accounts joining and leaving rooms, in order (accountrooms.go).
	AccountRooms []AccountRoom

	// AppliedStreamSeq, on a cluster node, is the JetStream sequence of the last
	// stream message the batch's lines came from (0: none, as on a single node); the
	// commit stores it with the lines (applied.go).
	AppliedStreamSeq uint64
}

// Len is the number of records in b (a reservation counts as one).
func (b *Batch) Len() int {
	n := len(b.Messages) + len(b.Sessions)
	n += len(b.Reactions) + len(b.Edits) + len(b.AccountRooms)
	if b.UserIDsUpTo > 0 {
		n++
	}
	if b.AppliedStreamSeq > 0 {
		n++
	}
	return n
}

// State is what the chat loads once, before it starts serving.
type State struct {
	LastSeq   map[string]uint64 // each room's (and inbox's) highest seq
	LastTS    map[string]int64  // the time of that seq's line (unix milliseconds), where it is stored
	MaxUserID uint64            // the highest userId ever stored or reserved, so new ids never reuse one
	Sessions  []Session         // identities online at the last stop, or seen since the cutoff
	// ClientMsgs are messages with a ClientMsgID stored since the cutoff (Text left
	// empty), so a resend after a restart is still recognized.
	ClientMsgs []Message
	// AccountRooms are the rooms each account is in, by userId: a login rejoins them.
	AccountRooms map[uint64][]string
	// AccountReads are each account's read positions, by userId and room.
	AccountReads map[uint64]map[string]uint64
	// AppliedStreamSeq is where a cluster node's consumer resumes: the last stream
	// sequence it committed (0 if none).
	AppliedStreamSeq uint64
}

// Store is the history's storage. Every method may block on disk: never call one on
// the chat's owner goroutine.
type Store interface {
	// Write stores b atomically and durably. Writing a message whose (Room, Seq)
	// exists already is a no-op, so a batch may be retried after an unclear failure.
	Write(ctx context.Context, b *Batch) error
	// Load returns the start-up state; since bounds Sessions and ClientMsgs.
	Load(ctx context.Context, since time.Time) (*State, error)
	// History returns up to limit messages of room with seq < before (before 0: the
	// newest), oldest first, and whether older ones exist.
	History(ctx context.Context, room string, before uint64, limit int) ([]Message, bool, error)
	// Range returns up to limit messages of room with after < seq <= upto, oldest first.
	Range(ctx context.Context, room string, after, upto uint64, limit int) ([]Message, error)
	// Reactions returns the reactions of room's messages with from <= seq <= to, by
	// seq (messages without any are absent).
	Reactions(ctx context.Context, room string, from, to uint64) (map[uint64][]ReactionCount, error)
	// Search returns up to limit messages of rooms whose text has every one of terms
	// (each a lowercased word, matched as a prefix from 3 characters on), newest
	// first (search.go).
	Search(ctx context.Context, rooms, terms []string, limit int) ([]Message, error)
	// ResumeKey returns the secret that signs resume tokens, made once and kept with
	// the history, so tokens stay valid across restarts exactly as long as the
	// identities they name do.
	ResumeKey() ([]byte, error)
	// Close releases the store; it is not used after.
	Close() error
}
