package files_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
)

// pngBytes starts like a PNG, which is all the sniffer reads.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 200)...)

// filesServer runs chatd with small file limits: files of at most 1,000 bytes, 2,500
// bytes a day per user.
func filesServer(t *testing.T) *chattest.Server {
	return chattest.Start(t, func(c *server.Config) { c.Files.MaxFileBytes, c.Files.QuotaPerDay = 1000, 2500 })
}

// member logs name in (opted in, so it has a resume token) and joins room; it returns
// the token.
func member(t *testing.T, s *chattest.Server, name, room string) string {
	t.Helper()
	c, auth := s.LoginQuery(t, name, url.Values{"ack": {"1"}})
	if room != "lobby" {
		c.Send(map[string]any{"action": "JoinRoom", "roomId": room})
		c.Expect("RoomJoined")
	}
	return auth["resumeToken"].(string)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("%d %q is not JSON: %v", a.status, a.body, err)
	}
	return m
}

func do(t *testing.T, method, u, token string, body io.Reader, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, b}
}

func upload(t *testing.T, s *chattest.Server, token, room, name string, content []byte) answer {
	t.Helper()
	return do(t, "POST", "http://"+s.Addr+"/api/files?roomId="+room, token, bytes.NewReader(content),
		map[string]string{"X-File-Name": url.PathEscape(name), "Content-Type": "application/octet-stream"})
}

// TestUploadAndDownload: a member uploads an image and an HTML page into a room; the
// answers carry the sniffed type and a clean name; members fetch them with their
// token, the image inline and the page as an inert attachment; others get nothing.
func TestUploadAndDownload(t *testing.T) {
	s := filesServer(t)
	alice := member(t, s, "Alice", "side")
	bob := member(t, s, "Bob", "lobby") // not in "side"

	up := upload(t, s, alice, "side", "../../etc/cat\x07 pic.png", pngBytes)
	if up.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", up.status, up.body)
	}
	info := up.json(t)
	if info["name"] != "cat pic.png" || info["type"] != "image/png" || info["size"] != float64(len(pngBytes)) ||
		info["url"] != "/api/files/"+info["fileId"].(string) {
		t.Fatalf("upload answer %v", info)
	}
	img := do(t, "GET", "http://"+s.Addr+info["url"].(string), alice, nil, nil)
	if img.status != 200 || !bytes.Equal(img.body, pngBytes) || img.header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(img.header.Get("Content-Disposition"), "inline") ||
		img.header.Get("X-Content-Type-Options") != "nosniff" || img.header.Get("Content-Security-Policy") != "sandbox" {
		t.Fatalf("download: %d %v", img.status, img.header)
	}

	page := upload(t, s, alice, "side", "page.html", []byte("<!doctype html><html><script>alert(1)</script></html>")).json(t)
	if page["type"] != "text/html" {
		t.Fatalf("the page sniffed as %v", page["type"])
	}
	got := do(t, "GET", "http://"+s.Addr+page["url"].(string), alice, nil, nil)
	if got.status != 200 || got.header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(got.header.Get("Content-Disposition"), "attachment") || got.header.Get("Content-Security-Policy") != "sandbox" {
		t.Fatalf("the page is not served inert: %v", got.header)
	}

	for _, c := range []struct {
		name, token string
		status      int
	}{{"no token", "", 401}, {"a non-member", bob, 403}, {"a forged token", alice[:len(alice)-2] + "xx", 403}} {
		if a := do(t, "GET", "http://"+s.Addr+info["url"].(string), c.token, nil, nil); a.status != c.status {
			t.Errorf("download by %s: %d, want %d", c.name, a.status, c.status)
		}
		if a := upload(t, s, c.token, "side", "x.txt", []byte("hi")); a.status != c.status {
			t.Errorf("upload by %s: %d, want %d", c.name, a.status, c.status)
		}
	}
	if a := do(t, "GET", "http://"+s.Addr+"/api/files/nosuchfile", alice, nil, nil); a.status != 404 || a.json(t)["error"] != "no_such_file" {
		t.Errorf("an unknown fileId: %d %s", a.status, a.body)
	}
}

