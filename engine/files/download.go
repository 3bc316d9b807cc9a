package files

import (
	"mime"
	"net/http"
	"time"

	"github.com/chatd/chatd/engine"
)

// Download is GET /api/files/{id}: the file, to a current member of its room proven
// by "Authorization: Bearer" (the browser fetches it so and shows images from blob:
// URLs). Whatever it holds, the browser treats it as inert: no sniffing, a sandbox
// with no scripts, and an attachment unless its bytes are a PNG, JPEG, GIF or WebP.
func (rt *Routes) Download(rw http.ResponseWriter, r *http.Request) {
	token := engine.BearerToken(r.Header)
	if token == "" {
		fail(rw, http.StatusUnauthorized, "unauthorized", `send "Authorization: Bearer TOKEN" (your resume or account token)`)
		return
	}
	f, ok, err := rt.store.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		rt.log.Error("file lookup failed", "err", err)
		fail(rw, http.StatusInternalServerError, "store_unavailable", "the file could not be read")
		return
	}
	if !ok {
		fail(rw, http.StatusNotFound, "no_such_file", "no file has that id")
		return
	}
	if _, member := rt.members.FileMember(token, f.Room); !member {
		fail(rw, http.StatusForbidden, "forbidden", "the token names nobody online in the file's room")
		return
	}
	content, err := rt.store.Open(f.SHA256)
	if err != nil {
		rt.log.Error("file open failed", "file", f.ID, "err", err)
		fail(rw, http.StatusInternalServerError, "store_unavailable", "the file could not be read")
		return
	}
	defer content.Close()
	h := rw.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "private, max-age=86400")
	disposition := "attachment"
	h.Set("Content-Type", "application/octet-stream")
	if inlineTypes[f.Type] {
		disposition = "inline"
		h.Set("Content-Type", f.Type)
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	http.ServeContent(rw, r, "", time.UnixMilli(f.Created), content)
}
