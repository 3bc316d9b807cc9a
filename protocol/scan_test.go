package protocol

import (
	"strings"
	"testing"
)

// The scanner itself must take the frames that matter (a fallback for everything would
// pass the equivalence fuzz but gain nothing), with no allocation beyond the result's
// strings; the frames it leaves to decodeStd are the unusual ones.
func TestScanInboundTakesHotShapes(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   Inbound
		allocs float64
	}{
		{"qt chat line", `{"text":"hi","toUserId":0}`, Inbound{Text: "hi"}, 1},
		{"qt private line", `{"text":"hi","toUserId":7}`, Inbound{Text: "hi", ToUserID: 7}, 1},
		{"durable room line", `{"text":"hi","toUserId":0,"roomId":"r1","clientMsgId":"m-1"}`, Inbound{Text: "hi", RoomID: "r1", ClientMsgID: "m-1"}, 3},
		{"explicit action", `{"action":"Message","roomId":"lobby","text":"hi"}`, Inbound{Action: ActionMessage, RoomID: DefaultRoomID, Text: "hi"}, 1},
		{"pong", `{"action":"Pong"}`, Inbound{Action: ActionPong}, 0},
		{"ack", `{"action":"Ack","roomId":"lobby","seq":123456}`, Inbound{Action: ActionAck, RoomID: DefaultRoomID, Seq: 123456}, 0},
		{"seed 001 heartbeat", `{"event":"heartBeat","content":"ping"}`, Inbound{Event: HeartbeatEvent, Content: HeartbeatPing}, 0},
		{"escapes", `{"text":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}`, Inbound{Text: "a\"b\\c/d\né😀"}, 1},
		{"lone surrogate", `{"text":"\ud800x"}`, Inbound{Text: "\ufffdx"}, 1},
		{"invalid UTF-8", "{\"text\":\"a\xffb\"}", Inbound{Text: "a\ufffdb"}, 1},
		{"id as string", `{"text":"hi","toUserId":"007"}`, Inbound{Text: "hi", ToUserID: 7}, 1},
		{"largest id", `{"toUserId":18446744073709551615}`, Inbound{ToUserID: 1<<64 - 1}, 0},
		{"last key wins", `{"text":"a","Text":"b","toUserId":5,"toUserId":null}`, Inbound{Text: "b"}, 2},
		{"null keeps a string", `{"text":"a","text":null}`, Inbound{Text: "a"}, 1},
		{"unknown keys skipped", `{"x":{"a":[1,-2.5e3,true,null,"s"]},"text":"hi","userName":"spoof"}`, Inbound{Text: "hi"}, 1},
		{"whitespace", " {\n\t\"action\" : \"Pong\" \r}\n ", Inbound{Action: ActionPong}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			got, ok := scanInbound(data)
			if !ok || got != tt.want {
				t.Fatalf("scanInbound(%s) = %+v, %v; want %+v, true", tt.in, got, ok, tt.want)
			}
			requireSameAsReference(t, data)
			if allocs := testing.AllocsPerRun(100, func() { _, _ = Decode(data) }); allocs > tt.allocs {
				t.Errorf("Decode(%s): %v allocations, want at most %v", tt.in, allocs, tt.allocs)
			}
		})
	}
}

func TestScanInboundLeavesUnusualFrames(t *testing.T) {
	for _, in := range []string{
		`{"text":5}`, `{"toUserId":1e2}`, `{"toUserId":-0}`, `{"toUserId":18446744073709551616}`,
		`{"seq":""}`, `{"seq":"\u0031"}`, `{"\u0074ext":"x"}`, `{"ſeq":1}`, `{"text":"x"}x`, `{"text":"x"`,
		`{"x":` + strings.Repeat("[", maxSkipDepth+1) + strings.Repeat("]", maxSkipDepth+1) + `}`, `[]`, ``,
	} {
		if got, ok := scanInbound([]byte(in)); ok {
			t.Errorf("scanInbound(%s) = %+v, true; want it left to decodeStd", in, got)
		}
		requireSameAsReference(t, []byte(in))
	}
}
