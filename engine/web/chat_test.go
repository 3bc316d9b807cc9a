package web_test

import (
	"github.com/chatd/chatd/engine/server"
	"slices"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chromedp/chromedp"
)

// A fast heartbeat makes the test prove the page answers Ping with Pong: a page that
// stayed silent would be dropped (ConnectionLost) within two seconds.
func testConfig(listen string) chattest.Option {
	return func(c *server.Config) {
		if listen != "" {
			c.Engine.Listen = listen
		}
		c.Chat.PingInterval = 500 * time.Millisecond
	}
}

// TestBrowserChat drives two real browsers against a real chatd: login, presence,
// mentions, public and private messages, injection, and reconnection after a restart.
func TestBrowserChat(t *testing.T) {
	srv := chattest.Start(t, testConfig(""))
	base := "http://" + srv.Addr

	alice := newBrowser(t, "alice", 1200, 760)
	bob := newBrowser(t, "bob", 1100, 720)

	alice.login(base, "Alice", "#8e44ad", 2)
	alice.waitUsers("Alice")

	// Carol uses another client; she will not come back after the restart below, so
	// the rebuilt user list must drop her.
	carol := chattest.Dial(t, srv.URL("Carol", "#d35400", 2))
	carol.Expect("Authorized")
	carol.Send(map[string]any{"text": "Good morning, everyone!", "toUserId": 0})
	go func() { // answers Pings until the server goes away; the only user of carol from now on
		for {
			if _, err := carol.NextWithin(time.Minute); err != nil {
				return
			}
		}
	}()
	alice.waitMessage("Good morning, everyone!")

	bob.login(base, "Bob", "#16a085", 1)
	bob.waitUsers("Alice", "Bob", "Carol")
	alice.waitUsers("Alice", "Bob", "Carol")
	alice.waitNotice("join", "Bob joined the chat")
	bob.waitNotice("self", "You joined the chat as Bob")

	// The login form remembers the last choice.
	var saved map[string]any
	alice.mustEval(`JSON.parse(localStorage.getItem('chatd.login'))`, &saved)
	if saved["name"] != "Alice" || saved["color"] != "#8e44ad" || saved["gender"] != float64(2) {
		t.Errorf("alice's saved login = %v", saved)
	}

	t.Run("public message and mention", func(t *testing.T) {
		bob.say("hi {Alice}, how are you?")
		got := alice.waitMessage("hi Alice, how are you?")
		if got.Kind != "public" || got.Dir != "in" || got.Name != "Bob" || !got.Mention ||
			!slices.Equal(got.Bold, []string{"Alice"}) || got.Gender != "♂" || got.Color != "rgb(22, 160, 133)" {
			t.Errorf("alice sees %+v, want an incoming public line from Bob (♂, #16a085) mentioning her", got)
		}
		alice.waitJS("an alert for the mention", `Number(document.documentElement.dataset.alerts) >= 1`)
		own := bob.waitMessage("hi Alice, how are you?")
		if own.Kind != "public" || own.Dir != "out" || own.Mention {
			t.Errorf("bob sees his own line as %+v, want outgoing and not a mention of him", own)
		}
	})

	t.Run("click a name to mention it", func(t *testing.T) {
		alice.do(chromedp.Click(chromedp.CSS(`#users li[data-name="Bob"] button.name`)))
		alice.waitJS("{Bob} in the message box", `document.getElementById('message').value === '{Bob} '`)
		alice.do(chromedp.SendKeys(chromedp.ID("message"), "fine, thanks\r"))
		got := bob.waitMessage("Bob fine, thanks")
		if !got.Mention || got.Name != "Alice" || got.Gender != "♀" {
			t.Errorf("bob sees %+v, want Alice's line mentioning him", got)
		}
	})

	t.Run("private messages", func(t *testing.T) {
		// The visible button, for touch screens, opens the conversation: its own thread.
		alice.do(chromedp.Click(chromedp.CSS(`#users li[data-name="Bob"] [data-pm]`)))
		alice.waitJS("the conversation with Bob in view", `!document.getElementById('private-bar').hidden &&
			document.getElementById('private-name').textContent === 'Bob' &&
			document.getElementById('room-title').textContent === 'Bob'`)
		alice.say("just between us")
		out := alice.waitMessage("just between us")
		if out.Kind != "private" || out.Dir != "out" || out.Badge != "private to Bob" {
			t.Errorf("alice sees her private line as %+v, want outgoing, \"private to Bob\"", out)
		}
		// Bob is in the lobby: the line waits in his conversation with Alice, not in the room.
		bob.waitConversation("Alice", 1)
		if n := countText(bob, "just between us"); n != 0 {
			t.Errorf("the private line is in bob's lobby log (%d times)", n)
		}
		bob.waitJS("an alert for the private message", `Number(document.documentElement.dataset.alerts) >= 1`)
		bob.openConversation("Alice")
		in := bob.waitMessage("just between us")
		if in.Kind != "private" || in.Dir != "in" || in.Badge != "private from Alice" || in.Name != "Alice" {
			t.Errorf("bob sees alice's private line as %+v, want incoming, \"private from Alice\"", in)
		}
		bob.waitConversation("Alice", 0)

		for _, b := range []*browser{alice, bob} {
			b.do(chromedp.Click(chromedp.ID("private-leave")))
			b.waitJS("back in the lobby", `document.getElementById('private-bar').hidden &&
				document.getElementById('room-title').textContent === 'lobby'`)
		}
		alice.say("back in public")
		if got := bob.waitMessage("back in public"); got.Kind != "public" {
			t.Errorf("after closing the conversation alice's line is %+v, want public", got)
		}

		// Double-click on a name opens the conversation too, without inserting a mention.
		bob.do(chromedp.DoubleClick(chromedp.CSS(`#users li[data-name="Alice"] button.name`)))
		bob.waitJS("bob's conversation with Alice", `document.getElementById('private-name').textContent === 'Alice' &&
			!document.getElementById('private-bar').hidden && document.getElementById('message').value === ''`)
		bob.waitMessage("just between us") // the thread keeps what it had
		bob.say("got it")
		alice.waitConversation("Bob", 1)
		alice.openConversation("Bob")
		if got := alice.waitMessage("got it"); got.Kind != "private" || got.Dir != "in" || got.Badge != "private from Bob" {
			t.Errorf("alice sees bob's private reply as %+v", got)
		}
		for _, b := range []*browser{alice, bob} {
			b.do(chromedp.Click(chromedp.ID("private-leave")))
		}
	})

	alice.screenshot("chat-desktop.png")

	t.Run("injection is inert", func(t *testing.T) {
		// The server filters names and colors; the page must not rely on that.
		evil := chattest.Dial(t, srv.URL(`<img src=x onerror="window.__pwned=1">`, `red;background:url(javascript:window.__pwned=2)`, 1))
		evil.Expect("Authorized")
		text := `<img src=x onerror="window.__pwned=3"><script>window.__pwned=4</script><b onclick="window.__pwned=5">b</b> &amp; 'q' "dq"`
		evil.Send(map[string]any{"text": text, "toUserId": 0})
		for _, b := range []*browser{alice, bob} {
			got := b.waitMessage(text) // shown character for character, as text
			if len(got.Bold) != 0 {
				t.Errorf("%s: the sender's <b> became an element: %+v", b.name, got)
			}
			b.assertInert()
		}
		evil.Conn.Close()
		alice.waitNotice("left", "left the chat")
	})

	parent := t
	t.Run("reconnect after a restart", func(t *testing.T) {
		addr := srv.Addr
		bob.openConversation("Alice")
		srv.Worker.Stop()
		for _, b := range []*browser{alice, bob} {
			b.waitNotice("lost-self", "restarting")
		}
		// Started for the whole test: the pages must stay online after this subtest.
		srv2 := chattest.Start(parent, testConfig(addr))
		if srv2.Addr != addr {
			t.Fatalf("restarted on %s, want %s", srv2.Addr, addr)
		}
		for _, b := range []*browser{alice, bob} {
			b.waitJS("online again", `document.getElementById('status').dataset.state === 'online'`)
			b.waitUsers("Alice", "Bob")
			b.waitJS("banner gone", `document.getElementById('banner').hidden`)
		}
		alice.waitNotice("self", "Reconnected as Alice")
		// Bob was in his conversation with Alice; it follows her to her new userId.
		bob.waitJS("the conversation kept", `document.getElementById('private-name').textContent === 'Alice' &&
			document.getElementById('private-bar').dataset.online === 'true'`)
		bob.say("still there?")
		alice.waitConversation("Bob", 1)
		alice.openConversation("Bob")
		if got := alice.waitMessage("still there?"); got.Kind != "private" || got.Dir != "in" {
			t.Errorf("after reconnecting, alice sees %+v, want bob's private line", got)
		}
		alice.say("yes, {Bob}")
		if got := bob.waitMessage("yes, Bob"); got.Kind != "private" || got.Dir != "in" {
			t.Errorf("bob sees alice's answer as %+v, want a private line", got)
		}
	})

	alice.screenshot("chat-desktop-reconnected.png")

	// The phone layout: the user list is a drawer behind a button.
	bob.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulatePortrait, chromedp.EmulateMobile))
	bob.waitJS("users drawer closed on a phone", `document.getElementById('sidebar').getBoundingClientRect().right <= 0`)
	bob.screenshot("chat-phone.png")
	bob.do(chromedp.Click(chromedp.ID("users-toggle")))
	bob.waitJS("users drawer open", `document.getElementById('sidebar').getBoundingClientRect().left >= 0`)
	bob.screenshot("chat-phone-users.png")

	// Both pages stayed online through the whole test with a 500ms heartbeat, which
	// only a page that answers Ping with Pong survives.
	for _, b := range []*browser{alice, bob} {
		var lost bool
		b.mustEval(`[...document.querySelectorAll('#log li.notice')].some(li => li.dataset.notice === 'lost')`, &lost)
		if lost {
			t.Errorf("%s saw a ConnectionLost: a page did not answer Ping\n%s", b.name, b.dump())
		}
	}

	for _, b := range []*browser{alice, bob} {
		b.assertInert()
		b.checkClean()
	}
}
