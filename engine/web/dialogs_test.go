package web_test

import "fmt"

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
