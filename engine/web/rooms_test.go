package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chromedp/chromedp"
)

// TestBrowserRooms drives the room UI, history scroll-back, acknowledged sends and
// resume after a chatd restart on the same data directory: every message is shown
// exactly once.
func TestBrowserRooms(t *testing.T) {
	cfg := chattest.Config(t)
	cfg.Chat.PingInterval = 500 * time.Millisecond
	cfg.Chat.RateLimit = 1000 // the seeder below sends its backlog at once
	cfg.Chat.RateBurst = 1000
	srv := chattest.StartConfig(t, cfg)
	base := "http://" + srv.Addr

	// 120 lobby messages from before anyone opened the page.
	seeder := chattest.Dial(t, srv.URL("Seeder", "#7f8c8d", 0))
	seeder.Expect("Authorized")
	const backlog = 120
	for i := 1; i <= backlog; i++ {
		seeder.Send(map[string]any{"text": fmt.Sprintf("old %d", i), "toUserId": 0})
	}
	for {
		m := seeder.Next()
		if m["action"] == "PublicMessage" && m["text"] == fmt.Sprintf("old %d", backlog) {
			break
		}
	}
	seeder.Conn.Close()

	alice := newBrowser(t, "alice", 1200, 760)
	bob := newBrowser(t, "bob", 1100, 720)
	alice.login(base, "Alice", "#27ae60", 2)

	t.Run("history on join and scroll-back", func(t *testing.T) {
		alice.waitJS("the last 50 lobby messages", countOld+` === 50`)
		for want := 100; want <= backlog; want += 20 {
			// Scroll to the top as a reader does; the page asks for the older page.
			alice.waitJS(fmt.Sprintf("%d lobby messages after scrolling back", min(want, backlog)), `(() => {
				const log = document.getElementById('log');
				log.scrollTop = 0;
				log.dispatchEvent(new Event('scroll'));
				return `+countOld+` >= `+fmt.Sprint(min(want, backlog))+`;
			})()`)
		}
		var texts []string
		alice.mustEval(`[...document.querySelectorAll('#log li.msg .msg-text')].map(e => e.textContent).filter(t => t.startsWith('old '))`, &texts)
		if len(texts) != backlog {
			t.Fatalf("alice shows %d backlog lines, want %d", len(texts), backlog)
		}
		for i, text := range texts {
			if text != fmt.Sprintf("old %d", i+1) {
				t.Fatalf("line %d is %q, want old %d (in order, once each)", i, text, i+1)
			}
		}
		alice.waitJS("no more history", `document.getElementById('older').hidden`)
	})

	// Bob's network goes through a proxy the test can cut.
	proxy := startProxy(t, srv.Addr)
	bob.login("http://"+proxy.Addr(), "Bob", "#2980b9", 1)

	t.Run("join, create, unread, leave", func(t *testing.T) {
		alice.do(chromedp.SendKeys(chromedp.ID("room-input"), "dev\r"))
		alice.waitJS("alice in #dev", `document.getElementById('room-title').textContent === '#dev'`)
		alice.assertAccessible("list Rooms", "textbox Room", "button Join", "log Messages in #dev")
		bob.do(chromedp.SendKeys(chromedp.ID("room-input"), "dev\r"))
		bob.waitJS("bob in #dev", `document.getElementById('room-title').textContent === '#dev'`)
		for _, b := range []*browser{alice, bob} {
			b.waitJS("#dev with 2 online", `document.querySelector('#rooms li[data-room="dev"] .room-count')?.textContent === '2'`)
			b.waitUsers("Alice", "Bob") // #dev's members
		}
		alice.waitNotice("join", "joined #dev")

		alice.say("hello {Bob}, welcome to dev")
		if got := bob.waitMessage("hello Bob, welcome to dev"); !got.Mention || got.Name != "Alice" {
			t.Errorf("bob sees %+v", got)
		}
		alice.waitJS("alice's line confirmed by Sent", `(() => {
			const li = [...document.querySelectorAll('#log li.msg')].find(li => li.textContent.includes('welcome to dev'));
			return li && !li.classList.contains('pending') && Number(li.dataset.seq) === 1;
		})()`)

		// Bob looks at the lobby; a line in #dev counts as unread there.
		switchRoom(bob, "lobby")
		bob.waitJS("bob in the lobby", `document.getElementById('room-title').textContent === 'lobby'`)
		alice.say("second line in dev")
		bob.waitJS("1 unread in #dev", `document.querySelector('#rooms li[data-room="dev"] .unread')?.textContent === '1'`)
		if n := countText(bob, "second line in dev"); n != 0 {
			t.Errorf("bob's lobby shows a #dev line %d times", n)
		}
		switchRoom(bob, "dev")
		bob.waitMessage("second line in dev")
		bob.waitJS("unread cleared", `!document.querySelector('#rooms li[data-room="dev"] .unread')`)

		// A room to leave again.
		bob.do(chromedp.SendKeys(chromedp.ID("room-input"), "tmp\r"))
		bob.waitJS("bob in #tmp", `document.getElementById('room-title').textContent === '#tmp'`)
		bob.do(chromedp.Click(chromedp.CSS(`#rooms [data-leave="tmp"]`)))
		bob.waitJS("bob left #tmp", `!document.querySelector('#rooms li[data-room="tmp"]') &&
			document.getElementById('room-title').textContent === 'lobby'`)
		switchRoom(bob, "dev")
	})

	alice.screenshot("rooms-desktop.png")

	t.Run("network drop: resume without gaps or duplicates", func(t *testing.T) {
		proxy.drop(true)
		bob.waitJS("bob offline", `document.getElementById('status').dataset.state === 'offline'`)
		for i := 1; i <= 3; i++ {
			alice.say(fmt.Sprintf("while bob was cut off %d", i))
		}
		alice.waitJS("alice's lines confirmed", `!document.querySelector('#log li.msg.pending')`)
		proxy.drop(false)
		bob.waitJS("bob online", `document.getElementById('status').dataset.state === 'online'`)
		for i := 1; i <= 3; i++ {
			bob.waitMessage(fmt.Sprintf("while bob was cut off %d", i))
		}
		alice.say("and after")
		bob.waitMessage("and after")
		for i := 1; i <= 3; i++ {
			if n := countText(bob, fmt.Sprintf("while bob was cut off %d", i)); n != 1 {
				t.Errorf("bob shows line %d %d times", i, n)
			}
		}
		alice.waitUsers("Alice", "Bob")
	})

	parent := t
	t.Run("restart: pending lines, resume, no duplicates", func(t *testing.T) {
		aliceID := func() string {
			var id string
			bob.mustEval(`document.querySelector('#users li[data-name="Alice"]')?.dataset.userId ?? ''`, &id)
			return id
		}
		before := aliceID()
		addr := srv.Addr
		srv.Stop()
		for _, b := range []*browser{alice, bob} {
			b.waitJS("offline", `document.getElementById('status').dataset.state === 'offline'`)
		}
		// Typed while offline: shown at once as pending, sent when the server is back.
		alice.say("typed while offline")
		alice.waitJS("a pending mark", `[...document.querySelectorAll('#log li.msg.pending')].some(li => li.textContent.includes('typed while offline'))`)

		cfg.Engine.Listen = addr
		srv2 := chattest.StartConfig(parent, cfg) // for the rest of the test, not this subtest
		// Someone else talks right after the restart, maybe before the pages are back.
		carol := chattest.Dial(parent, srv2.URL("Carol", "#d35400", 2))
		carol.Expect("Authorized")
		carol.Send(map[string]any{"text": "missed while you were away", "toUserId": 0})

		for _, b := range []*browser{alice, bob} {
			b.waitJS("online again", `document.getElementById('status').dataset.state === 'online'`)
			b.waitUsers("Alice", "Bob") // #dev, rejoined by resume
		}
		alice.waitNotice("self", "Reconnected as Alice")
		if after := aliceID(); after != before {
			t.Errorf("alice's userId went from %s to %s: the resume token did not give her identity back", before, after)
		}
		for _, b := range []*browser{alice, bob} { // a failed resume would show resume_failed
			var errs []string
			b.mustEval(`[...document.querySelectorAll('#log li.notice.error')].map(li => li.textContent)`, &errs)
			if len(errs) > 0 {
				t.Errorf("%s shows errors after the restart: %q", b.name, errs)
			}
		}
		bob.waitMessage("typed while offline")
		alice.waitJS("the offline line confirmed", `!document.querySelector('#log li.msg.pending')`)
		alice.say("after the restart")
		bob.waitMessage("after the restart")

		switchRoom(bob, "lobby")
		bob.waitMessage("missed while you were away")
		switchRoom(alice, "lobby")
		alice.waitMessage("missed while you were away")
		// Carol reads nothing, so the 500ms heartbeat may have dropped her by now.
		dave := chattest.Dial(t, srv2.URL("Dave", "#16a085", 1))
		dave.Expect("Authorized")
		dave.Send(map[string]any{"text": "one more", "toUserId": 0})
		alice.waitMessage("one more")
		bob.waitMessage("one more")
	})

	// Every line in every room shown once, under the name it was sent with.
	for _, b := range []*browser{alice, bob} {
		for _, r := range []string{"dev", "lobby"} {
			switchRoom(b, r)
			var dups []string
			b.mustEval(`(() => {
				const seen = new Map();
				for (const e of document.querySelectorAll('#log li.msg .msg-text')) seen.set(e.textContent, (seen.get(e.textContent) ?? 0) + 1);
				return [...seen].filter(([, n]) => n > 1).map(([t, n]) => t + ' x' + n);
			})()`, &dups)
			if len(dups) > 0 {
				t.Errorf("%s shows lines more than once in %s: %q", b.name, r, dups)
			}
		}
		if n := countText(b, "old 120"); b == alice && n != 1 {
			t.Errorf("alice's lobby shows old 120 %d times", n)
		}
		b.checkClean()
	}
	switchRoom(bob, "dev")
	bob.screenshot("rooms-after-restart.png")
}

// countOld is how many backlog lines the log shows.
const countOld = `[...document.querySelectorAll('#log li.msg .msg-text')].filter(e => e.textContent.startsWith('old ')).length`

// countText is how many chat lines of the current room show exactly text.
func countText(b *browser, text string) int {
	b.t.Helper()
	var n int
	b.mustEval(fmt.Sprintf(`[...document.querySelectorAll('#log li.msg .msg-text')].filter(e => e.textContent === %s).length`, jsString(text)), &n)
	return n
}

// switchRoom clicks a room in the room list and waits until the page shows it.
func switchRoom(b *browser, id string) {
	b.t.Helper()
	title := "#" + id
	if id == "lobby" {
		title = id
	}
	b.mustEval(fmt.Sprintf(`document.querySelector('#rooms button[data-room=%s]').click(), 1`, jsString(id)), nil)
	b.waitJS("room "+title, fmt.Sprintf(`document.getElementById('room-title').textContent === %s`, jsString(title)))
}
