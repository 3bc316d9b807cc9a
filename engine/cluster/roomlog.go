package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/protocol"
)

const (
	// LinesStream is the one stream of every room's and inbox's lines.
	LinesStream = "CHATD_LINES"
	// linesPrefix starts every line subject: chatd.line.r.<room>, chatd.line.d.<lo>-<hi>
	// (a dialog) or chatd.line.u.<userId> (an old inbox).
	linesPrefix = "chatd.line."
	// HeaderSeq carries a line's seq in its room (or inbox); JetStream's own sequence
	// counts the whole stream, so it has gaps per room.
	HeaderSeq = "Chatd-Seq"
	// dedupWindow is how long JetStream remembers a Nats-Msg-Id: longer than any
	// publisher's retries of one line.
	dedupWindow = 2 * time.Minute
)

// ErrStaleTip is returned by AppendLine when another publisher appended to the room
// since the tip was read: nothing was stored; load the tip again and renumber.
var ErrStaleTip = errors.New("room tip is stale")

// Tip is what a publisher knows of a room's last line in the stream.
type Tip struct {
	StreamSeq uint64 // JetStream's sequence of the room's last line; 0: the room has none
	Seq       uint64 // that line's seq in its room
}

// LinesConfig is the lines stream: file storage (a restart of nats-server on the same
// store keeps every acknowledged line), replicas as --nats-replicas will set them.
func LinesConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        LinesStream,
		Subjects:    []string{linesPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Replicas:    replicas,
		Duplicates:  dedupWindow,
		AllowDirect: true,
	}
}

// Subject is the stream subject of a room id, a dialog id (protocol.DialogID) or an
// old inbox id (protocol.InboxID). Room ids may hold '.', NATS's token separator, so
// it becomes '=', which no room id holds.
func Subject(room string) string {
	if lo, hi, ok := protocol.DialogUsers(room); ok {
		return linesPrefix + "d." + strconv.FormatUint(lo, 10) + "-" + strconv.FormatUint(hi, 10)
	}
	if uid, ok := protocol.InboxUser(room); ok {
		return linesPrefix + "u." + strconv.FormatUint(uid, 10)
	}
	return linesPrefix + "r." + strings.ReplaceAll(room, ".", "=")
}

// AppendLine stores data as line tip.Seq+1 of room, only if tip is still the room's
// last line (Nats-Expected-Last-Subject-Sequence), under msgID (Nats-Msg-Id, so a
// retry is never stored twice). It returns the room's new tip: the line's, or, when
// JetStream reports msgID a duplicate, the stored original's. A stale tip gives
// ErrStaleTip. It blocks for a round trip: never call it on the chat's owner.
func AppendLine(ctx context.Context, js jetstream.JetStream, room string, tip Tip, msgID string, data []byte) (Tip, error) {
	msg := nats.NewMsg(Subject(room))
	msg.Data = data
	msg.Header.Set(HeaderSeq, strconv.FormatUint(tip.Seq+1, 10))
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(tip.StreamSeq), jetstream.WithMsgID(msgID))
	if isWrongLastSequence(err) {
		return tip, fmt.Errorf("append to %s after stream seq %d: %w", room, tip.StreamSeq, ErrStaleTip)
	}
	if err != nil {
		return tip, fmt.Errorf("append to %s: %w", room, err)
	}
	if !ack.Duplicate {
		return Tip{StreamSeq: ack.Sequence, Seq: tip.Seq + 1}, nil
	}
	return tipOfDuplicate(ctx, js, room, ack.Sequence)
}

// tipOfDuplicate reads the seq a duplicate's original was stored with: a retry may
// have been renumbered since, and the original's number is the one that counts.
func tipOfDuplicate(ctx context.Context, js jetstream.JetStream, room string, streamSeq uint64) (Tip, error) {
	s, err := js.Stream(ctx, LinesStream)
	if err != nil {
		return Tip{}, fmt.Errorf("duplicate in %s: %w", room, err)
	}
	m, err := s.GetMsg(ctx, streamSeq)
	if err != nil {
		return Tip{}, fmt.Errorf("duplicate in %s at stream seq %d: %w", room, streamSeq, err)
	}
	return tipOf(m)
}

// LoadTip reads room's last line from the stream: at start, and after ErrStaleTip.
func LoadTip(ctx context.Context, s jetstream.Stream, room string) (Tip, error) {
	m, err := s.GetLastMsgForSubject(ctx, Subject(room))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Tip{}, nil
	}
	if err != nil {
		return Tip{}, fmt.Errorf("load tip of %s: %w", room, err)
	}
	return tipOf(m)
}

func tipOf(m *jetstream.RawStreamMsg) (Tip, error) {
	seq, err := strconv.ParseUint(m.Header.Get(HeaderSeq), 10, 64)
	if err != nil {
		return Tip{}, fmt.Errorf("line at stream seq %d: bad %s header: %w", m.Sequence, HeaderSeq, err)
	}
	return Tip{StreamSeq: m.Sequence, Seq: seq}, nil
}

// isWrongLastSequence tells JetStream's "wrong last sequence" answer: 10071 on a
// stream of one replica, 10164 on a replicated one (nats.go jetstream/errors.go).
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}
