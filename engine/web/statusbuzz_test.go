package web_test

import (
	"testing"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chromedp/chromedp"
)

// aliceAndBob starts a chatd and logs Alice and Bob in, each in a browser of their
// own, and waits until Alice sees both.
func aliceAndBob(t *testing.T) (alice, bob *browser) {
	t.Helper()
	srv := chattest.Start(t, testConfig(""))
	base := "http://" + srv.Addr
	alice = newBrowser(t, "alice", 1200, 760)
	bob = newBrowser(t, "bob", 1200, 760)
	alice.login(base, "Alice", "#8e44ad", 2)
	bob.login(base, "Bob", "#16a085", 1)
	alice.waitUsers("Alice", "Bob")
	return alice, bob
}

// TestBrowserStatusAndBuzz: Alice picks "away" with a hostile status text in the
// Status picker; Bob's user list shows it beside her, inert. Bob presses the "Buzz
// Alice" button in her row; Alice's page shakes and says who buzzed her.
func TestBrowserStatusAndBuzz(t *testing.T) {
	alice, bob := aliceAndBob(t)
	bob.waitUsers("Alice", "Bob")
	alice.assertAccessible("combobox Status", "textbox Status text")
	bob.assertAccessible("button Buzz Alice")

	alice.do(
		chromedp.SetValue(chromedp.ID("my-status"), "away"),
		chromedp.SendKeys(chromedp.ID("my-status-text"), "<img src=x onerror=alert(1)> lunch\r"),
	)
	row := `document.querySelector('#users li[data-name="Alice"] .user-status')`
	bob.waitJS("Alice away in Bob's list", row+`?.dataset.status === 'away' && `+row+
		`.querySelector('.status-note').textContent === '<img src=x onerror=alert(1)> lunch'`)
	alice.waitJS("Alice's own row away", `document.querySelector('#users li.is-me .user-status')?.dataset.status === 'away'`)
	bob.assertInert()

	bob.do(chromedp.Click(chromedp.CSS(`#users li[data-name="Alice"] button[aria-label="Buzz Alice"]`)))
	alice.waitJS("the buzz notice", `(() => {
		const n = document.getElementById('buzz-notice');
		return !n.hidden && n.getAttribute('role') === 'status' && n.textContent === 'Bob buzzed you!' &&
			document.getElementById('chat-view').classList.contains('shake');
	})()`)
	bob.waitNotice("info", "You buzzed Alice.")
	// Bob's own row has no Buzz button.
	var own int
	bob.mustEval(`document.querySelectorAll('#users li.is-me .buzz-btn').length`, &own)
	if own != 0 {
		t.Errorf("Bob's own row has %d Buzz buttons", own)
	}
	alice.checkClean()
	bob.checkClean()
}

// TestBrowserTyping: while Bob types, Alice reads "Bob is typing…" under the log; his
// line, once sent, ends it.
func TestBrowserTyping(t *testing.T) {
	alice, bob := aliceAndBob(t)

	bob.do(chromedp.SendKeys(chromedp.ID("message"), "hello th"))
	alice.waitJS("Bob is typing", `document.getElementById('typing').textContent === 'Bob is typing…'`)
	bob.do(chromedp.SendKeys(chromedp.ID("message"), "ere\r"))
	alice.waitMessage("hello there")
	alice.waitJS("typing cleared", `document.getElementById('typing').textContent === ''`)
	var own string
	bob.mustEval(`document.getElementById('typing').textContent`, &own)
	if own != "" {
		t.Errorf("Bob sees %q about himself", own)
	}
	alice.checkClean()
	bob.checkClean()
}
