package engine

import (
	"bytes"
	"net/url"
	"strings"
)

// The seed's Qt client (SimpleChatClient) speaks a looser HTTP than Go's parsers
// accept. Workerman lets it in; so does chatd, and every allowance for it is here.

// withLeadingSlash lets the Qt client's request line in: its URL has an empty path,
// so it sends "GET ?userName=... HTTP/1.1", which Go's URL parser rejects. Workerman
// accepts it; so does chatd, by reading the target as "/?...".
func withLeadingSlash(target string) string {
	if strings.HasPrefix(target, "?") {
		return "/" + target
	}
	return target
}

// rewriteTarget puts target (see withLeadingSlash) into head's request line for
// nbhttp's parser, which serves plain HTTP requests and would refuse the original.
func rewriteTarget(head []byte, target string) []byte {
	method, rest, _ := bytes.Cut(head, []byte(" "))
	old, rest, _ := bytes.Cut(rest, []byte(" "))
	if string(old) == target {
		return head
	}
	out := make([]byte, 0, len(head)+1)
	out = append(append(append(out, method...), ' '), target...)
	return append(append(out, ' '), rest...)
}

// parseQuery reads a query as PHP (and so Workerman) does: '&' separates pairs and ';'
// is an ordinary character. The Qt client does not escape ';' in a name, and Go's
// parser drops every pair that holds one, so "a;b" logged in as the default name where
// the seed's server gave "ab". It keeps what it could parse: the Qt client does not
// escape '+', '&' or '#' either, and a half-parsed query beats a refused login.
func parseQuery(raw string) url.Values {
	q, _ := url.ParseQuery(strings.ReplaceAll(raw, ";", "%3B"))
	if q == nil {
		q = url.Values{}
	}
	return q
}
