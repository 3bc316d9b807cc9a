package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/chatd/chatd/engine/web"
)

// The page must work with no internet: nothing it ships may load from another host.
func TestStaticIsSelfContained(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(os.DirFS("static"), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(os.DirFS("static"), path)
		if err != nil {
			return err
		}
		for _, m := range external.FindAllString(string(data), -1) {
			if m == "http://www.w3.org" { // an XML namespace name, never fetched
				continue
			}
			t.Errorf("%s refers to %s: the client must not load anything from another host", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHandlerServesClient(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	for path, want := range map[string]struct{ typ, body string }{
		"/":              {"text/html", `<label class="field-label" for="login-name">Name</label>`},
		"/app.js":        {"text/javascript", "setupLogin()"},
		"/connection.js": {"text/javascript", "Pong"},
		"/text.js":       {"text/javascript", "export function renderText"},
		"/sync.js":       {"text/javascript", "export class Stream"},
		"/style.css":     {"text/css", "@media (max-width"},
		"/favicon.svg":   {"image/svg+xml", "<svg"},
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), want.typ) ||
			!strings.Contains(string(body), want.body) {
			t.Errorf("GET %s: %d %s, body has %q: %v", path, resp.StatusCode, resp.Header.Get("Content-Type"), want.body, strings.Contains(string(body), want.body))
		}
	}
}