// TestUploadLimits: a Content-Length over the cap is answered 413 before its body
// is read; a multipart file over --max-file-bytes is 413 too; an empty file is 400;
// the day's quota ends with 429.
func TestUploadLimits(t *testing.T) {
	s := filesServer(t)
	alice := member(t, s, "Alice", "lobby")

	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/files?roomId=lobby HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", alice, 20<<20)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("a 20 MiB upload got no answer: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 413 || !strings.Contains(string(body), `"error":"file_too_large"`) {
		t.Fatalf("a 20 MiB upload: %d %s", res.StatusCode, body)
	}

	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	part, _ := w.CreateFormFile("file", "big.bin")
	part.Write(bytes.Repeat([]byte("x"), 1001))
	w.Close()
	a := do(t, "POST", "http://"+s.Addr+"/api/files?roomId=lobby", alice, &mp, map[string]string{"Content-Type": w.FormDataContentType()})
	if a.status != 413 || a.json(t)["error"] != "file_too_large" {
		t.Fatalf("a 1,001-byte multipart file: %d %s", a.status, a.body)
	}
	if a := upload(t, s, alice, "lobby", "empty", nil); a.status != 400 || a.json(t)["error"] != "empty_file" {
		t.Fatalf("an empty file: %d %s", a.status, a.body)
	}
	for i, want := range []int{201, 201, 429} {
		a := upload(t, s, alice, "lobby", "f.bin", bytes.Repeat([]byte{byte(i)}, 1000))
		if a.status != want {
			t.Fatalf("upload %d of the day: %d %s, want %d", i+1, a.status, a.body, want)
		}
	}
}

// TestMultipartUpload: a browser's form upload (field "file") keeps its file name.
func TestMultipartUpload(t *testing.T) {
	s := filesServer(t)
	alice := member(t, s, "Alice", "lobby")
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	_ = w.WriteField("note", "ignored")
	part, _ := w.CreateFormFile("file", "отчёт.txt")
	part.Write([]byte("hello"))
	w.Close()
	a := do(t, "POST", "http://"+s.Addr+"/api/files?roomId=lobby", alice, &mp, map[string]string{"Content-Type": w.FormDataContentType()})
	if a.status != 201 {
		t.Fatalf("multipart upload: %d %s", a.status, a.body)
	}
	if info := a.json(t); info["name"] != "отчёт.txt" || info["type"] != "text/plain" || info["size"] != float64(5) {
		t.Fatalf("multipart answer %v", info)
	}
}

