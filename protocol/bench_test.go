package protocol

import "testing"

var (
	benchLine   = []byte(`{"text":"Привет, {Вася}! How are you <3","toUserId":0}`)
	benchSender = AppendUserFields(nil, User{ID: 12345, Name: "Вася Пупкин", Gender: GenderMale, Color: "#34495e"})
)

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine)))
	for b.Loop() {
		if _, err := Decode(benchLine); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatText(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = FormatText("Привет, {Вася}! How are you <3")
	}
}

func BenchmarkEncodePublicMessage(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 512)
	text := FormatText("Привет, {Вася}! How are you <3")
	for b.Loop() {
		buf = AppendChat(buf[:0], ActionPublicMessage, benchSender, text, 0)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodeAuthorized1000(b *testing.B) {
	b.ReportAllocs()
	users := make([][]byte, 1000)
	for i := range users {
		users[i] = AppendUserFields(nil, User{ID: uint64(i + 1), Name: "user", Gender: i % 3, Color: "#16a085"})
	}
	var buf []byte
	for b.Loop() {
		buf = AppendAuthorizedRoster(buf[:0], users[0], roster(users))
	}
	b.SetBytes(int64(len(buf)))
}
