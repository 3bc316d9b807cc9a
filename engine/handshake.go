package engine

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// maxHeaderFields bounds the header lines of one request (besides --max-header-bytes).
const maxHeaderFields = 100

// requestHead is one HTTP/1.x request's line and headers, parsed by the engine itself
// so that every limit is applied before anything is buffered past it.
type requestHead struct {
	method, target, proto string
	header                http.Header
	bodyLen               int // Content-Length; 0 without one
}

// httpError is an answer that ends the connection: a status and a short reason.
type httpError struct {
	status int
	text   string
	json   string // the body, as application/json, instead of text
}

var (
	errHeaderTooLarge = &httpError{status: http.StatusRequestHeaderFieldsTooLarge, text: "request header too large"}
	errTooManyFields  = &httpError{status: http.StatusRequestHeaderFieldsTooLarge, text: "too many header fields"}
)

func badRequest(text string) *httpError { return &httpError{status: http.StatusBadRequest, text: text} }

// headEnd finds the blank line ending a request head in buf: the head's length
// including it, or -1.
func headEnd(buf []byte) int {
	if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return -1
}

// parseHead parses a complete head (up to and including its blank line).
func parseHead(head []byte) (*requestHead, *httpError) {
	lines := strings.Split(string(head[:len(head)-4]), "\r\n")
	h, err := parseRequestLine(lines[0])
	if err != nil {
		return nil, err
	}
	if len(lines)-1 > maxHeaderFields {
		return nil, errTooManyFields
	}
	h.header = make(http.Header, len(lines)-1)
	for _, line := range lines[1:] {
		if strings.ContainsAny(line, "\r\n\x00") {
			return nil, badRequest("a bare CR, LF or NUL in a header line")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.TrimSpace(name) != name || strings.ContainsAny(name, " \t") {
			return nil, badRequest("malformed header line")
		}
		h.header.Add(textproto.CanonicalMIMEHeaderKey(name), strings.Trim(value, " \t"))
	}
	return h, h.checkFraming()
}

// parseRequestLine reads "METHOD target HTTP/1.x". The target may lack its leading
// slash (see qtclient.go).
func parseRequestLine(line string) (*requestHead, *httpError) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method == "" || target == "" || strings.Contains(proto, " ") {
		return nil, badRequest("malformed request line")
	}
	if proto != "HTTP/1.1" && proto != "HTTP/1.0" {
		return nil, &httpError{status: http.StatusHTTPVersionNotSupported, text: "HTTP/1.0 and HTTP/1.1 only"}
	}
	return &requestHead{method: method, target: withLeadingSlash(target), proto: proto}, nil
}

// checkFraming refuses what request smuggling is made of: several Content-Lengths,
// one that is not a number, or one together with Transfer-Encoding (which chatd's
// routes never need, so it is refused outright).
func (h *requestHead) checkFraming() *httpError {
	if len(h.header.Values("Transfer-Encoding")) > 0 {
		return &httpError{status: http.StatusNotImplemented, text: "Transfer-Encoding is not supported"}
	}
	cl := h.header.Values("Content-Length")
	if len(cl) == 0 {
		return nil
	}
	if len(cl) > 1 || strings.Contains(cl[0], ",") {
		return badRequest("more than one Content-Length")
	}
	n, err := strconv.Atoi(cl[0])
	if err != nil || n < 0 {
		return badRequest("invalid Content-Length")
	}
	h.bodyLen = n
	return nil
}

// isUpgrade reports whether h asks for a WebSocket.
func (h *requestHead) isUpgrade() bool { return HeaderHasToken(h.header, "Upgrade", "websocket") }

// checkUpgrade applies RFC 6455 §4.2.1 to an upgrade request; it returns the
// Sec-WebSocket-Accept value.
func (h *requestHead) checkUpgrade() (string, *httpError) {
	switch {
	case h.method != http.MethodGet:
		return "", &httpError{status: http.StatusMethodNotAllowed, text: "a WebSocket upgrade must be a GET"}
	case h.proto != "HTTP/1.1":
		return "", badRequest("a WebSocket upgrade must be HTTP/1.1")
	case h.header.Get("Host") == "":
		return "", badRequest("missing Host")
	case !HeaderHasToken(h.header, "Connection", "upgrade"):
		return "", badRequest("Connection must include Upgrade")
	case h.header.Get("Sec-WebSocket-Version") != "13":
		return "", &httpError{status: http.StatusUpgradeRequired, text: "Sec-WebSocket-Version must be 13"}
	case h.bodyLen != 0:
		return "", badRequest("a WebSocket upgrade has no body")
	}
	key := h.header.Get("Sec-WebSocket-Key")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return "", badRequest("invalid Sec-WebSocket-Key")
	}
	return AcceptKey(key), nil
}

// AcceptKey is Sec-WebSocket-Accept for key (RFC 6455 §4.2.2); clients check it too.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// switchingProtocols is the 101 answer, with exactly the headers the Qt client checks.
func switchingProtocols(accept string) []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n")
}

// response is a minimal answer that closes the connection.
func (e *httpError) response() []byte {
	extra := ""
	if e.status == http.StatusUpgradeRequired {
		extra = "Sec-WebSocket-Version: 13\r\n"
	}
	body, typ := e.text+"\n", "text/plain; charset=utf-8"
	if e.json != "" {
		body, typ = e.json, "application/json"
	}
	return []byte("HTTP/1.1 " + strconv.Itoa(e.status) + " " + http.StatusText(e.status) + "\r\n" + extra +
		"Content-Type: " + typ + "\r\nContent-Length: " + strconv.Itoa(len(body)) +
		"\r\nConnection: close\r\n\r\n" + body)
}

// HeaderHasToken reports whether any of h's name fields lists token (a
// comma-separated, case-insensitive list, as Connection and Upgrade are); the
// handshake's both sides need it.
func HeaderHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
