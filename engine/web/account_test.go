package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/chatd/chatd/engine/server"
	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/chromedp/chromedp"
)

// accountLogin types a name and password into the login form and presses button
// ("login-account" or "register-account").
func (b *browser) accountLogin(base, name, password, button string) {
	b.t.Helper()
	b.do(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SendKeys(chromedp.ID("login-name"), name),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID(button)),
	)
}

// waitAccountOnline waits until the page is online as the account name.
func (b *browser) waitAccountOnline(name string) {
	b.t.Helper()
	b.waitJS("online as the account "+name, `document.getElementById('status').dataset.state === 'online' &&
		!document.getElementById('account-logout').hidden &&
		document.querySelector('#users li.is-me button.name')?.textContent === `+jsString(name))
}

// TestBrowserAccountRegisterReloadLogOut: Alice registers in the login form and is
// online as her account; a reload brings her back without the form, as the same
// userId; "Log out" returns to the form, forgets the token, and the server refuses it.
func TestBrowserAccountRegisterReloadLogOut(t *testing.T) {
	srv := chattest.Start(t, testConfig(""))
	base := "http://" + srv.Addr
	alice := newBrowser(t, "alice", 1200, 760)
	alice.accountLogin(base, "Alice", "correct horse battery", "register-account")
	alice.waitAccountOnline("Alice")
	var before string
	alice.mustEval(`JSON.parse(localStorage.getItem('chatd.account')).token`, &before)
	if before == "" {
		t.Fatal("no token kept in localStorage")
	}

	alice.do(chromedp.Reload())
	alice.waitAccountOnline("Alice")
	var sameLogin bool
	alice.mustEval(`document.getElementById('login-view').hidden`, &sameLogin)
	if !sameLogin {
		t.Fatal("the login form is shown after a reload")
	}

	alice.do(chromedp.Click(chromedp.ID("account-logout")))
	alice.waitJS("the login form after Log out", `!document.getElementById('login-view').hidden &&
		localStorage.getItem('chatd.account') === 'null'`)
	// The token is revoked: the logout endpoint no longer accepts it.
	chattest.Eventually(t, 5e9, "the old token refused", func() bool {
		req, _ := http.NewRequest("POST", base+"/api/logout", nil)
		req.Header.Set("Authorization", "Bearer "+before)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusUnauthorized
	})
	alice.checkClean()
}

// TestBrowserAccountWrongPassword: a wrong password is told in the form and logs
// nobody in; the right one, entered with Enter in the Password field, logs in.
func TestBrowserAccountWrongPassword(t *testing.T) {
	srv := chattest.Start(t, testConfig(""))
	base := "http://" + srv.Addr
	res, err := http.Post(base+"/api/register", "application/json",
		bytes.NewReader([]byte(`{"name":"Bob","password":"bobs password"}`)))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("register Bob: %v %v", res, err)
	}
	res.Body.Close()
	bob := newBrowser(t, "bob", 1200, 760)
	bob.accountLogin(base, "Bob", "not his password", "login-account")
	bob.waitJS("the wrong-password message", `(() => {
		const e = document.getElementById('login-error');
		return !e.hidden && e.getAttribute('role') === 'alert' && e.textContent === 'Wrong name or password.' &&
			!document.getElementById('login-view').hidden;
	})()`)
	var cleared string
	bob.mustEval(`document.getElementById('login-password').value = ''`, &cleared)
	bob.do(chromedp.SendKeys(chromedp.ID("login-password"), "bobs password\r"))
	bob.waitAccountOnline("Bob")

	// Leaving without "Log out", then going on anonymously, is anonymous: the
	// account's cookie does not log the new connection in as Bob.
	bob.do(chromedp.Click(chromedp.ID("logout")))
	bob.waitJS("the login form", `!document.getElementById('login-view').hidden`)
	var name string
	bob.mustEval(`document.getElementById('login-name').value = ''`, &name)
	bob.do(
		chromedp.SendKeys(chromedp.ID("login-name"), "Guest"),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	bob.waitJS("online as the anonymous Guest", `document.getElementById('status').dataset.state === 'online' &&
		document.getElementById('account-logout').hidden &&
		document.querySelector('#users li.is-me button.name')?.textContent === 'Guest'`)
	bob.checkClean()
}

