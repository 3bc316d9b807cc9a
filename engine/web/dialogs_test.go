package web_test

import (
	"fmt"
	"testing"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chromedp/chromedp"
)

// conversation is the JavaScript for the entry of the conversation with name in the
// list named "Conversations".
func conversation(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('ul[aria-label="Conversations"] button[data-dialog]')].find(b => b.querySelector('.room-name').textContent === %s)`, jsString(name))
}

// waitConversation waits until the conversation with name is listed with unread unread
// lines (0: no badge).
func (b *browser) waitConversation(name string, unread int) {
	b.t.Helper()
	badge := fmt.Sprintf(`(%s)?.querySelector('.unread')`, conversation(name))
	want := "!" + badge
	if unread > 0 {
		want = fmt.Sprintf(`%s?.textContent === '%d'`, badge, unread)
	}
	b.waitJS(fmt.Sprintf("the conversation with %s, %d unread", name, unread), fmt.Sprintf(`(%s) && %s`, conversation(name), want))
}

// openConversation clicks the conversation with name in the list and waits for it in view.
func (b *browser) openConversation(name string) {
	b.t.Helper()
	b.waitJS("the conversation with "+name, conversation(name))
	b.mustEval(conversation(name)+`.click()`, nil)
	b.waitJS("the conversation with "+name+" in view", `document.getElementById('room-title').textContent === `+jsString(name))
}

// TestBrowserDialog: Alice opens a conversation with Bob from the user list and writes;
// Bob finds it in "Conversations" with an unread badge, not in the room's log; after a
// reload the list and its unread count come from the server (Dialogs); opening it
// shows the lines (History) and reads them (Read), so the next reload has no badge.
// Bob's answer reaches Alice in the conversation she has open; he edits it and she
// reacts to it. A line to Bob while he is away waits for him; a dropped connection
// resumes the conversation (since=) and shows each line once.
func TestBrowserDialog(t *testing.T) {
	srv := chattest.Start(t, testConfig(""))
	base := "http://" + srv.Addr
	alice := newBrowser(t, "alice", 1200, 760)
	bob := newBrowser(t, "bob", 1200, 760)
	alice.accountLogin(base, "Alice", "alices password", "register-account")
	alice.waitAccountOnline("Alice")
	bob.accountLogin(base, "Bob", "bobs password", "register-account")
	bob.waitAccountOnline("Bob")
	alice.waitUsers("Alice", "Bob")
	var label string
	alice.mustEval(`document.querySelector('#users li[data-name="Bob"] [data-pm]').getAttribute('aria-label')`, &label)
	if label != "Open conversation with Bob" {
		t.Errorf("the user list's button is named %q, want \"Open conversation with Bob\"", label)
	}

	alice.do(chromedp.Click(chromedp.CSS(`#users li[data-name="Bob"] [data-pm]`)))
	alice.waitJS("the conversation with Bob in view", `document.getElementById('room-title').textContent === 'Bob'`)
	alice.say("hello Bob")
	alice.say("are you there?")
	out := alice.waitMessage("are you there?")
	if out.Kind != "private" || out.Dir != "out" {
		t.Errorf("alice sees her line as %+v, want an outgoing private line", out)
	}
	alice.waitJS("both lines stored (Sent)", `document.querySelectorAll('#log li.msg.pending').length === 0 &&
		[...document.querySelectorAll('#log li.msg')].filter(li => li.dataset.seq > 0).length === 2`)
	alice.waitConversation("Bob", 0)

	bob.waitConversation("Alice", 2)
	bob.waitJS("the side panel's button marked unread", `document.getElementById('users-toggle').classList.contains('has-unread')`)
	if n := countText(bob, "hello Bob") + countText(bob, "are you there?"); n != 0 {
		t.Errorf("the private lines are in bob's lobby log (%d)", n)
	}

	// A reload: the conversation and its unread count come back from the server.
	bob.do(chromedp.Reload())
	bob.waitAccountOnline("Bob")
	bob.waitConversation("Alice", 2)
	bob.watchSent()
	bob.openConversation("Alice")
	in := bob.waitMessage("hello Bob")
	if in.Kind != "private" || in.Dir != "in" || in.Name != "Alice" || in.Badge != "private from Alice" {
		t.Errorf("bob sees %+v, want alice's incoming private line", in)
	}
	bob.waitMessage("are you there?")
	bob.waitConversation("Alice", 0)
	if n := countText(bob, "hello Bob"); n != 1 {
		t.Errorf("bob's conversation shows alice's line %d times, want once", n)
	}
	bob.waitJS("a Read of the conversation", sentRead("@", 2)) // read without answering
	bob.waitJS("the side panel's button unmarked", `!document.getElementById('users-toggle').classList.contains('has-unread')`)

	bob.say("yes, here")
	if got := alice.waitMessage("yes, here"); got.Kind != "private" || got.Dir != "in" || got.Name != "Bob" {
		t.Errorf("alice sees bob's answer as %+v", got)
	}
	alice.waitConversation("Bob", 0) // she is looking at it

	// A conversation's lines are edited and reacted to like a room's, not quoted.
	bob.waitJS("bob's answer stored", lineWith("yes, here")+`?.dataset.seq > 0`)
	var replies int
	bob.mustEval(`document.querySelectorAll('#log [data-msg-action="reply"]').length`, &replies)
	if replies != 0 {
		t.Errorf("a conversation offers Reply on %d lines; the server quotes none", replies)
	}
	bob.mustEval(lineWith("yes, here")+`.querySelector('[data-msg-action="edit"]').click(), 1`, nil)
	bob.waitJS("editing", `document.getElementById('message').value === 'yes, here'`)
	bob.do(chromedp.SetValue(chromedp.ID("message"), "yes, I am here"), chromedp.SendKeys(chromedp.ID("message"), "\r"))
	alice.waitJS("the edit at Alice's", lineWith("yes, I am here")+`?.querySelector('.edited-mark')?.textContent === '(edited)'`)
	alice.mustEval(lineWith("yes, I am here")+`.querySelector('button[aria-label="React"]').click(), 1`, nil)
	alice.do(chromedp.Click(chromedp.CSS(`.emoji-picker button[aria-label="👍"]`)))
	bob.waitJS("alice's 👍 at Bob's", reactionBar("yes, I am here")+` === '👍 1'`)

	// The server has Bob's read position: after a reload the conversation has no
	// badge, and the lobby is still without the private lines.
	bob.do(chromedp.Reload())
	bob.waitAccountOnline("Bob")
	bob.waitJS("the conversation listed", conversation("Alice"))
	var badge bool
	bob.mustEval(`!!(`+conversation("Alice")+`).querySelector('.unread')`, &badge)
	if badge {
		t.Error("after reading the conversation and a reload, it still has an unread badge")
	}
	if n := countText(bob, "hello Bob"); n != 0 {
		t.Errorf("the private line is in bob's lobby log after a reload (%d)", n)
	}

	// To an account that is offline the line still goes: the server keeps it for him.
	bob.do(chromedp.Click(chromedp.ID("logout"))) // leaves the chat, the session kept
	alice.waitJS("bob offline in her conversation", `!document.getElementById('private-offline').hidden`)
	alice.say("while you were away")
	alice.waitJS("the line stored (Sent)", lineWith("while you were away")+`?.dataset.seq > 0 &&
		!`+lineWith("while you were away")+`.classList.contains('failed')`)
	bob.do(chromedp.Navigate(base + "/"))
	bob.waitAccountOnline("Bob")
	bob.waitConversation("Alice", 1)
	alice.screenshot("dialog-desktop.png")

	// A dropped connection comes back with the account's token and since= naming the
	// conversation, and shows each of its lines once.
	// While it is away (new sockets refused), Bob writes; the resume brings the line.
	alice.mustEval(`(() => { const send = WebSocket.prototype.send; const Orig = window.WebSocket; window.__urls = [];
		WebSocket.prototype.send = function (d) { window.__ws = this; return send.call(this, d); };
		window.WebSocket = function (u, p) {
			if (window.__block) throw new Error('offline for the test');
			window.__urls.push(String(u)); return new Orig(u, p);
		};
		window.WebSocket.prototype = Orig.prototype; window.WebSocket.OPEN = Orig.OPEN; return true; })()`, nil)
	alice.waitJS("a frame sent on the socket (a Pong)", `window.__ws`)
	alice.mustEval(`window.__block = true, window.__ws.close(), 1`, nil)
	alice.waitJS("offline", `document.getElementById('status').dataset.state !== 'online'`)
	bob.openConversation("Alice")
	bob.say("during the gap")
	bob.waitJS("bob's line stored", lineWith("during the gap")+`?.dataset.seq > 0`)
	alice.mustEval(`window.__block = false, 1`, nil)
	alice.waitJS("a resume naming the conversation", `window.__urls.some(u => {
		const q = new URL(u).searchParams;
		return q.get('token') && /(^|,)@\d+-\d+:[1-9]/.test(q.get('since') ?? '');
	})`)
	alice.waitJS("online again", `document.getElementById('status').dataset.state === 'online'`)
	alice.waitMessage("during the gap")
	bob.say("welcome back")
	alice.waitMessage("welcome back")
	for _, text := range []string{"hello Bob", "yes, I am here", "while you were away", "during the gap", "welcome back"} {
		if n := countText(alice, text); n != 1 {
			t.Errorf("alice's conversation shows %q %d times, want once", text, n)
		}
	}
	alice.checkClean()
	bob.checkClean()
}

// watchSent records what the page sends from now on (the socket's own send, wrapped).
func (b *browser) watchSent() {
	b.t.Helper()
	b.mustEval(`(() => { const send = WebSocket.prototype.send; window.__sent = [];
		WebSocket.prototype.send = function (d) { window.__sent.push(String(d)); return send.call(this, d); }; return true; })()`, nil)
}

// sentRead is the JavaScript for "the page sent a Read of a roomId starting with
// prefix, with a seq of at least seq" (after watchSent).
func sentRead(prefix string, seq int) string {
	return fmt.Sprintf(`window.__sent.some(d => { const m = JSON.parse(d); return m.action === 'Read' && String(m.roomId).startsWith(%s) && m.seq >= %d; })`, jsString(prefix), seq)
}
