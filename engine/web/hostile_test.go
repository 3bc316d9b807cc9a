package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/web"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// hostileServer serves the real page but speaks for a server that is broken or
// malicious: it sends names, colors and texts chatd itself would never let through.
// Whatever arrives, the page must show it as text and run nothing.
type hostileServer struct {
	*httptest.Server
	conns chan *websocket.Conn
}

func startHostile(t *testing.T) *hostileServer {
	t.Helper()
	h := &hostileServer{conns: make(chan *websocket.Conn, 4)}
	page := web.Handler()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !websocket.IsWebSocketUpgrade(r) {
			page.ServeHTTP(w, r)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		h.conns <- c
	}))
	t.Cleanup(h.Close)
	return h
}

func sendJSON(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readFrame reads what the page sent next, waiting at most waitFor.
func readFrame(c *websocket.Conn) (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	_, data, err := c.ReadMessage()
	return string(data), err
}

func TestBrowserHostileServer(t *testing.T) {
	h := startHostile(t)
	eve := newBrowser(t, "eve", 1000, 700)
	eve.do(chromedp.Navigate(h.URL+"/"), chromedp.WaitVisible(chromedp.ID("login-name")))
	eve.assertAccessible("textbox Name", "group Color", "radio Pomegranate", "combobox Gender", "textbox Password", "button Log in", "button Register", "button Continue without an account")
	eve.screenshot("login.png")
	eve.fillLogin(h.URL, "Eve", "#c0392b", 2)

	var c *websocket.Conn
	select {
	case c = <-h.conns:
	case <-time.After(waitFor):
		t.Fatalf("the page did not open a WebSocket\n%s", eve.dump())
	}
	defer c.Close()

	evilName := `<img src=x onerror="window.__pwned=1">`
	evilName2 := `</b><script>window.__pwned=2</script>`
	me := map[string]any{"userId": 1, "userName": "Eve", "gender": 2, "userColor": "#c0392b"}
	mallory := map[string]any{"userId": 2, "userName": evilName, "gender": "2<svg onload=window.__pwned=3>", "userColor": `#fff" onmouseover="window.__pwned=4`}
	trudy := map[string]any{"userId": 3, "userName": evilName2, "gender": 1, "userColor": "expression(window.__pwned=5)"}
	auth := map[string]any{"action": "Authorized", "users": []any{me, mallory, trudy}}
	for k, v := range me {
		auth[k] = v
	}
	sendJSON(t, c, auth)
	sendJSON(t, c, map[string]any{"action": "Connected", "userId": 1, "userName": "Eve", "gender": 2, "userColor": "#c0392b"})
	eve.waitUsers("Eve", evilName, evilName2)
	eve.assertAccessible("textbox Message", "list Users", "log Messages", "button Send")

	// Raw markup where chatd would have escaped it, markup inside the mention tags,
	// and the entities the server does produce.
	public := map[string]any{"action": "PublicMessage", "text": `<img src=x onerror="window.__pwned=6">A<b><img src=y onerror="window.__pwned=7"></b> &lt;3 &amp; &quot;q&quot; &#039;s <b>Eve</b>`, "toUserId": 0}
	for k, v := range mallory {
		public[k] = v
	}
	sendJSON(t, c, public)
	got := eve.waitMessage(`<img src=x onerror="window.__pwned=6">A<img src=y onerror="window.__pwned=7"> <3 & "q" 's Eve`)
	if got.Name != evilName || got.Color != "rgb(127, 140, 141)" || got.Gender != "" || !got.Mention ||
		len(got.Bold) != 2 || got.Bold[0] != `<img src=y onerror="window.__pwned=7">` {
		t.Errorf("eve sees %+v: want the name as text, the fallback color, no gender mark, two bold runs, a mention", got)
	}

	private := map[string]any{"action": "PrivateMessage", "text": `<svg onload="window.__pwned=8"></svg>`, "toUserId": 1}
	for k, v := range trudy {
		private[k] = v
	}
	sendJSON(t, c, private)
	// It is a conversation of its own, named as text.
	eve.waitConversation(evilName2, 1)
	eve.openConversation(evilName2)
	got = eve.waitMessage(`<svg onload="window.__pwned=8"></svg>`)
	if got.Kind != "private" || got.Dir != "in" || got.Badge != "private from "+evilName2 || got.Color != "rgb(127, 140, 141)" {
		t.Errorf("eve sees the private line as %+v", got)
	}

	// Errors are put into words; the server's own message is kept as detail.
	sendJSON(t, c, map[string]any{"action": "Error", "code": "rate_limited", "message": "too many messages; slow down"})
	eve.waitNotice("error", "You are sending messages too fast")
	sendJSON(t, c, map[string]any{"action": "Error", "code": "<i>new</i>", "message": "<img src=x onerror=window.__pwned=9>"})
	eve.waitNotice("error", "The server reported a problem. (<img src=x onerror=window.__pwned=9>)")
	eve.do(chromedp.Click(chromedp.ID("private-leave"))) // back to the room

	// Ping is answered with exactly the Qt client's Pong.
	sendJSON(t, c, map[string]any{"action": "Ping"})
	for {
		data, err := readFrame(c)
		if err != nil {
			t.Fatalf("no Pong: %v", err)
		}
		if data == `{"action":"Pong"}` {
			break
		}
		t.Logf("page sent %s before its Pong", data)
	}

	// Sent lines use the Qt client's shape, with no action key.
	eve.say("hello there")
	data, err := readFrame(c)
	if err != nil {
		t.Fatalf("no chat line: %v", err)
	}
	if data != `{"text":"hello there","toUserId":0}` {
		t.Errorf("page sent %s, want {\"text\":\"hello there\",\"toUserId\":0}", data)
	}

	// A private line goes to its recipient's id.
	eve.do(chromedp.Click(chromedp.CSS(`#users li[data-user-id="2"] [data-pm]`)))
	eve.say("psst")
	if data, err = readFrame(c); err != nil || data != `{"text":"psst","toUserId":2}` {
		t.Errorf("private line: got %s, %v; want {\"text\":\"psst\",\"toUserId\":2}", data, err)
	}

	// The peer leaves: private mode stays (marked offline) and nothing is sent, least of
	// all as a public line.
	sendJSON(t, c, map[string]any{"action": "Disconnected", "userId": 2, "userName": evilName, "gender": 0, "userColor": "#000"})
	eve.waitJS("private mode marked offline", `document.getElementById('private-bar').dataset.online === 'false' &&
		!document.getElementById('private-offline').hidden`)
	eve.do(chromedp.SendKeys(chromedp.ID("message"), "are you there?\r"))
	eve.waitJS("an offline warning", `!document.getElementById('toast').hidden`)
	sendJSON(t, c, map[string]any{"action": "Ping"})
	if data, err = readFrame(c); err != nil || data != `{"action":"Pong"}` {
		t.Errorf("after a private line to an offline peer the page sent %s, %v; want nothing before its Pong", data, err)
	}
	// The peer is back under a new id: private mode follows the name.
	sendJSON(t, c, map[string]any{"action": "Connected", "userId": 7, "userName": evilName, "gender": 0, "userColor": "#000"})
	eve.waitJS("private mode back online", `document.getElementById('private-bar').dataset.online === 'true'`)
	eve.do(chromedp.Click(chromedp.ID("send")))
	if data, err = readFrame(c); err != nil || data != `{"text":"are you there?","toUserId":7}` {
		t.Errorf("after the peer came back the page sent %s, %v", data, err)
	}

	// While the tab is hidden, an alert blinks the title until the tab is seen again.
	eve.mustEval(`Object.defineProperty(document, 'hidden', {configurable: true, get: () => true}), 1`, nil)
	private["text"] = "knock knock"
	sendJSON(t, c, private)
	eve.waitJS("a blinking title", `document.title.startsWith('(1) ')`)
	eve.mustEval(`delete document.hidden, document.dispatchEvent(new Event('visibilitychange')), 1`, nil)
	eve.waitJS("the title restored", `document.title === 'chatd'`)

	if !strings.Contains(eve.dump(), "__pwned=") {
		t.Errorf("the hostile text is not shown as text\n%s", eve.dump())
	}
	eve.assertInert()
	eve.checkClean()
}
