package protocol

// scanInbound is Decode's fast path: one pass over the frame, no reflection, and no
// allocation beyond the strings the result holds. It takes only what it decodes exactly
// as encoding/json into wireInbound would (FuzzDecodeEquivalence checks that); for
// anything else (an error of any kind, a key that needs unescaping or Unicode case
// folding, a number in an odd form, deep nesting) it answers ok == false and Decode
// asks decodeStd, so every error and every unusual frame is the old decoder's verdict.
func scanInbound(data []byte) (in Inbound, ok bool) {
	s := scanner{data: data}
	s.skipSpace()
	if !s.consume('{') {
		return Inbound{}, false
	}
	s.skipSpace()
	if s.consume('}') {
		return in, s.atEnd()
	}
	for {
		key, ok := s.plainKey()
		if !ok {
			return Inbound{}, false
		}
		s.skipSpace()
		if !s.consume(':') {
			return Inbound{}, false
		}
		s.skipSpace()
		if !s.field(&in, key) {
			return Inbound{}, false
		}
		s.skipSpace()
		if s.consume(',') {
			s.skipSpace()
			continue
		}
		if s.consume('}') {
			return in, s.atEnd()
		}
		return Inbound{}, false
	}
}

// scanner is a position in one frame.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) consume(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// atEnd reports whether only whitespace follows the object, as encoding/json requires.
func (s *scanner) atEnd() bool {
	s.skipSpace()
	return s.pos == len(s.data)
}

// plainKey reads an object key made of printable ASCII without escapes. Any other key
// goes to decodeStd: encoding/json unescapes keys and folds Unicode case, so "\u0074ext",
// "ſeq" (long s) or "lİmit" may name a field.
func (s *scanner) plainKey() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return s.data[start : s.pos-1], true
		case c == '\\' || c < ' ' || c >= 0x80:
			return nil, false
		}
		s.pos++
	}
	return nil, false
}

// field decodes the value of key into in, or skips it if the protocol does not define
// key. Keys match as encoding/json matches ASCII names: ignoring case, the last wins.
func (s *scanner) field(in *Inbound, key []byte) bool {
	var lower [len("clientmsgid")]byte
	if len(key) > len(lower) {
		return s.skipValue(0)
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower[:len(key)]) {
	case "action":
		return s.stringField(&in.Action, internAction)
	case "text":
		return s.stringField(&in.Text, nil)
	case "touserid":
		return s.uintField(&in.ToUserID)
	case "event":
		return s.stringField(&in.Event, internHeartbeat)
	case "content":
		return s.stringField(&in.Content, internHeartbeat)
	case "roomid":
		return s.stringField(&in.RoomID, internRoomID)
	case "clientmsgid":
		return s.stringField(&in.ClientMsgID, nil)
	case "fileid":
		return s.stringField(&in.FileID, nil)
	case "seq":
		return s.uintField(&in.Seq)
	case "before":
		return s.uintField(&in.Before)
	case "limit":
		return s.uintField(&in.Limit)
	case "offset":
		return s.uintField(&in.Offset)
	}
	return s.skipValue(0)
}

// stringField sets *dst from a JSON string. null leaves *dst as it was, as
// encoding/json does for a string (so in {"text":"a","text":null} the text is "a").
// Any other type is a bad_field that decodeStd words.
func (s *scanner) stringField(dst *string, intern func([]byte) (string, bool)) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	if s.peek() != '"' {
		return false
	}
	raw, plain, ok := s.stringToken()
	if !ok {
		return false
	}
	if !plain {
		*dst = unquoteJSON(raw)
		return true
	}
	if intern != nil {
		if v, ok := intern(raw); ok {
			*dst = v
			return true
		}
	}
	*dst = string(raw)
	return true
}

// uintField sets *dst from what userID.UnmarshalJSON accepts in its plain forms: a
// number of digits only, a string of digits only (leading zeros allowed, as
// strconv.ParseUint allows them), or null for 0. Anything else, an overflow included,
// goes to decodeStd.
func (s *scanner) uintField(dst *uint64) bool {
	switch c := s.peek(); {
	case c == 'n':
		*dst = 0
		return s.literal("null")
	case c == '"':
		raw, plain, ok := s.stringToken()
		if !ok || !plain {
			return false
		}
		n, ok := parseDigits(raw)
		*dst = n
		return ok
	case c == '0':
		s.pos++
		*dst = 0
		return !s.numberGoesOn()
	case '1' <= c && c <= '9':
		start := s.pos
		for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
			s.pos++
		}
		n, ok := parseDigits(s.data[start:s.pos])
		*dst = n
		return ok && !s.numberGoesOn()
	}
	return false
}

// numberGoesOn reports whether a number continues past its integer part (a fraction,
// an exponent, or a digit after a leading 0): not a plain count, decodeStd decides.
func (s *scanner) numberGoesOn() bool {
	switch s.peek() {
	case '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseDigits parses a non-empty run of ASCII digits; ok is false on overflow or any
// other byte.
func parseDigits(b []byte) (n uint64, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	const maxBeforeDigit = (1<<64 - 1) / 10
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		d := uint64(c - '0')
		if n > maxBeforeDigit || n*10 > 1<<64-1-d {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// internAction returns the constant for an action a client sends, so the frames the
// owner sees most (Pong, Ack, Message) cost no allocation for their action.
func internAction(b []byte) (string, bool) {
	switch string(b) {
	case ActionPong:
		return ActionPong, true
	case ActionMessage:
		return ActionMessage, true
	case ActionAck:
		return ActionAck, true
	case ActionPublicMessage:
		return ActionPublicMessage, true
	case ActionPrivateMessage:
		return ActionPrivateMessage, true
	case ActionJoinRoom:
		return ActionJoinRoom, true
	case ActionLeaveRoom:
		return ActionLeaveRoom, true
	case ActionHistory:
		return ActionHistory, true
	case ActionUsers:
		return ActionUsers, true
	case ActionRooms:
		return ActionRooms, true
	case ActionSetStatus:
		return ActionSetStatus, true
	case ActionBuzz:
		return ActionBuzz, true
	case ActionTyping:
		return ActionTyping, true
	}
	return "", false
}

// internHeartbeat returns the constants of seed 001's heartbeat frame.
func internHeartbeat(b []byte) (string, bool) {
	switch string(b) {
	case HeartbeatEvent:
		return HeartbeatEvent, true
	case HeartbeatPing:
		return HeartbeatPing, true
	}
	return "", false
}

func internRoomID(b []byte) (string, bool) {
	if string(b) == DefaultRoomID {
		return DefaultRoomID, true
	}
	return "", false
}
