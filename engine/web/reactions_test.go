package web_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chromedp/chromedp"
)

// reactionBar is a JS expression: the reaction buttons under the line whose text is text.
func reactionBar(text string) string {
	return fmt.Sprintf(`[...[...document.querySelectorAll('#log li.msg')].find(li => li.querySelector('.msg-text').textContent === %s)?.querySelectorAll('.reactions .reaction') ?? []]
		.map(b => b.dataset.emoji + ' ' + b.querySelector('.reaction-count').textContent + (b.classList.contains('mine') && b.getAttribute('aria-pressed') === 'true' ? ' mine' : '')).join('|')`, jsString(text))
}

// TestBrowserReactions: Bob opens the React picker on Alice's line and picks 👍; both
// pages show "👍 1", highlighted on Bob's only. Alice's click on it makes it 2 and
// hers; Bob's click takes his away.
func TestBrowserReactions(t *testing.T) {
	alice, bob := aliceAndBob(t)
	alice.say("react to this")
	bob.waitMessage("react to this")
	bob.assertAccessible("button React", "searchbox Search")

	line := `[...document.querySelectorAll('#log li.msg')].find(li => li.querySelector('.msg-text').textContent === 'react to this')`
	bob.waitJS("the line stored", line+`?.dataset.key !== undefined`)
	bob.mustEval(line+`.querySelector('button[aria-label="React"]').click()`, nil)
	bob.waitJS("the picker", `document.querySelector('.emoji-picker button[aria-label="👍"]') !== null`)
	bob.do(chromedp.Click(chromedp.CSS(`.emoji-picker button[aria-label="👍"]`)))
	bob.waitJS("Bob's 👍", reactionBar("react to this")+` === '👍 1 mine'`)
	alice.waitJS("Alice sees Bob's 👍", reactionBar("react to this")+` === '👍 1'`)

	alice.mustEval(line+`.querySelector('.reactions .reaction').click()`, nil)
	alice.waitJS("Alice's 👍 too", reactionBar("react to this")+` === '👍 2 mine'`)
	bob.waitJS("Bob sees 2", reactionBar("react to this")+` === '👍 2 mine'`)
	bob.mustEval(line+`.querySelector('.reactions .reaction').click()`, nil)
	bob.waitJS("Bob's taken away", reactionBar("react to this")+` === '👍 1'`)
	alice.waitJS("Alice's left", reactionBar("react to this")+` === '👍 1 mine'`)
	alice.screenshot("reactions.png")
	alice.checkClean()
	bob.checkClean()
}

// TestBrowserSearch: Carol joins after 80 more lines, so the line she looks for is
// not in her log; her search finds it (and not a word of a room she is not in), and
// the result's click loads History until it is there, and marks it.
func TestBrowserSearch(t *testing.T) {
	srv := chattest.Start(t, testConfig(""), func(c *server.Config) { c.Chat.RateBurst = 200 })
	opt := url.Values{"resume": {""}}
	bot, _ := srv.LoginQuery(t, "Bot", opt)
	bot.Send(map[string]any{"text": "the needle <b>is</b> here", "clientMsgId": "n"})
	bot.Send(map[string]any{"action": "JoinRoom", "roomId": "secret"})
	bot.Send(map[string]any{"text": "needle in the secret room", "roomId": "secret", "clientMsgId": "s"})
	for i := range 80 {
		bot.Send(map[string]any{"text": fmt.Sprintf("hay %d", i), "clientMsgId": fmt.Sprint("h", i)})
	}
	bot.ExpectWhere("the last Sent", func(m map[string]any) bool { return m["action"] == "Sent" && m["clientMsgId"] == "h79" })

	carol := newBrowser(t, "carol", 1200, 760)
	carol.login("http://"+srv.Addr, "Carol", "#8e44ad", 2)
	carol.waitMessage("hay 79")
	var shown bool
	carol.mustEval(`[...document.querySelectorAll('#log .msg-text')].some(e => e.textContent.includes('needle'))`, &shown)
	if shown {
		t.Fatal("the needle is in Carol's log before she searched")
	}
	carol.do(chromedp.SendKeys(chromedp.ID("search"), "NEEDLE\r"))
	carol.waitJS("one result", `(() => {
		const hits = [...document.querySelectorAll('#search-list .search-hit')];
		return !document.getElementById('search-results').hidden && hits.length === 1 &&
			hits[0].querySelector('.hit-text').textContent === 'the needle <b>is</b> here';
	})()`)
	carol.do(chromedp.Click(chromedp.CSS(`#search-list .search-hit`)))
	carol.waitJS("the needle found in the log", `(() => {
		const li = document.querySelector('#log li.msg.found');
		return li && li.querySelector('.msg-text').textContent === 'the needle <b>is</b> here';
	})()`)
	carol.screenshot("search.png")
	carol.mustEval(`document.getElementById('search').value = ''`, nil)
	carol.do(chromedp.SendKeys(chromedp.ID("search"), "<img src=x onerror=window.__pwned=1>\r"))
	carol.waitJS("no result for the hostile query", `document.getElementById('search-summary').textContent === 'No messages found for “<img src=x onerror=window.__pwned=1>”'`)
	carol.assertInert()
	carol.checkClean()
}
