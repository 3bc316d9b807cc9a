package web_test

import (
	"testing"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chromedp/chromedp"
)

// twoTabs registers name in a browser, joins #dev there and opens a second tab of the
// same browser, which comes online as the same account from the saved session.
func twoTabs(t *testing.T, base, name string) (*browser, *browser) {
	t.Helper()
	one := newBrowser(t, name+" tab 1", 1200, 760)
	one.accountLogin(base, name, name+"s password", "register-account")
	one.waitAccountOnline(name)
	one.do(chromedp.SendKeys(chromedp.ID("room-input"), "dev\r"))
	one.waitJS("in #dev", `document.getElementById('room-title').textContent === '#dev'`)
	switchRoom(one, "lobby")
	two := one.newTab(name+" tab 2", 1200, 760)
	two.do(chromedp.Navigate(base + "/"))
	two.waitAccountOnline(name)
	two.waitJS("#dev rejoined in the second tab", `document.querySelector('#rooms li[data-room="dev"]')`)
	return one, two
}

// stillOnline fails unless b is online and never lost its connection.
func (b *browser) stillOnline() {
	b.t.Helper()
	var ok bool
	b.mustEval(`document.getElementById('status').dataset.state === 'online' &&
		![...document.querySelectorAll('li.notice')].some(li => li.dataset.notice === 'lost-self')`, &ok)
	if !ok {
		b.t.Errorf("%s is not online any more\n%s", b.name, b.dump())
	}
}

// TestBrowserTwoTabs: one account in two tabs is one user online twice: the second tab
// does not push the first out, others see one Gus, a line reaches both tabs (in the
// room, and in the conversation), and reading a room or a conversation in one tab
// clears its unread badge in the other (ReadMarker).
func TestBrowserTwoTabs(t *testing.T) {
	srv := chattest.Start(t, testConfig(""))
	base := "http://" + srv.Addr
	one, two := twoTabs(t, base, "Gus")
	bob := newBrowser(t, "bob", 1200, 760)
	bob.login(base, "Bob", "#16a085", 1)
	for _, b := range []*browser{one, two, bob} {
		b.waitUsers("Gus", "Bob")
	}
	one.stillOnline()

	bob.say("hello both")
	for _, b := range []*browser{one, two} {
		if got := b.waitMessage("hello both"); got.Name != "Bob" || got.Kind != "public" {
			t.Errorf("%s sees %+v, want bob's public line", b.name, got)
		}
	}

	bob.do(chromedp.SendKeys(chromedp.ID("room-input"), "dev\r"))
	bob.waitJS("bob in #dev", `document.getElementById('room-title').textContent === '#dev'`)
	bob.say("dev news 1")
	bob.say("dev news 2")
	for _, b := range []*browser{one, two} {
		b.waitJS("2 unread in #dev", `document.querySelector('#rooms li[data-room="dev"] .unread')?.textContent === '2'`)
	}
	switchRoom(two, "dev")
	two.waitMessage("dev news 2")
	one.waitJS("#dev read in the other tab", `!document.querySelector('#rooms li[data-room="dev"] .unread')`)
	var current string
	one.mustEval(`document.getElementById('room-title').textContent`, &current)
	if current != "lobby" {
		t.Errorf("the first tab shows %q, want the lobby it was in", current)
	}

	switchRoom(bob, "lobby")
	bob.do(chromedp.Click(chromedp.CSS(`#users li[data-name="Gus"] [data-pm]`)))
	bob.waitJS("bob's conversation with Gus", `document.getElementById('room-title').textContent === 'Gus'`)
	bob.say("psst, Gus")
	for _, b := range []*browser{one, two} {
		b.waitConversation("Bob", 1)
		if n := countText(b, "psst, Gus"); n != 0 {
			t.Errorf("%s shows the private line in a room's log", b.name)
		}
	}
	// Reading the conversation in one tab reads it in the other.
	two.openConversation("Bob")
	two.waitMessage("psst, Gus")
	two.waitConversation("Bob", 0)
	one.waitConversation("Bob", 0)
	// The first tab's answer is in the second's open conversation too, and in bob's.
	one.openConversation("Bob")
	one.say("got it")
	two.waitMessage("got it")
	if got := bob.waitMessage("got it"); got.Kind != "private" || got.Name != "Gus" {
		t.Errorf("bob sees %+v, want gus's private answer", got)
	}
	for _, b := range []*browser{one, two} {
		b.stillOnline()
		b.checkClean()
	}
	bob.checkClean()
}
