package loadgen

import "testing"

func TestParseFrame(t *testing.T) {
	var f Frame
	err := parseFrame([]byte(`{"action":"Authorized","userId":7,"userName":"Вася \"В\"","users":[{"userId":1},{"userId":7}],"extra":{"a":[1,2]}}`), &f)
	if err != nil {
		t.Fatal(err)
	}
	if f.Action != "Authorized" || f.UserID != 7 || f.UserName != `Вася "В"` || f.Users != 2 {
		t.Fatalf("got %+v", f)
	}
	f = Frame{}
	if err := parseFrame([]byte(`{"action":"Sent","roomId":"r1","seq":42,"clientMsgId":"m-1","text":"a\u003cb"}`), &f); err != nil {
		t.Fatal(err)
	}
	if f.RoomID != "r1" || f.Seq != 42 || f.ClientMsgID != "m-1" || f.Text != "a<b" {
		t.Fatalf("got %+v", f)
	}
	for _, bad := range []string{``, `{`, `[1]`, `"x"`, `{"action":"Ping"} trailing`, `{"action":"Ping",}`} {
		if err := parseFrame([]byte(bad), &Frame{}); err == nil {
			t.Errorf("parseFrame(%q) = nil error, want one", bad)
		}
	}
}

func BenchmarkParseFrame(b *testing.B) {
	data := []byte(`{"action":"PublicMessage","userId":12345,"userName":"cb1-42","gender":1,"userColor":"#34495e","text":"1:42:123456789:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","toUserId":0,"roomId":"lobby","seq":99}`)
	b.ReportAllocs()
	for b.Loop() {
		var f Frame
		if err := parseFrame(data, &f); err != nil {
			b.Fatal(err)
		}
	}
}
