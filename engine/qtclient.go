package engine

import (
	"bytes"
	"net/url"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
)

// The seed's Qt client (SimpleChatClient) speaks a looser HTTP than Go's parsers
// accept. Workerman lets it in; so does chatd, and every allowance for it is here.

// acceptPathlessRequestLine lets the Qt client's request line in: its URL has an empty
// path, so it sends "GET ?userName=... HTTP/1.1", which Go's URL parser (and so
// nbio's) rejects. It is read as "GET /?...". Only the first bytes of a connection
// that is still parsing HTTP are looked at.
func acceptPathlessRequestLine(c *nbio.Conn, data []byte) []byte {
	if !bytes.HasPrefix(data, []byte("GET ?")) {
		return data
	}
	if _, ok := c.Session().(*nbhttp.Parser); !ok {
		return data
	}
	fixed := make([]byte, 0, len(data)+1)
	fixed = append(fixed, "GET /"...)
	return append(fixed, data[4:]...)
}

// parseQuery is url.ParseQuery that keeps what it could parse: the Qt client does not
// escape '+', '&' or '#' inside a name, and a half-parsed query beats a refused login.
func parseQuery(raw string) url.Values {
	q, _ := url.ParseQuery(raw)
	if q == nil {
		q = url.Values{}
	}
	return q
}
