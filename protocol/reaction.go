package protocol

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Reactions (chatd's additions, docs/PROTOCOL.md#reactions).
const (
	ActionReact     = "React"     // client: toggle one's reaction on roomId/seq
	ActionReactions = "Reactions" // server: a message's full reaction state (opt-in clients only)
)

// MaxEmojiBytes bounds one emoji in bytes: the longest ZWJ sequences in use (a
// family of four with skin tones) take about 40. (How many distinct emoji a message
// may carry is the store's store.MaxReactionEmoji.)
const MaxEmojiBytes = 64

// Reaction error codes.
const (
	CodeBadEmoji         Code = "bad_emoji"          // React's emoji is not one emoji grapheme cluster
	CodeNoSuchMessage    Code = "no_such_message"    // the seq names no message of the room
	CodeTooManyReactions Code = "too_many_reactions" // the message has 20 distinct emoji already
)

// ReactionCount is one emoji on a message and who reacted with it, in reaction order.
type ReactionCount struct {
	Emoji   string
	UserIDs []uint64
}

// DecodeEmoji reads the "emoji" of a React request (kept out of Inbound, like status,
// so the hot path's decoder stays as it is) and checks it with ValidEmoji.
func DecodeEmoji(data []byte) (string, *Error) {
	var w struct {
		Emoji *string `json:"emoji"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return "", errorf(CodeBadField, "emoji must be a string")
	}
	if w.Emoji == nil || !ValidEmoji(*w.Emoji) {
		return "", errorf(CodeBadEmoji, "emoji must be one emoji")
	}
	return *w.Emoji, nil
}

// ValidEmoji reports whether s is exactly one grapheme cluster that is an emoji: a
// pictograph with an optional VS16 or skin tone, ZWJ sequences of those, a flag
// (two regional indicators, or a tag sequence), or a keycap.
func ValidEmoji(s string) bool {
	if s == "" || len(s) > MaxEmojiBytes || !utf8.ValidString(s) {
		return false
	}
	if _, rest, _, _ := uniseg.FirstGraphemeClusterInString(s, -1); rest != "" {
		return false
	}
	r, n := utf8.DecodeRuneInString(s)
	switch {
	case isRegional(r):
		r2, n2 := utf8.DecodeRuneInString(s[n:])
		return isRegional(r2) && n+n2 == len(s)
	case r == '#' || r == '*' || ('0' <= r && r <= '9'):
		return s[n:] == "\u20e3" || s[n:] == "\ufe0f\u20e3"
	}
	return validZWJSequence(s)
}

// validZWJSequence checks elements joined by ZWJ, each a pictograph followed by at
// most one VS16 or skin-tone modifier, or by a tag sequence (subdivision flags).
func validZWJSequence(s string) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !isPictographic(r) {
			return false
		}
		s = s[n:]
		r, n = utf8.DecodeRuneInString(s)
		switch {
		case r == 0xFE0F || (0x1F3FB <= r && r <= 0x1F3FF):
			s = s[n:]
			r, n = utf8.DecodeRuneInString(s)
		case 0xE0020 <= r && r <= 0xE007E:
			for 0xE0020 <= r && r <= 0xE007E {
				s = s[n:]
				r, n = utf8.DecodeRuneInString(s)
			}
			if r != 0xE007F {
				return false
			}
			s = s[n:]
			r, n = utf8.DecodeRuneInString(s)
		}
		if len(s) == 0 {
			return true
		}
		if r != 0x200D || n == len(s) {
			return false
		}
		s = s[n:]
	}
	return false
}

func isRegional(r rune) bool { return 0x1F1E6 <= r && r <= 0x1F1FF }

// pictographs are the ranges of Unicode's Extended_Pictographic property (coarsened
// to whole blocks above U+1F000), less the regional indicators and skin tones,
// which never stand alone.
var pictographs = [][2]rune{
	{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA},
	{0x231A, 0x231B}, {0x2328, 0x2328}, {0x2388, 0x2388}, {0x23CF, 0x23CF},
	{0x23E9, 0x23F3}, {0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB},
	{0x25B6, 0x25B6}, {0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x27BF},
	{0x2934, 0x2935}, {0x2B05, 0x2B07}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50},
	{0x2B55, 0x2B55}, {0x3030, 0x3030}, {0x303D, 0x303D}, {0x3297, 0x3297},
	{0x3299, 0x3299}, {0x1F000, 0x1F1E5}, {0x1F200, 0x1F3FA}, {0x1F400, 0x1FAFF},
	{0x1FC00, 0x1FFFD},
}

func isPictographic(r rune) bool {
	for _, p := range pictographs {
		if r < p[0] {
			return false
		}
		if r <= p[1] {
			return true
		}
	}
	return false
}

// AppendReactions writes the Reactions action: the message's full reaction state.
func AppendReactions(dst []byte, roomID string, seq uint64, rs []ReactionCount) []byte {
	dst = append(dst, `{"action":"Reactions","roomId":`...)
	dst = AppendString(dst, roomID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"reactions":`...)
	dst = AppendReactionList(dst, rs)
	return append(dst, '}')
}

// AppendReactionList writes rs as a JSON array of {"emoji","count","userIds"}.
func AppendReactionList(dst []byte, rs []ReactionCount) []byte {
	dst = append(dst, '[')
	for i, r := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"emoji":`...)
		dst = AppendString(dst, r.Emoji)
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, int64(len(r.UserIDs)), 10)
		dst = append(dst, `,"userIds":[`...)
		for j, id := range r.UserIDs {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, id, 10)
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, ']')
}

// WithReactions adds "reactions" to an encoded message object (AppendStored), for
// History and replays of messages that have any.
func WithReactions(msg []byte, rs []ReactionCount) []byte {
	if len(rs) == 0 || len(msg) == 0 || msg[len(msg)-1] != '}' {
		return msg
	}
	msg = append(msg[:len(msg)-1], `,"reactions":`...)
	msg = AppendReactionList(msg, rs)
	return append(msg, '}')
}
