package web_test

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// writePNG writes a real 40×30 PNG to dir/name and returns its path.
func writePNG(t *testing.T, dir, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{uint8(x * 6), 120, uint8(y * 8), 255})
		}
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserFiles: Alice picks an image and an HTML file with "Attach file", pastes
// one file and drops another; Bob's page shows the image as a preview loaded from a
// blob: URL (fetched with his token) and the others as download cards; nothing runs.
func TestBrowserFiles(t *testing.T) {
	alice, bob := aliceAndBob(t)
	alice.assertAccessible("button Attach file")
	dir := t.TempDir()
	pic := writePNG(t, dir, "cat.png")
	page := filepath.Join(dir, "page.html")
	if err := os.WriteFile(page, []byte(`<html><script>parent.alert(1)</script></html>`), 0o600); err != nil {
		t.Fatal(err)
	}
	alice.do(chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{pic}))
	bob.waitJS("the preview of cat.png", `(() => {
		const img = [...document.querySelectorAll('#log li.msg .file-preview')].find(i => i.alt === 'cat.png');
		return img && img.src.startsWith('blob:') && img.complete && img.naturalWidth === 40 && img.naturalHeight === 30;
	})()`)
	alice.waitJS("Alice's own line confirmed with its preview", `(() => {
		const li = [...document.querySelectorAll('#log li.msg.mine')].find(li => li.querySelector('.file-preview')?.alt === 'cat.png');
		return li && !li.classList.contains('pending') && li.querySelector('.msg-text').textContent === '';
	})()`)
	alice.do(chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{page}))
	bob.waitJS("a download card for page.html", `(() => {
		const b = document.querySelector('#log button[aria-label="Download page.html"]');
		return b && !b.closest('.file-card').querySelector('img');
	})()`)
	// Pasting into the message box and dropping on the conversation upload too.
	var dispatched bool
	alice.mustEval(`(() => {
		const file = (name) => { const dt = new DataTransfer(); dt.items.add(new File(['hello from ' + name], name, { type: 'text/plain' })); return dt; };
		document.getElementById('message').dispatchEvent(new ClipboardEvent('paste', { clipboardData: file('pasted.txt'), bubbles: true, cancelable: true }));
		const zone = document.querySelector('.conversation');
		zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: file('dropped.txt'), bubbles: true, cancelable: true }));
		zone.dispatchEvent(new DragEvent('drop', { dataTransfer: file('dropped.txt'), bubbles: true, cancelable: true }));
		return true;
	})()`, &dispatched)
	bob.waitJS("cards for the pasted and the dropped file", `!!document.querySelector('#log button[aria-label="Download pasted.txt"]') &&
		!!document.querySelector('#log button[aria-label="Download dropped.txt"]')`)
	bob.assertAccessible("button Download cat.png", "button Download page.html")
	bob.assertInert()
	alice.checkClean()
	bob.checkClean()
}
