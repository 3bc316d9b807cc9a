package protocol

import "strconv"

// AppendInbound encodes a client frame, the way a client writes it: keys with zero
// values are left out, so a chat line has no action key, exactly as the Qt client sends.
func AppendInbound(dst []byte, in Inbound) []byte {
	dst = append(dst, '{')
	first := true
	key := func(k string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
	}
	if in.Action != "" {
		key("action")
		dst = AppendString(dst, in.Action)
	}
	if in.Text != "" {
		key("text")
		dst = AppendString(dst, in.Text)
	}
	if in.ToUserID != 0 || in.IsChat() && in.Event == "" {
		key("toUserId")
		dst = strconv.AppendUint(dst, in.ToUserID, 10)
	}
	if in.Event != "" {
		key("event")
		dst = AppendString(dst, in.Event)
	}
	if in.Content != "" {
		key("content")
		dst = AppendString(dst, in.Content)
	}
	if in.RoomID != "" {
		key("roomId")
		dst = AppendString(dst, in.RoomID)
	}
	if in.ClientMsgID != "" {
		key("clientMsgId")
		dst = AppendString(dst, in.ClientMsgID)
	}
	for _, kv := range [...]struct {
		k string
		v uint64
	}{{"seq", in.Seq}, {"before", in.Before}, {"limit", in.Limit}, {"offset", in.Offset}} {
		if kv.v != 0 {
			key(kv.k)
			dst = strconv.AppendUint(dst, kv.v, 10)
		}
	}
	return append(dst, '}')
}

// roster is users as the seed's Authorized lists them (AppendRosterEntry).
func roster(users [][]byte) []byte {
	var r []byte
	for _, u := range users {
		r = AppendRosterEntry(r, u)
	}
	return r
}
