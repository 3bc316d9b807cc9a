package engine

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Plain HTTP requests carry at most maxHTTPBody; an upload route (HandleUpload) takes
// bigger bodies, within its own cap and within --max-upload-buffer for all uploads
// together. nbhttp holds a request's whole body in memory until its handler is done,
// so that budget is what bounds the memory of many clients uploading at once (or
// pretending to, by sending a Content-Length and then nothing).
//
// An upload's bytes are reserved when its head arrives and given back when its
// connection closes; an upload route's answer closes the connection, so that is soon
// after its handler returns. The connection takes no request after an upload.

// uploadRoute is what HandleUpload registered for one method and path.
type uploadRoute struct {
	maxBody  int
	tooLarge *httpError // the 413 answer
}

// uploadTimeout is how long an upload may take to arrive, replacing the handshake's
// --handshake-timeout for its connection.
const uploadTimeout = 2 * time.Minute

// HandleUpload adds a route (pattern "METHOD /path", an exact path) whose request
// bodies may be up to maxBody bytes. A bigger Content-Length is answered 413 with
// tooLargeJSON as a JSON body before any of the body is read; when
// --max-upload-buffer is taken by other uploads, 503 with {"error":"busy"}. Call it
// before Start.
func (w *Worker) HandleUpload(pattern string, maxBody int, tooLargeJSON string, h http.Handler) {
	if w.uploads == nil {
		w.uploads = make(map[string]uploadRoute)
	}
	w.uploads[pattern] = uploadRoute{maxBody: maxBody,
		tooLarge: &httpError{status: http.StatusRequestEntityTooLarge, text: "request body too large", json: tooLargeJSON}}
	w.mux.Handle(pattern, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r.Close = true // nbhttp closes after the answer: the reservation goes back then
		rw.Header().Set("Connection", "close")
		h.ServeHTTP(rw, r)
	}))
}

// maxBodyLimit is the largest body any route takes, nbhttp's own cap.
func (w *Worker) maxBodyLimit() int {
	n := maxHTTPBody
	for _, r := range w.uploads {
		n = max(n, r.maxBody)
	}
	return n
}

// uploadFor is the upload route a request head names, if it names one.
func (w *Worker) uploadFor(h *requestHead) (uploadRoute, bool) {
	path, _, _ := strings.Cut(h.target, "?")
	r, ok := w.uploads[h.method+" "+path]
	return r, ok
}

// bodyBudget is --max-upload-buffer: the upload bytes reserved at once, all clients
// together, and by address: one address may hold at most a quarter of it (or one
// body of the largest cap, if that is more), so a client that opens uploads and stalls
// them cannot take all of it from the others.
type bodyBudget struct {
	mu     sync.Mutex
	used   int64
	limit  int64
	byAddr map[string]int64
}

func (b *bodyBudget) reserve(addr string, n, largest int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	share := max(b.limit/4, int64(largest))
	if b.used+int64(n) > b.limit || b.byAddr[addr]+int64(n) > share {
		return false
	}
	if b.byAddr == nil {
		b.byAddr = make(map[string]int64)
	}
	b.used += int64(n)
	b.byAddr[addr] += int64(n)
	return true
}

func (b *bodyBudget) release(addr string, n int) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= int64(n)
	if b.byAddr[addr] -= int64(n); b.byAddr[addr] <= 0 {
		delete(b.byAddr, addr)
	}
}

var errUploadBusy = &httpError{status: http.StatusServiceUnavailable, text: "uploads use all of --max-upload-buffer (or this address's share of it)", json: `{"error":"busy","message":"too many uploads at once; try again"}`}

// admitUpload checks an upload's head against its route's cap and the budget, and
// reserves its body; false: the answer is sent and the connection ends.
func (s *session) admitUpload(req *requestHead, route uploadRoute) bool {
	if req.bodyLen > route.maxBody {
		s.refuse(route.tooLarge)
		return false
	}
	addr := RemoteHost(s.w.proxies.clientAddr(s.nbc.RemoteAddr().String(), req.header))
	if !s.w.bodies.reserve(addr, req.bodyLen, route.maxBody) {
		s.refuse(errUploadBusy)
		return false
	}
	s.h.reserved, s.h.reservedBy, s.h.lastRequest = req.bodyLen, addr, true
	_ = s.nbc.SetReadDeadline(time.Now().Add(uploadTimeout))
	return true
}
