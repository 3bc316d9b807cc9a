package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chatd/chatd/engine/store"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserLinksAndTimes: Bob's http(s) URLs are links for Alice (new tab, no
// opener, no referrer) without their sentence's punctuation; a javascript: or data:
// URL stays text. Each line has a <time datetime> with the full date on hover, and the
// day's first line has a "Today" separator above it.
func TestBrowserLinksAndTimes(t *testing.T) {
	alice, bob := aliceAndBob(t)
	text := "see https://example.com/a_(b). or (http://x.test/?q=1&r=2), not javascript:alert(1) data:text/html,hi {Alice}"
	bob.say(text)
	shown := "see https://example.com/a_(b). or (http://x.test/?q=1&r=2), not javascript:alert(1) data:text/html,hi Alice"
	m := alice.waitMessage(shown)
	if !m.Mention || len(m.Bold) != 1 || m.Bold[0] != "Alice" {
		t.Errorf("the mention is not rendered with the links: %+v", m)
	}
	var links []struct{ Href, Text, Rel, Target string }
	alice.mustEval(`[...document.querySelectorAll('#log .msg-text a')].map(a => ({
		Href: a.getAttribute('href'), Text: a.textContent, Rel: a.rel, Target: a.target}))`, &links)
	want := []struct{ Href, Text string }{{"https://example.com/a_(b)", "https://example.com/a_(b)"}, {"http://x.test/?q=1&r=2", "http://x.test/?q=1&r=2"}}
	if len(links) != len(want) {
		t.Fatalf("links %+v, want %+v", links, want)
	}
	for i, l := range links {
		if l.Href != want[i].Href || l.Text != want[i].Text || l.Rel != "noopener noreferrer" || l.Target != "_blank" {
			t.Errorf("link %d is %+v, want %+v with rel noopener noreferrer, target _blank", i, l, want[i])
		}
	}

	// A URL cannot carry markup or attributes out of its run.
	hostile := `https://evil.test/"onmouseover="alert(1)"><img src=x onerror=alert(1)>`
	bob.say(hostile)
	alice.waitMessage(hostile)
	var other []string
	alice.mustEval(`[...document.querySelectorAll('#log .msg-text *')].filter(e =>
		!(e.matches('b.mention-tag') && e.attributes.length === 1) &&
		!(e.matches('a.msg-link') && e.attributes.length === 4 && /^https?:/.test(e.getAttribute('href')))).map(e => e.outerHTML)`, &other)
	if len(other) != 0 {
		t.Errorf("message text has other elements: %q", other)
	}
	var last []string
	alice.mustEval(`[...[...document.querySelectorAll('#log li.msg')].pop().querySelectorAll('.msg-text a')].map(a => a.href)`, &last)
	if len(last) != 1 || last[0] != "https://evil.test/" {
		t.Errorf("the hostile URL's links are %q, want just https://evil.test/", last)
	}

	var times struct {
		Bad   []string
		Count int
		Day   string
		Label string
	}
	alice.mustEval(`(() => {
		const pad = (n) => String(n).padStart(2, '0');
		const now = new Date();
		const today = now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate());
		const msgs = [...document.querySelectorAll('#log li.msg, #log li.notice')];
		const bad = msgs.filter(li => {
			const t = li.querySelector('time');
			const at = t && new Date(t.dateTime);
			return !t || !/^\d{4}-\d\d-\d\dT/.test(t.dateTime) || Math.abs(at - now) > 60000 ||
				t.textContent !== pad(at.getHours()) + ':' + pad(at.getMinutes()) ||
				!t.title.includes(String(at.getFullYear()));
		}).map(li => li.outerHTML);
		const sep = document.querySelector('#log li.day-sep');
		return {Bad: bad, Count: msgs.length, Day: sep?.querySelector('time').dateTime === today ? 'today' : sep?.outerHTML,
			Label: sep?.textContent};
	})()`, &times)
	if times.Count == 0 || len(times.Bad) > 0 {
		t.Errorf("%d lines, these without a right <time datetime title>: %q", times.Count, times.Bad)
	}
	if times.Day != "today" || times.Label != "Today" {
		t.Errorf("the day separator is %q labeled %q, want today's labeled Today", times.Day, times.Label)
	}
	alice.checkClean()
	bob.checkClean()
}

