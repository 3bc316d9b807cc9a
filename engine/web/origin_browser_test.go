package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chromedp/chromedp"
)

// probeScript opens a WebSocket to the URL in the page's ?target= and reports what
// happened: whether it opened, the first frame's action, the close code, and the
// origin the page ran in (so the test knows the browser sent what it claims).
const probeScript = `
function probe() {
	const target = new URLSearchParams(location.search).get('target');
	return new Promise(resolve => {
		let opened = false, first = '';
		const ws = new WebSocket(target);
		ws.onopen = () => { opened = true; };
		ws.onmessage = e => {
			if (first) return;
			try { first = JSON.parse(e.data).action; } catch { first = '(not JSON)'; }
			ws.close();
		};
		ws.onclose = e => resolve({opened, first, code: e.code, origin: self.origin});
	});
}`

// probeSite is another web site: another port of 127.0.0.1 is another origin. Its
// page probes chatd itself and holds a sandboxed iframe (allow-scripts only, so the
// frame's origin is "null") that probes chatd too and posts its result to the page.
func probeSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		frame := "/frame?target=" + url.QueryEscape(r.URL.Query().Get("target"))
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>page</title>
<script>%s
window.results = {};
addEventListener('message', e => { window.results.frame = e.data; });
probe().then(r => { window.results.page = r; });
</script>
<iframe sandbox="allow-scripts" src="%s"></iframe>`, probeScript, html.EscapeString(frame))
	})
	mux.HandleFunc("/frame", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>frame</title>
<script>%s
probe().then(r => parent.postMessage(r, '*'));
</script>`, probeScript)
	})
	site := httptest.NewServer(mux) // on 127.0.0.1
	t.Cleanup(site.Close)
	return site
}

// probeResult is what probeScript reports.
type probeResult struct {
	Opened bool   `json:"opened"`
	First  string `json:"first"`
	Code   int    `json:"code"`
	Origin string `json:"origin"`
}

// handshakeErrors is chatd's count of refused upgrade requests, from its /status.
func handshakeErrors(t *testing.T, srv *chattest.Server) uint64 {
	t.Helper()
	resp, err := http.Get("http://" + srv.Addr + "/status")
	if err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	defer resp.Body.Close()
	var status struct {
		HandshakeErrors uint64 `json:"handshakeErrors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		t.Fatalf("decode /status: %v", err)
	}
	return status.HandshakeErrors
}

// TestBrowserOrigins: a real Chromium on other web sites tries to open sockets to
// chatd in its user's name. A foreign page and a sandboxed iframe (origin "null", even
// inside an allowed site) are refused before the upgrade; a site listed in
// --allowed-origins and the server's own page get in.
func TestBrowserOrigins(t *testing.T) {
	foreign := probeSite(t)
	friend := probeSite(t)
	srv := chattest.Start(t, testConfig(""), func(c *server.Config) {
		c.Engine.AllowedOrigins = []string{friend.URL}
	})
	target := url.QueryEscape("ws://" + srv.Addr + "/?userName=Probe")

	own := newBrowser(t, "own", 900, 600)
	own.login("http://"+srv.Addr, "Alice", "#8e44ad", 2)
	refusedBefore := handshakeErrors(t, srv)

	visitor := newBrowser(t, "visitor", 900, 600)
	cases := []struct {
		site       *httptest.Server
		wantOrigin map[string]string // "page", "frame" -> the origin each ran in
		wantOpen   map[string]bool
	}{
		{foreign, map[string]string{"page": foreign.URL, "frame": "null"}, map[string]bool{"page": false, "frame": false}},
		{friend, map[string]string{"page": friend.URL, "frame": "null"}, map[string]bool{"page": true, "frame": false}},
	}
	refused := 0
	for _, c := range cases {
		visitor.do(chromedp.Navigate(c.site.URL + "/page?target=" + target))
		visitor.waitJS("both probes on "+c.site.URL, `window.results && window.results.page && window.results.frame`)
		var got map[string]probeResult
		visitor.mustEval(`window.results`, &got)
		for who, open := range c.wantOpen {
			r := got[who]
			if r.Origin != c.wantOrigin[who] {
				t.Fatalf("%s on %s ran in origin %q, want %q: the test does not test what it claims", who, c.site.URL, r.Origin, c.wantOrigin[who])
			}
			if open && (!r.Opened || r.First != "Authorized") {
				t.Errorf("%s on allowed %s: %+v, want it opened and Authorized", who, c.site.URL, r)
			}
			if !open && (r.Opened || r.First != "" || r.Code != 1006) {
				t.Errorf("%s on %s (origin %q): %+v, want refused (never opened, closed 1006)", who, c.site.URL, r.Origin, r)
			}
			if !open {
				refused++
			}
		}
	}
	// Each refusal happened at chatd, by its origin check, not somewhere in the browser.
	if n := handshakeErrors(t, srv) - refusedBefore; n != uint64(refused) {
		t.Errorf("chatd refused %d upgrades, want %d", n, refused)
	}

	// The server's own page kept its connection all along and still chats.
	own.say("still here")
	own.waitMessage("still here")
	own.checkClean()
}
