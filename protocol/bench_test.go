package protocol

import "testing"

var (
	benchLine   = []byte(`{"text":"Привет, {Вася}! How are you <3","toUserId":0}`)
	benchSender = AppendUserFields(nil, User{ID: 12345, Name: "Вася Пупкин", Gender: GenderMale, Color: "#34495e"})
)

// decodeBenchLines are the frames the owner decodes most: the Qt client's chat line, a
// chatd client's durable line (as chatbench history sends it), Pong and Ack.
var decodeBenchLines = []struct {
	name string
	data []byte
}{
	{"qt_chat", benchLine},
	{"room_chat_clientMsgId", []byte(`{"text":"Привет, {Вася}! How are you <3","toUserId":0,"roomId":"bench-17","clientMsgId":"cb-a1b2c3-123456-98765432"}`)},
	{"pong", []byte(`{"action":"Pong"}`)},
	{"ack", []byte(`{"action":"Ack","roomId":"bench-17","seq":123456}`)},
}

func BenchmarkDecode(b *testing.B) {
	for _, line := range decodeBenchLines {
		b.Run(line.name, func(b *testing.B) { benchmarkDecoder(b, Decode, line.data) })
	}
}

// BenchmarkDecodeReference is the encoding/json decoder Decode replaced, for comparison.
func BenchmarkDecodeReference(b *testing.B) {
	for _, line := range decodeBenchLines {
		b.Run(line.name, func(b *testing.B) { benchmarkDecoder(b, decodeReference, line.data) })
	}
}

func benchmarkDecoder(b *testing.B, decode func([]byte) (Inbound, *Error), data []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := decode(data); err != nil {
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