// TestBrowserModeratorDeletes: an account named in --moderators gets a Delete button
// on other people's lines, and its delete reaches them as "Message deleted".
func TestBrowserModeratorDeletes(t *testing.T) {
	srv := chattest.Start(t, testConfig(""), func(c *server.Config) { c.Chat.Moderators = []string{"Mod"} })
	base := "http://" + srv.Addr
	alice := newBrowser(t, "alice", 1200, 760)
	alice.login(base, "Alice", "#8e44ad", 2)
	mod := newBrowser(t, "mod", 1200, 760)
	mod.accountLogin(base, "Mod", "moderator password", "register-account")
	mod.waitAccountOnline("Mod")
	alice.say("buy cheap pills")
	line := lineWith("buy cheap pills")
	mod.waitJS("Alice's line with its seq", line+`?.dataset.seq > 0`)
	mod.mustEval(line+`.querySelector('[data-msg-action="delete"]').click()`, nil)
	mod.do(chromedp.Click(chromedp.CSS(`#log .delete-confirm [data-confirm-delete]`)))
	alice.waitJS("the placeholder", `[...document.querySelectorAll('#log li.msg.deleted')].some(li => li.querySelector('.msg-text').textContent === 'Message deleted')`)
	alice.checkClean()
	mod.checkClean()
}

// TestBrowserAccountReadPositions: an account's page tells the server how far it read
// the room in view; lines others send to another room while it looks elsewhere show as
// unread there, counted by the server, and viewing that room reads them, which another
// login of the account then sees.
func TestBrowserAccountReadPositions(t *testing.T) {
	srv := chattest.Start(t, testConfig(""))
	base := "http://" + srv.Addr
	gus := newBrowser(t, "gus", 1200, 760)
	gus.accountLogin(base, "Gus", "guss password", "register-account")
	gus.waitAccountOnline("Gus")
	gus.do(chromedp.SendKeys(chromedp.ID("room-input"), "dev\r"))
	gus.waitJS("gus in #dev", `document.getElementById('room-title').textContent === '#dev'`)
	switchRoom(gus, "lobby")

	bob, _ := srv.LoginQuery(t, "Bob", url.Values{"ack": {"1"}})
	bob.Send(map[string]any{"action": "JoinRoom", "roomId": "dev"})
	bob.Expect("RoomJoined")
	for i := range 2 {
		bob.Send(map[string]any{"text": fmt.Sprint("news ", i), "roomId": "dev", "clientMsgId": fmt.Sprint("n", i)})
		bob.Expect("Sent")
	}
	gus.waitJS("2 unread in #dev", `document.querySelector('#rooms li[data-room="dev"] .unread')?.textContent === '2'`)
	// What the page sends is watched from here on (the socket's own send, wrapped).
	gus.mustEval(`(() => { const send = WebSocket.prototype.send; window.__sent = [];
		WebSocket.prototype.send = function (d) { window.__sent.push(String(d)); return send.call(this, d); }; return true; })()`, nil)
	switchRoom(gus, "dev")
	gus.waitJS("a Read of #dev", `window.__sent.some(d => { const m = JSON.parse(d); return m.action === 'Read' && m.roomId === 'dev' && m.seq > 0; })`)
	var token string
	gus.mustEval(`JSON.parse(localStorage.getItem('chatd.account')).token`, &token)
	c := chattest.Dial(t, "ws://"+srv.Addr+"/?presence=compact&token="+url.QueryEscape(token)) // replaces the page's connection
	c.Expect("Authorized")
	c.Send(map[string]any{"action": "Rooms"})
	for _, r := range c.Expect("Rooms")["rooms"].([]any) {
		if r := r.(map[string]any); r["roomId"] == "dev" && r["unread"] != float64(0) {
			t.Fatalf("#dev after the page read it: %v", r)
		}
	}
	gus.checkClean()
}
