package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// lineWith is the JS of the log's line whose text is text.
func lineWith(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#log li.msg')].find(li => li.querySelector('.msg-text').textContent === %s)`, jsString(text))
}

// TestBrowserEditDeleteReply: Alice fixes her line with Up in the composer (Bob sees
// the new text and "(edited)"), starts another edit and cancels it with Esc; Bob
// replies to her line, and both see the quote above his, which scrolls to the
// original when clicked; Alice deletes her line after the page asks her, and Bob
// sees "Message deleted" in its place and in the quote.
func TestBrowserEditDeleteReply(t *testing.T) {
	alice, bob := aliceAndBob(t)
	alice.say("hello wrold <img src=x onerror=window.__pwned=1>")
	mine := lineWith("hello wrold <img src=x onerror=window.__pwned=1>")
	alice.waitJS("the line confirmed", mine+`?.dataset.seq > 0`)
	bob.waitMessage("hello wrold <img src=x onerror=window.__pwned=1>")
	alice.assertAccessible("button Reply", "button Edit", "button Delete")
	bob.assertAccessible("button Reply")
	var bobsEdit int
	bob.mustEval(`document.querySelectorAll('#log [data-msg-action="edit"], #log [data-msg-action="delete"]').length`, &bobsEdit)
	if bobsEdit != 0 {
		t.Errorf("Bob has %d Edit or Delete buttons on Alice's line", bobsEdit)
	}
	// The buttons show on keyboard focus.
	alice.mustEval(mine+`.querySelector('[data-msg-action="reply"]').focus()`, nil)
	alice.waitJS("buttons shown on focus", `getComputedStyle(`+mine+`.querySelector('.msg-actions')).opacity === '1'`)

	// Up in the empty composer edits the last own line; Enter saves.
	alice.do(chromedp.Focus(chromedp.ID("message")), chromedp.SendKeys(chromedp.ID("message"), kb.ArrowUp))
	alice.waitJS("the line in the composer", `document.getElementById('message').value === 'hello wrold <img src=x onerror=window.__pwned=1>'`)
	alice.do(chromedp.SetValue(chromedp.ID("message"), "hello world <img src=x onerror=window.__pwned=1>"), chromedp.SendKeys(chromedp.ID("message"), "\r"))
	fixed := lineWith("hello world <img src=x onerror=window.__pwned=1>")
	bob.waitJS("the edit at Bob's", fixed+`?.querySelector('.edited-mark')?.textContent === '(edited)'`)
	alice.waitJS("the edit at Alice's", fixed+`?.querySelector('.edited-mark') != null`)

	// The Edit button starts an edit too; Esc cancels it and empties the composer.
	alice.do(chromedp.Click(chromedp.CSS(`#log li.msg.mine [data-msg-action="edit"]`)))
	alice.waitJS("editing", `document.getElementById('message').value.startsWith('hello world')`)
	alice.do(chromedp.SendKeys(chromedp.ID("message"), kb.Escape))
	alice.waitJS("edit cancelled", `document.getElementById('message').value === '' && !document.querySelector('#log li.editing')`)

	// Bob replies; the quote shows above his line, at both.
	bob.do(chromedp.Click(chromedp.CSS(`#log li.msg [data-msg-action="reply"]`)))
	bob.waitJS("replying", `[...document.querySelectorAll('.reply-bar')].some(b => !b.hidden && b.textContent.includes('Replying to Alice'))`)
	bob.say("agreed")
	reply := lineWith("agreed")
	quote := reply + `?.querySelector('.msg-quote')`
	for _, b := range []*browser{alice, bob} {
		b.waitJS("the quote", quote+`?.querySelector('.quote-name')?.textContent === 'Alice' && `+quote+
			`.querySelector('.quote-text').textContent === 'hello world <img src=x onerror=window.__pwned=1>'`)
	}
	alice.do(chromedp.Click(chromedp.CSS(`#log li.msg:not(.mine) .msg-quote`)))
	alice.waitJS("the original flashes", fixed+`.classList.contains('flash')`)

	// Delete asks in the page, then Bob sees the placeholder, in the quote too.
	alice.do(chromedp.Click(chromedp.CSS(`#log li.msg.mine [data-msg-action="delete"]`)))
	alice.waitJS("the confirmation", `document.querySelector('#log .delete-confirm')?.textContent.includes('Delete this message?')`)
	alice.assertAccessible("button Yes, delete", "button Cancel")
	alice.do(chromedp.Click(chromedp.CSS(`#log .delete-confirm [data-confirm-delete]`)))
	for _, b := range []*browser{alice, bob} {
		b.waitJS("the placeholder", `[...document.querySelectorAll('#log li.msg.deleted')].some(li => li.querySelector('.msg-text').textContent === 'Message deleted' && !li.querySelector('.msg-actions'))`)
		b.waitJS("the quote deleted", quote+`?.textContent === 'Message deleted'`)
		b.assertInert()
		b.checkClean()
	}
}
