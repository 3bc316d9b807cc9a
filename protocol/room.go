package protocol

import "strconv"

// MaxRoomIDLength is the longest room id, in bytes (room ids are ASCII).
const MaxRoomIDLength = 64

// ValidRoomID reports whether id is a public room's id: 1 to 64 characters of
// A-Z a-z 0-9 _ - and '.'. A user's private inbox ("@" + userId, see InboxID) is not
// a valid public id, so the two can never collide.
func ValidRoomID(id string) bool {
	if len(id) == 0 || len(id) > MaxRoomIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// InboxID is the stream that holds a user's private messages, both those it receives
// and the echoes of those it sends: each has its own seq there, so a client resumes
// and acknowledges private messages exactly as it does a room's.
func InboxID(userID uint64) string { return InboxPrefix + strconv.FormatUint(userID, 10) }

// InboxPrefix starts every inbox id; room ids cannot start with it.
const InboxPrefix = "@"

// InboxUser returns the userId of an InboxID, or false.
func InboxUser(id string) (uint64, bool) {
	if len(id) < 2 || id[0] != '@' {
		return 0, false
	}
	n, err := strconv.ParseUint(id[1:], 10, 64)
	return n, err == nil && n > 0
}

// RoomCount is one entry of a Rooms answer.
type RoomCount struct {
	RoomID string
	Count  int
	Unread int // an account's unread lines in a room it is in; NoUnread: not sent
}

// RoomsPage is one page of a Rooms answer: Rooms from Offset of Total rooms with
// members, More when rooms after this page exist.
type RoomsPage struct {
	Rooms  []RoomCount
	Offset int
	Total  int
	More   bool
}

// AppendRooms writes the answer to Rooms: the keys it had before paging came first, so
// a client that sends plain {"action":"Rooms"} reads it as it did.
func AppendRooms(dst []byte, p RoomsPage) []byte {
	dst = append(dst, `{"action":"Rooms","rooms":[`...)
	for i, r := range p.Rooms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"roomId":`...)
		dst = AppendString(dst, r.RoomID)
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, int64(r.Count), 10)
		if r.Unread != NoUnread {
			dst = append(dst, `,"unread":`...)
			dst = strconv.AppendInt(dst, int64(r.Unread), 10)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `],"offset":`...)
	dst = strconv.AppendInt(dst, int64(p.Offset), 10)
	dst = append(dst, `,"total":`...)
	dst = strconv.AppendInt(dst, int64(p.Total), 10)
	dst = append(dst, `,"more":`...)
	dst = strconv.AppendBool(dst, p.More)
	return append(dst, '}')
}

// MemberPage is a room's member count and one page of its members (pre-encoded by
// AppendUserFields), as RoomJoined and Users carry them.
type MemberPage struct {
	RoomID string
	Count  int
	Offset int
	Users  [][]byte
	// Statuses, if not nil, holds each user's AppendStatusFields, spliced after its
	// fields: opt-in clients get them, the seed's never.
	Statuses [][]byte
	More     bool // members after this page exist; ask with Users
	Unread   int  // RoomJoined of an account: its unread lines there, sent when above 0
}

// AppendMemberPage writes RoomJoined or Users.
func AppendMemberPage(dst []byte, action string, p MemberPage) []byte {
	dst = append(dst, `{"action":`...)
	dst = AppendString(dst, action)
	dst = append(dst, `,"roomId":`...)
	dst = AppendString(dst, p.RoomID)
	dst = appendPageTail(dst, p)
	return append(dst, '}')
}

// appendPageTail writes ,"count":..,"offset":..,"users":[..],"more":..
func appendPageTail(dst []byte, p MemberPage) []byte {
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(p.Count), 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, int64(p.Offset), 10)
	dst = append(dst, `,"users":[`...)
	for i, u := range p.Users {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		dst = append(dst, u...)
		if p.Statuses != nil {
			dst = append(dst, p.Statuses[i]...)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `],"more":`...)
	dst = strconv.AppendBool(dst, p.More)
	if p.Unread > 0 {
		dst = append(dst, `,"unread":`...)
		dst = strconv.AppendInt(dst, int64(p.Unread), 10)
	}
	return dst
}

// AppendAuthorizedPage writes Authorized for a client that opted in to rooms (any of
// the query parameters presence, ack or resume): the seed's keys, with users holding
// the default room's first page, then the room, count, paging and the resume token.
func AppendAuthorizedPage(dst, self []byte, p MemberPage, resumeToken string, resumed bool) []byte {
	dst = append(dst, `{"action":"Authorized",`...)
	dst = append(dst, self...)
	dst = append(dst, `,"roomId":`...)
	dst = AppendString(dst, p.RoomID)
	dst = appendPageTail(dst, p)
	dst = append(dst, `,"resumeToken":`...)
	dst = AppendString(dst, resumeToken)
	dst = append(dst, `,"resumed":`...)
	dst = strconv.AppendBool(dst, resumed)
	return append(dst, '}')
}

// AppendRoomLeft writes the answer to LeaveRoom.
func AppendRoomLeft(dst []byte, roomID string) []byte {
	dst = append(dst, `{"action":"RoomLeft","roomId":`...)
	dst = AppendString(dst, roomID)
	return append(dst, '}')
}

// PresenceRoom is one room's changes in a Presence frame. With CountOnly (a room
// above --presence-full-limit) only the count is written.
type PresenceRoom struct {
	RoomID    string
	Count     int
	CountOnly bool
	Joined    [][]byte // users' fields (AppendUserFields)
	Left      []uint64 // userIds that left or disconnected
	Lost      []uint64 // userIds dropped by the heartbeat
}

// AppendPresenceRoom writes one room's entry of a Presence frame, so that it can be
// encoded once and spliced into the frame of every member.
func AppendPresenceRoom(dst []byte, r PresenceRoom) []byte {
	dst = append(dst, `{"roomId":`...)
	dst = AppendString(dst, r.RoomID)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(r.Count), 10)
	if !r.CountOnly {
		dst = append(dst, `,"joined":[`...)
		for i, u := range r.Joined {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '{')
			dst = append(dst, u...)
			dst = append(dst, '}')
		}
		dst = append(dst, `],"left":`...)
		dst = appendIDs(dst, r.Left)
		dst = append(dst, `,"lost":`...)
		dst = appendIDs(dst, r.Lost)
	}
	return append(dst, '}')
}

func appendIDs(dst []byte, ids []uint64) []byte {
	dst = append(dst, '[')
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, id, 10)
	}
	return append(dst, ']')
}

// PresenceHead and PresenceTail wrap room entries (AppendPresenceRoom, comma
// separated) into one Presence frame.
const (
	PresenceHead = `{"action":"Presence","rooms":[`
	PresenceTail = `]}`
)