// seedHistory stores messages in the lobby's history in dir with the real store, as a
// server that ran on those days would have, before a chatd is started on dir.
func seedHistory(t *testing.T, dir string, days ...time.Time) {
	t.Helper()
	st, err := store.OpenSQLite(dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	var b store.Batch
	for i, at := range days {
		b.Messages = append(b.Messages, store.Message{
			Room: "lobby", Seq: uint64(i + 1), TS: at.UnixMilli(), UserID: 900, UserName: "Olga",
			Color: "#2980b9", Text: fmt.Sprintf("old line %d", i+1),
		})
	}
	if err := st.Write(context.Background(), &b); err != nil {
		t.Fatalf("seed history: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
}

// TestBrowserDaySeparators: the lobby's history has 10 lines from three days ago and 70
// from yesterday. The replay on login (the last 50) shows yesterday's under a
// "Yesterday" separator, and a new line today gets "Today". The older page History
// brings in above ends with yesterday's first 20 lines: the "Yesterday" separator moves
// up above them, and the lines of three days ago get their own dated one, with no
// separator doubled or out of place.
func TestBrowserDaySeparators(t *testing.T) {
	dir := t.TempDir()
	// Around noon, so that no line strays into the next day whatever the time now.
	y, m, d := time.Now().Date()
	noon := time.Date(y, m, d, 12, 0, 0, 0, time.Local)
	var ats []time.Time
	for i := range 10 {
		ats = append(ats, noon.AddDate(0, 0, -3).Add(time.Duration(i)*time.Minute))
	}
	for i := range 70 {
		ats = append(ats, noon.AddDate(0, 0, -1).Add(time.Duration(i)*time.Second))
	}
	seedHistory(t, dir, ats...)
	srv := chattest.Start(t, testConfig(""), func(c *server.Config) { c.DataDir = dir })
	alice := newBrowser(t, "alice", 1200, 760)
	alice.login("http://"+srv.Addr, "Alice", "#8e44ad", 2)
	alice.waitMessage("old line 80")
	alice.say("today's line")
	alice.waitMessage("today's line")

	// What the log shows: each separator's day and label, and each line's day.
	layout := `(() => {
		const pad = (n) => String(n).padStart(2, '0');
		const day = (ms) => { const d = new Date(ms); return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); };
		const noonBefore = (n) => { const d = new Date(); d.setHours(12, 0, 0, 0); d.setDate(d.getDate() - n); return d.getTime(); };
		let cur = '', bad = [];
		const seps = [];
		for (const li of document.querySelectorAll('#log > li')) {
			if (li.classList.contains('day-sep')) {
				if (li.nextElementSibling?.classList.contains('day-sep')) bad.push('two separators in a row');
				if (li.querySelector('time').dateTime === cur) bad.push('a second separator for ' + cur);
				cur = li.querySelector('time').dateTime;
				seps.push(cur + ' ' + li.textContent);
				continue;
			}
			// A notice is about now; a replay of older lines may come after it.
			if (li.classList.contains('notice')) continue;
			const at = Number(li.dataset.at);
			if (day(at) !== cur) bad.push(li.textContent + ' under ' + cur);
		}
		return {seps, bad, today: day(Date.now()), yesterday: day(noonBefore(1)), old: day(noonBefore(3))};
	})()`
	var got struct {
		Seps []string
		Bad  []string
		T    string `json:"today"`
		Y    string `json:"yesterday"`
		O    string `json:"old"`
	}
	alice.mustEval(layout, &got)
	if len(got.Bad) > 0 || strings.Join(got.Seps, "|") != got.Y+" Yesterday|"+got.T+" Today" {
		t.Errorf("after login the separators are %q (problems %q), want yesterday's and today's", got.Seps, got.Bad)
	}

	alice.do(chromedp.Click(chromedp.ID("older")))
	alice.waitMessage("old line 1")
	alice.mustEval(layout, &got)
	if len(got.Seps) != 3 || len(got.Bad) > 0 || !strings.HasPrefix(got.Seps[0], got.O+" ") ||
		strings.HasSuffix(got.Seps[0], "Yesterday") || strings.HasSuffix(got.Seps[0], "Today") ||
		got.Seps[1] != got.Y+" Yesterday" || got.Seps[2] != got.T+" Today" {
		t.Errorf("after History the separators are %q (problems %q), want three days': %s, %s, %s", got.Seps, got.Bad, got.O, got.Y, got.T)
	}
	alice.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#log li.day-sep').scrollIntoView(), 1`))
	alice.screenshot("days.png")
	alice.checkClean()
}

// fillLog has Carol send lines tall enough that Alice's log scrolls.
func fillLog(t *testing.T, carol *chattest.Client, alice *browser, n int) {
	t.Helper()
	for i := range n {
		carol.Send(map[string]any{"text": fmt.Sprintf("filler %d\n.\n.\n.\n.\n.\n.\n.\n.", i), "toUserId": 0})
		carol.Expect("PublicMessage")
	}
	alice.waitJS("a log taller than its view", `(() => { const l = document.getElementById('log'); return l.scrollHeight > 2 * l.clientHeight; })()`)
}

// TestBrowserNewMessagesButton: scrolled up, Alice gets a "New messages" button when a
// line arrives; clicking it goes to the newest line and hides it; scrolling down to the
// end by herself hides it too.
func TestBrowserNewMessagesButton(t *testing.T) {
	srv := chattest.Start(t, testConfig(""))
	alice := newBrowser(t, "alice", 1000, 700)
	alice.login("http://"+srv.Addr, "Alice", "#8e44ad", 2)
	carol, _ := srv.Login(t, "Carol")
	fillLog(t, carol, alice, 8)
	const button = `document.getElementById('new-messages')`
	const atEnd = `(() => { const l = document.getElementById('log'); return l.scrollHeight - l.scrollTop - l.clientHeight < 2; })()`
	alice.waitJS("the log at its end", atEnd)
	if alice.mustBool(`!` + button + `.hidden`) {
		t.Fatalf("the New messages button shows while the log is at its end")
	}

	// The page decides on the scroll event whether to follow new lines; the test's own
	// listener runs after the page's, so once it has run the page has decided.
	scrollUp := func() {
		alice.mustEval(`(() => {
			const l = document.getElementById('log');
			window.__scrolled = false;
			l.addEventListener('scroll', () => { window.__scrolled = true; }, {once: true});
			l.scrollTop = 0;
			return 1;
		})()`, nil)
		alice.waitJS("scrolled up", `window.__scrolled && document.getElementById('log').scrollTop === 0`)
	}
	scrollUp()
	carol.Send(map[string]any{"text": "news 1", "toUserId": 0})
	alice.waitMessage("news 1")
	alice.waitJS("the New messages button", `!`+button+`.hidden`)
	alice.assertAccessible("button New messages")
	alice.screenshot("new-messages.png")
	if alice.mustBool(atEnd) {
		t.Errorf("the log followed the new line while Alice was reading above")
	}
	alice.do(chromedp.Click(chromedp.ID("new-messages")))
	alice.waitJS("the log at its end after the click", atEnd)
	alice.waitJS("the button hidden after the click", button+`.hidden`)

	scrollUp()
	carol.Send(map[string]any{"text": "news 2", "toUserId": 0})
	alice.waitJS("the New messages button again", `!`+button+`.hidden`)
	alice.mustEval(`(() => { const l = document.getElementById('log'); l.scrollTop = l.scrollHeight; return 1; })()`, nil)
	alice.waitJS("the button hidden at the end", button+`.hidden`)
	alice.checkClean()
}

// mustBool evaluates a JavaScript condition once.
func (b *browser) mustBool(expr string) bool {
	b.t.Helper()
	var ok bool
	b.mustEval("!!("+expr+")", &ok)
	return ok
}

// recordNotifications makes the page count the Notifications it constructs and its
// permission requests, in window.__notes and window.__asked, from before its scripts
// run. It wraps the browser's API; the notifications are still real ones.
func (b *browser) recordNotifications() {
	b.t.Helper()
	const src = `(() => {
		const Real = window.Notification;
		if (!Real) return;
		window.__notes = [];
		window.__asked = 0;
		class Recorded extends Real {
			constructor(title, opts) {
				super(title, opts);
				window.__notes.push({title, body: opts?.body ?? ''});
			}
			static requestPermission() {
				window.__asked++;
				return Real.requestPermission();
			}
		}
		window.Notification = Recorded;
	})()`
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
}

// grantNotifications lets origin show notifications in b's browser context.
func (b *browser) grantNotifications(origin string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission:       &cdpbrowser.PermissionDescriptor{Name: "notifications"},
		Setting:          cdpbrowser.PermissionSettingGranted,
		Origin:           origin,
		BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID,
	})
	if err != nil {
		b.t.Fatalf("%s: grant notifications: %v", b.name, err)
	}
}

// hide makes the page believe it is in a background tab, as the hostile test does.
func (b *browser) hide() {
	b.t.Helper()
	b.mustEval(`Object.defineProperty(document, 'hidden', {configurable: true, get: () => true}), 1`, nil)
}

type note struct{ Title, Body string }

func (b *browser) notes() (notes []note, asked int) {
	b.t.Helper()
	var r struct {
		Notes []note
		Asked int
	}
	b.mustEval(`({Notes: window.__notes, Asked: window.__asked})`, &r)
	return r.Notes, r.Asked
}

// TestBrowserNotifications: with notifications allowed, Alice gets none while she
// looks at the page; with her page in the background, she gets one for Bob's mention of her and one for his private message,
// none for her own lines. Bob, who never decided, is asked on his first mention while
// away, not at load, and only once.
func TestBrowserNotifications(t *testing.T) {
	srv := chattest.Start(t, testConfig(""))
	base := "http://" + srv.Addr
	alice := newBrowser(t, "alice", 1200, 760)
	bob := newBrowser(t, "bob", 1200, 760)
	alice.recordNotifications()
	bob.recordNotifications()
	alice.grantNotifications(base)
	alice.login(base, "Alice", "#8e44ad", 2)
	bob.login(base, "Bob", "#16a085", 1)
	alice.waitUsers("Alice", "Bob")
	bob.waitUsers("Alice", "Bob")
	if n, asked := bob.notes(); len(n) != 0 || asked != 0 {
		t.Errorf("at load Bob's page made notifications %v and asked %d times", n, asked)
	}

	// In view, a mention only highlights the line (it is shown synchronously with any
	// notification, so none has come by the time the line is there).
	bob.say("in view, {Alice}")
	alice.waitMessage("in view, Alice")
	if n, _ := alice.notes(); len(n) != 0 {
		t.Errorf("Alice, looking at the page, got notifications %v", n)
	}

	alice.hide()
	alice.say("note to self, {Alice}")
	bob.say("look, {Alice}")
	alice.waitMessage("look, Alice")
	alice.waitJS("a notification for the mention", `window.__notes.length >= 1`)
	bob.do(chromedp.DoubleClick(chromedp.CSS(`#users li[data-name="Alice"] button.name`)))
	bob.waitJS("the conversation with Alice", `!document.getElementById('private-bar').hidden`)
	bob.say("psst")
	alice.waitConversation("Bob", 1)
	alice.waitJS("a notification for the private message", `window.__notes.length >= 2`)
	notes, _ := alice.notes()
	want := []note{{"Bob mentioned you", "look, Alice"}, {"Private message from Bob", "psst"}}
	if fmt.Sprint(notes) != fmt.Sprint(want) {
		t.Errorf("Alice's notifications are %v, want %v", notes, want)
	}

	bob.do(chromedp.Click(chromedp.ID("private-leave"))) // back to the lobby
	bob.hide()
	alice.say("{Bob}: one")
	bob.waitMessage("Bob: one")
	bob.waitJS("the permission asked", `window.__asked === 1`)
	alice.say("{Bob}: two")
	bob.waitMessage("Bob: two")
	if n, asked := bob.notes(); len(n) != 0 || asked != 1 {
		t.Errorf("Bob, who did not allow notifications, got %v and was asked %d times, want none and once", n, asked)
	}
	alice.checkClean()
	bob.checkClean()
}
