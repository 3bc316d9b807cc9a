package chat

import (
	"encoding/json"
	"time"

	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// FileMember answers the file routes (package files): the userId a bearer token
// names, if that user is online and a member of room now. The token is a resume
// token, which proves its identity and no other (resume.go), or an account's token
// (engine/accounts; a JWT is not taken here). Safe from any goroutine but the owner:
// it asks the owner and waits.
func (ch *Chat) FileMember(token, room string) (userID uint64, ok bool) {
	if token == "" || !protocol.ValidRoomID(room) {
		return 0, false
	}
	account, isAccount := uint64(0), false
	if ch.acct.svc != nil { // the accounts' index has a lock of its own: not on the owner
		if a, found := ch.acct.svc.Session(token); found {
			account, isAccount = a.UserID, true
		}
	}
	ch.w.Call(func() {
		var u *user
		if isAccount {
			u = ch.users[account]
		} else {
			u, _ = ch.resumeIdentity(token) // online only: files go to rooms a user is in
		}
		if u == nil || u.rooms.get(room) == nil {
			return
		}
		userID, ok = u.info.ID, true
	})
	return userID, ok
}

// FileUploaded keeps f for the lines that will carry its fileId (see recentUploads).
func (ch *Chat) FileUploaded(f store.File) {
	ch.w.Post(func() { ch.uploads.add(f, ch.now()) })
}

// recentUploads are the files uploaded lately, by fileId: a line may carry a fileId
// for uploadTTL after its upload, and at most maxRecentUploads are kept (the oldest
// go first), so what the owner holds for uploads is bounded whatever clients do.
type recentUploads struct {
	byID  map[string]store.File
	order []string // fileIds, oldest first
	at    []time.Time
}

const (
	uploadTTL        = 24 * time.Hour
	maxRecentUploads = 10_000
)

func (r *recentUploads) add(f store.File, now time.Time) {
	if r.byID == nil {
		r.byID = make(map[string]store.File)
	}
	r.expire(now)
	if len(r.order) >= maxRecentUploads {
		delete(r.byID, r.order[0])
		r.order, r.at = r.order[1:], r.at[1:]
	}
	r.byID[f.ID] = f
	r.order, r.at = append(r.order, f.ID), append(r.at, now)
}

func (r *recentUploads) expire(now time.Time) {
	n := 0
	for n < len(r.order) && now.Sub(r.at[n]) > uploadTTL {
		delete(r.byID, r.order[n])
		n++
	}
	r.order, r.at = r.order[n:], r.at[n:]
}

// get is the upload fileId names, if it was uploaded to room within uploadTTL.
func (r *recentUploads) get(fileID, room string, now time.Time) (store.File, bool) {
	r.expire(now)
	f, ok := r.byID[fileID]
	return f, ok && f.Room == room
}

// attachFile puts the upload fileID names into m, a line of m.Room, if it was
// uploaded to that room within uploadTTL; else the sender gets no_such_file.
func (ch *Chat) attachFile(u *user, m *store.Message, fileID string) bool {
	f, ok := ch.uploads.get(fileID, m.Room, ch.now())
	if !ok {
		ch.sendError(u, &protocol.Error{Code: protocol.CodeNoSuchFile, Message: "no file with that fileId was uploaded to this room in the last 24 hours"})
		return false
	}
	ref, _ := json.Marshal(protocol.FileRef{ID: f.ID, URL: "/api/files/" + f.ID, Name: f.Name, Size: f.Size, Type: f.Type})
	m.File = string(ref)
	return true
}
