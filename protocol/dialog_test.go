package protocol

import (
	"encoding/json"
	"testing"
)

func TestDialogID(t *testing.T) {
	for _, tt := range []struct {
		a, b uint64
		want string
	}{{3, 7, "@3-7"}, {7, 3, "@3-7"}, {7, 7, "@7-7"}, {1, 18446744073709551615, "@1-18446744073709551615"}} {
		got := DialogID(tt.a, tt.b)
		if got != tt.want {
			t.Errorf("DialogID(%d, %d) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
		lo, hi, ok := DialogUsers(got)
		if !ok || lo != min(tt.a, tt.b) || hi != max(tt.a, tt.b) {
			t.Errorf("DialogUsers(%q) = %d, %d, %v", got, lo, hi, ok)
		}
		if ValidRoomID(got) {
			t.Errorf("%q is a valid room id too", got)
		}
	}
}

func TestDialogUsersRefusesOtherSpellings(t *testing.T) {
	for _, id := range []string{"", "@", "@7", "@3-", "@-7", "@7-3", "@03-7", "@3-07", "@+3-7", "@3--7", "@3-7-9", "@0-7", "3-7", "@3 -7", "@3-18446744073709551616", "lobby"} {
		if lo, hi, ok := DialogUsers(id); ok {
			t.Errorf("DialogUsers(%q) = %d, %d, true; want false", id, lo, hi)
		}
	}
	if _, ok := InboxUser("@3-7"); ok {
		t.Error("a dialog id parses as an inbox id")
	}
}

func TestDialogOther(t *testing.T) {
	for _, tt := range []struct {
		id    string
		user  uint64
		other uint64
		ok    bool
	}{{"@3-7", 3, 7, true}, {"@3-7", 7, 3, true}, {"@3-7", 5, 0, false}, {"@7-7", 7, 7, true}, {"@7", 7, 0, false}} {
		if o, ok := DialogOther(tt.id, tt.user); o != tt.other || ok != tt.ok {
			t.Errorf("DialogOther(%q, %d) = %d, %v; want %d, %v", tt.id, tt.user, o, ok, tt.other, tt.ok)
		}
	}
}

func TestAppendDialogs(t *testing.T) {
	last := AppendStored(nil, &Stored{RoomID: "@3-7", Seq: 12, TS: 5, Sender: AppendUserFields(nil, User{ID: 7, Name: "Bob"}), Text: "hi", ToUserID: 3})
	got := AppendDialogs(nil, []DialogEntry{
		{RoomID: "@3-7", UserID: 7, UserName: "Bob \"B\"", LastSeq: 12, Unread: 2, Last: last},
		{RoomID: "@3-9", UserID: 9, UserName: "Eve", LastSeq: 1, Unread: NoUnread},
	})
	want := `{"action":"Dialogs","dialogs":[{"roomId":"@3-7","userId":7,"userName":"Bob \"B\"","lastSeq":12,"unread":2,"last":` + string(last) + `},` +
		`{"roomId":"@3-9","userId":9,"userName":"Eve","lastSeq":1,"unread":-1}]}`
	if string(got) != want {
		t.Fatalf("AppendDialogs:\n got %s\nwant %s", got, want)
	}
	var v struct {
		Action  string
		Dialogs []map[string]any
	}
	if err := json.Unmarshal(got, &v); err != nil || v.Action != "Dialogs" || len(v.Dialogs) != 2 {
		t.Fatalf("not valid JSON: %v %+v", err, v)
	}
	if e := AppendDialogs(nil, nil); string(e) != `{"action":"Dialogs","dialogs":[]}` {
		t.Fatalf("empty = %s", e)
	}
}
