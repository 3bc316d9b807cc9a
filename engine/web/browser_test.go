package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// waitFor bounds every poll: long enough for a loaded CI machine, short enough that a
// broken page fails the package well inside its time budget.
const waitFor = 10 * time.Second

// browser is one headless Chromium with its own profile, so two of them share no
// localStorage, cookies or cache: two people on two machines.
type browser struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu       sync.Mutex
	problems []string // uncaught exceptions and CSP or Trusted Types violations
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		// A missing browser must not look like a pass: CI installs Debian's chromium.
		t.Fatalf("no Chromium at %s (apt-get install chromium, or set $CHROMIUM): %v", path, err)
	}
	return path
}

// shared is the one Chromium process of the package's tests: starting a browser costs
// seconds, so each test's "browsers" are isolated browser contexts in it instead.
var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// sharedChromium starts the package's Chromium on first use.
func sharedChromium(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "chatd-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			// Sound is part of the page; let it play without a real user gesture.
			chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1200, 800),
		)
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(allocCtx)
		shared.ctx = ctx
		shared.cancel = func() { cancel(); cancelAlloc(); os.RemoveAll(dir) }
		// The first Run starts the browser; it must not carry a timeout (it would end
		// the browser with it), so start-up is bounded by a watchdog instead.
		started := make(chan error, 1)
		go func() { started <- chromedp.Do(ctx) }()
		select {
		case shared.err = <-started:
		case <-time.After(30 * time.Second):
			shared.err = fmt.Errorf("chromium did not start within 30s")
		}
	})
	if shared.err != nil {
		t.Fatalf("start chromium: %v", shared.err)
	}
	return shared.ctx
}

// newBrowser is a fresh browser context (its own cookies, localStorage and cache: a
// person on another machine) with one tab of width x height.
func newBrowser(t *testing.T, name string, width, height int) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(sharedChromium(t), chromedp.WithNewBrowserContext())
	return openTab(t, ctx, cancel, name, width, height)
}

// newTab is another tab of b's browser (the same cookies and localStorage): the same
// person in a second tab.
func (b *browser) newTab(name string, width, height int) *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	return openTab(b.t, ctx, cancel, name, width, height)
}

// openTab opens the tab of a new chromedp context and watches it for problems.
func openTab(t *testing.T, ctx context.Context, cancel context.CancelFunc, name string, width, height int) *browser {
	t.Helper()
	t.Cleanup(cancel)
	b := &browser{t: t, name: name, ctx: ctx}
	// The first Run opens the tab; it must not carry a timeout (it would close the tab
	// with it), so it is bounded by a watchdog instead.
	started := make(chan error, 1)
	go func() {
		started <- chromedp.Listen(ctx, b.onEvent)
	}()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("%s: open a tab: %v", name, err)
		}
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("%s: the tab did not open within 30s", name)
	}
	b.do(
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, cdplog.Enable, cdp.Empty{})
			return err
		}),
		// The window size includes the browser's frame; screenshots want the page's.
		chromedp.EmulateViewport(int64(width), int64(height)),
	)
	return b
}

func (b *browser) onEvent(ev any) {
	var problem string
	switch e := ev.(type) {
	case *cdpruntime.EventExceptionThrown:
		d := e.ExceptionDetails
		problem = "uncaught exception: " + d.Text
		if d.Exception != nil {
			problem += " " + d.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		text := e.Entry.Text
		if strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Trusted Type") {
			problem = "policy violation: " + text
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// checkClean fails the test if the page threw or broke its own security policy.
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("%s: %s", b.name, p)
	}
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\n%s", b.name, err, b.dump())
	}
}

// eval runs a JavaScript expression and decodes its JSON value into out.
func (b *browser) eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

func (b *browser) mustEval(expr string, out any) {
	b.t.Helper()
	if err := b.eval(expr, out); err != nil {
		b.t.Fatalf("%s: eval %s: %v", b.name, expr, err)
	}
}

// waitJS polls a JavaScript expression until it is true, failing after waitFor.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(waitFor)
	var last error
	for {
		var ok bool
		if last = b.eval("!!("+expr+")", &ok); last == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: timed out after %s waiting for %s (last error: %v)\n%s", b.name, waitFor, what, last, b.dump())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// dump is the page's visible state, for failure messages.
func (b *browser) dump() string {
	var s string
	err := b.eval(`JSON.stringify({
		status: document.getElementById('status')?.dataset.state,
		users: [...document.querySelectorAll('#users li')].map(li => li.dataset.name),
		log: [...document.querySelectorAll('#log li')].slice(-12).map(li => li.textContent.replace(/\s+/g, ' ').trim()),
	})`, &s)
	if err != nil {
		return "(page state unavailable: " + err.Error() + ")"
	}
	return "page state: " + s
}

// waitUsers waits until the user list shows exactly names, in any order.
func (b *browser) waitUsers(names ...string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("user list %q", names), fmt.Sprintf(`(() => {
		const want = %s.slice().sort();
		const got = [...document.querySelectorAll('#users li')].map(li => li.querySelector('button.name').textContent).sort();
		return JSON.stringify(got) === JSON.stringify(want);
	})()`, jsString(names)))
}

// login fills the login form the way a person does and waits until the page is online.
func (b *browser) login(baseURL, name, color string, gender int) {
	b.t.Helper()
	b.fillLogin(baseURL, name, color, gender)
	b.waitJS("online after login", `document.getElementById('status').dataset.state === 'online'`)
}