// TestLinesCarryFiles: a line with the fileId of an upload to its room delivers the
// file to everyone (the caption apart for clients that show files, and a text naming
// the file and its URL for the Qt client); History has it after a restart. A fileId
// of another room, an unknown one, or one in a private line gets no_such_file.
func TestLinesCarryFiles(t *testing.T) {
	cfg := chattest.Config(t)
	cfg.Files.MaxFileBytes, cfg.Files.QuotaPerDay = 1000, 2500
	s := chattest.StartConfig(t, cfg)
	alice, auth := s.LoginQuery(t, "Alice", url.Values{"ack": {"1"}})
	token := auth["resumeToken"].(string)
	qt, _ := s.Login(t, "Qt") // the seed's client: no opt-in
	info := upload(t, s, token, "lobby", "cat.png", pngBytes).json(t)
	id := info["fileId"].(string)

	alice.Send(map[string]any{"text": "", "fileId": id, "clientMsgId": "c1"})
	mine := alice.Expect("PublicMessage")
	file, _ := mine["file"].(map[string]any)
	wantText := "📎 cat.png (216 B) /api/files/" + id
	if file["fileId"] != id || file["name"] != "cat.png" || file["type"] != "image/png" || mine["caption"] != "" || mine["text"] != wantText {
		t.Fatalf("the line with a file: %v", mine)
	}
	if m := qt.Expect("PublicMessage"); m["text"] != wantText {
		t.Fatalf("the Qt client read %v", m)
	}
	alice.Send(map[string]any{"text": "look", "fileId": id})
	if m := alice.Expect("PublicMessage"); m["caption"] != "look" || m["text"] != "look "+wantText {
		t.Fatalf("a caption: %v", m)
	}

	alice.Send(map[string]any{"action": "JoinRoom", "roomId": "side"})
	alice.Expect("RoomJoined")
	sideID := upload(t, s, token, "side", "b.txt", []byte("side file")).json(t)["fileId"].(string)
	for _, line := range []map[string]any{
		{"text": "x", "fileId": sideID},                         // uploaded to another room
		{"text": "x", "fileId": "nosuchfile"},                   // never uploaded
		{"text": "x", "fileId": id, "toUserId": auth["userId"]}, // a private line
	} {
		alice.Send(line)
		if e := alice.Expect("Error"); e["code"] != "no_such_file" {
			t.Fatalf("%v: %v", line, e)
		}
	}

	s.Stop()
	s2 := chattest.StartConfig(t, cfg)
	bob, _ := s2.LoginQuery(t, "Bob", url.Values{"ack": {"1"}})
	bob.Send(map[string]any{"action": "History", "roomId": "lobby"})
	h := bob.Expect("History")
	msgs, _ := h["messages"].([]any)
	if len(msgs) < 2 {
		t.Fatalf("History after a restart: %v", h)
	}
	first := msgs[0].(map[string]any)
	if f, _ := first["file"].(map[string]any); f["fileId"] != id || first["text"] != wantText {
		t.Fatalf("History's first line: %v", first)
	}
	bob.Send(map[string]any{"action": "Search", "query": "look"}) // the caption is what is indexed
	found, _ := bob.Expect("SearchResults")["messages"].([]any)
	if len(found) != 1 || found[0].(map[string]any)["caption"] != "look" || found[0].(map[string]any)["file"] == nil {
		t.Fatalf("Search found %v", found)
	}
}

// TestAccountTokensUpload: an account's token (POST /api/register) works as the
// bearer, for its online user.
func TestAccountTokensUpload(t *testing.T) {
	s := filesServer(t)
	reg := do(t, "POST", "http://"+s.Addr+"/api/register", "", strings.NewReader(`{"name":"Carol","password":"carols password"}`),
		map[string]string{"Content-Type": "application/json"})
	token, _ := reg.json(t)["token"].(string)
	if reg.status != 201 || token == "" {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	if a := upload(t, s, token, "lobby", "a.txt", []byte("offline")); a.status != 403 {
		t.Fatalf("an account that is not online: %d %s", a.status, a.body)
	}
	_, auth := s.LoginQuery(t, "ignored", url.Values{"token": {token}, "ack": {"1"}})
	if auth["account"] != true {
		t.Fatalf("not logged in as the account: %v", auth)
	}
	if a := upload(t, s, token, "lobby", "a.txt", []byte("online")); a.status != 201 {
		t.Fatalf("an online account's upload: %d %s", a.status, a.body)
	}
}

// TestUploadQuotaPerAddress: names are free, so one address has a daily quota of its
// own across all the users it logs in as.
func TestUploadQuotaPerAddress(t *testing.T) {
	s := chattest.Start(t, func(c *server.Config) {
		c.Files.MaxFileBytes, c.Files.QuotaPerDay, c.Files.QuotaPerIP = 1000, 2500, 1500
	})
	alice, bob := member(t, s, "Alice", "lobby"), member(t, s, "Bob", "lobby")
	if a := upload(t, s, alice, "lobby", "a.bin", bytes.Repeat([]byte{1}, 1000)); a.status != 201 {
		t.Fatalf("Alice's upload: %d %s", a.status, a.body)
	}
	a := upload(t, s, bob, "lobby", "b.bin", bytes.Repeat([]byte{2}, 1000))
	if a.status != 429 || a.json(t)["error"] != "quota_exceeded" || !strings.Contains(a.json(t)["message"].(string), "per-ip") {
		t.Fatalf("Bob's upload from the same address: %d %s", a.status, a.body)
	}
}