// fillLogin fills the login form and continues without an account.
func (b *browser) fillLogin(baseURL, name, color string, gender int) {
	b.t.Helper()
	b.do(
		chromedp.Navigate(baseURL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SendKeys(chromedp.ID("login-name"), name),
		chromedp.Click(chromedp.CSS(`#login-color input[value="`+color+`"]`)),
		chromedp.SetValue(chromedp.ID("login-gender"), fmt.Sprint(gender)),
		chromedp.Click(chromedp.ID("login-submit")),
	)
}

// say types text into the message box and presses Enter.
func (b *browser) say(text string) {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.ID("message"), text+"\r"))
	b.waitJS("message box cleared after Enter", `document.getElementById('message').value === ''`)
}

// shownMessage is one chat line as the page shows it.
type shownMessage struct {
	Kind    string `json:"kind"` // "public" or "private"
	Dir     string `json:"dir"`  // "in" or "out"
	Name    string `json:"name"`
	Color   string `json:"color"`
	Gender  string `json:"gender"`
	Badge   string `json:"badge"`
	Text    string `json:"text"`
	Bold    []string
	Mention bool `json:"mention"`
}

// waitMessage waits for a chat line whose shown text is text and returns it.
func (b *browser) waitMessage(text string) shownMessage {
	b.t.Helper()
	find := fmt.Sprintf(`[...document.querySelectorAll('#log li.msg')].find(li => li.querySelector('.msg-text').textContent === %s)`, jsString(text))
	b.waitJS(fmt.Sprintf("message %q", text), find)
	var m shownMessage
	b.mustEval(fmt.Sprintf(`(() => {
		const li = %s;
		let head = li;
		while (head && head.classList.contains('cont')) head = head.previousElementSibling;
		const name = head.querySelector('.msg-head button.name');
		return {
			kind: li.dataset.kind, dir: li.dataset.dir,
			name: name.textContent, color: name.style.color,
			gender: head.querySelector('.gender').textContent,
			badge: head.querySelector('.private-badge')?.textContent ?? '',
			text: li.querySelector('.msg-text').textContent,
			Bold: [...li.querySelectorAll('.msg-text b')].map(b => b.textContent),
			mention: li.classList.contains('mention'),
		};
	})()`, find), &m)
	return m
}

// waitNotice waits for a join/leave/lost/error notice containing words.
func (b *browser) waitNotice(kind, words string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%s notice %q", kind, words), fmt.Sprintf(
		`[...document.querySelectorAll('#log li.notice')].some(li => li.dataset.notice === %s && li.textContent.includes(%s))`,
		jsString(kind), jsString(words)))
}

// inert reports what injected markup could have left behind: elements that no part of
// the page ever creates, event-handler attributes, and the flag injected scripts set.
// The page's own: http(s) links in texts (links.js) and file previews from blob: URLs
// (files.js).
func (b *browser) assertInert() {
	b.t.Helper()
	var r struct {
		Foreign  []string `json:"foreign"`
		Handlers []string `json:"handlers"`
		Pwned    any      `json:"pwned"`
		Scripts  int      `json:"scripts"`
	}
	b.mustEval(`({
		foreign: [...document.querySelectorAll('img, iframe, object, embed, video, audio, link:not([rel=stylesheet]):not([rel=icon]), style, svg:not(.icon):not(.sprite), a')].filter(e =>
			!(e.matches('a.msg-link[rel="noopener noreferrer"]') && /^https?:/.test(e.getAttribute('href'))) &&
			!(e.matches('img.file-preview') && (e.getAttribute('src') ?? 'blob:').startsWith('blob:'))).map(e => e.outerHTML),
		handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
		pwned: window.__pwned ?? null,
		scripts: document.scripts.length,
	})`, &r)
	if len(r.Foreign) > 0 || len(r.Handlers) > 0 || r.Pwned != nil || r.Scripts != 1 {
		b.t.Errorf("%s: injected markup is live: elements %q, handlers %q, window.__pwned=%v, %d scripts",
			b.name, r.Foreign, r.Handlers, r.Pwned, r.Scripts)
	}
}

// assertAccessible checks that the page exposes each "role name" pair, as computed by
// Chromium's accessibility tree: what a screen reader announces, not what the markup
// seems to say.
func (b *browser) assertAccessible(want ...string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	tree, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (accessibility.GetFullAXTreeResult, error) {
		return cdp.Call(ctx, t, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	})
	if err != nil {
		b.t.Fatalf("%s: accessibility tree: %v", b.name, err)
	}
	have := map[string]bool{}
	for _, n := range tree.Nodes {
		if n.Ignored || n.Role == nil || n.Name == nil {
			continue
		}
		var role, name string
		_ = json.Unmarshal(n.Role.Value, &role)
		_ = json.Unmarshal(n.Name.Value, &name)
		have[role+" "+name] = true
	}
	for _, w := range want {
		if !have[w] {
			b.t.Errorf("%s: no accessible %q in %v", b.name, w, have)
		}
	}
}

// screenshot saves the viewport as a PNG test artifact.
func (b *browser) screenshot(file string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("%s: screenshot: %v", b.name, err)
	}
	dir := artifactsDir(b.t)
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("write screenshot: %v", err)
	}
	b.t.Logf("screenshot: %s", path)
}

// artifactsDir is $CHATD_ARTIFACTS, or artifacts/ at the module root (git-ignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CHATD_ARTIFACTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts directory: %v", err)
	}
	return dir
}

// jsString is v as a JavaScript literal (JSON is valid JavaScript).
func jsString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
