package files

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Upload is POST /api/files?roomId=x: the file as the body (its name in X-File-Name)
// or as the multipart field "file"; 201 with its Info.
func (rt *Routes) Upload(rw http.ResponseWriter, r *http.Request) {
	token, room := engine.BearerToken(r.Header), r.URL.Query().Get("roomId")
	if token == "" {
		fail(rw, http.StatusUnauthorized, "unauthorized", `send "Authorization: Bearer TOKEN" (your resume or account token)`)
		return
	}
	userID, ok := rt.members.FileMember(token, room)
	if !ok {
		fail(rw, http.StatusForbidden, "forbidden", "the token names nobody online in that room")
		return
	}
	name, content, err := rt.readFile(r)
	var tooBig *tooLargeError
	switch {
	case errors.As(err, &tooBig):
		fail(rw, http.StatusRequestEntityTooLarge, "file_too_large", "the file is larger than --max-file-bytes")
		return
	case err != nil:
		fail(rw, http.StatusBadRequest, "bad_upload", err.Error())
		return
	case len(content) == 0:
		fail(rw, http.StatusBadRequest, "empty_file", "the file is empty")
		return
	}
	f := store.File{ID: newID(), Room: room, UserID: userID, Name: name, Size: int64(len(content)),
		Type: sniff(content), Created: rt.now().UnixMilli(), IP: engine.RemoteHost(r.RemoteAddr)}
	status, code, err := rt.keep(r.Context(), &f, content)
	if err != nil {
		if status == http.StatusInternalServerError {
			rt.log.Error("upload failed", "room", room, "userId", userID, "err", err)
		}
		fail(rw, status, code, err.Error())
		return
	}
	rt.members.FileUploaded(f)
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(rw).Encode(InfoOf(f))
}

// keep checks the uploader's quota and stores the content and its record, as one
// step per server, so two uploads at once cannot both fit the same remainder.
func (rt *Routes) keep(ctx context.Context, f *store.File, content []byte) (status int, code string, err error) {
	rt.quotaMu.Lock()
	defer rt.quotaMu.Unlock()
	byUser, byIP, err := rt.store.UploadedSince(ctx, f.UserID, f.IP, f.Created-int64(24*time.Hour/time.Millisecond))
	if err != nil {
		return http.StatusInternalServerError, "store_unavailable", errors.New("the upload could not be stored")
	}
	switch {
	case byUser+f.Size > rt.cfg.QuotaPerDay:
		return http.StatusTooManyRequests, "quota_exceeded", errors.New("over --file-quota for the last 24 hours")
	case byIP+f.Size > rt.cfg.QuotaPerIP:
		return http.StatusTooManyRequests, "quota_exceeded", errors.New("over --file-quota-per-ip for the last 24 hours")
	}
	if f.SHA256, err = rt.store.Put(content); err != nil {
		return http.StatusInternalServerError, "store_unavailable", errors.New("the upload could not be stored")
	}
	if err := rt.store.Add(ctx, *f); err != nil {
		return http.StatusInternalServerError, "store_unavailable", errors.New("the upload could not be stored")
	}
	return 0, "", nil
}

type tooLargeError struct{}

func (*tooLargeError) Error() string { return "file too large" }

// readFile reads the upload's name and bytes, at most --max-file-bytes of them.
func (rt *Routes) readFile(r *http.Request) (string, []byte, error) {
	body, name := io.Reader(r.Body), r.Header.Get("X-File-Name")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return "", nil, err
		}
		part, err := fieldFile(mr)
		if err != nil {
			return "", nil, err
		}
		body, name = part, part.FileName()
	} else if n, err := url.PathUnescape(name); err == nil {
		name = n // browsers send non-ASCII names percent-encoded
	}
	content, err := io.ReadAll(io.LimitReader(body, rt.cfg.MaxFileBytes+1))
	if err != nil {
		return "", nil, err
	}
	if int64(len(content)) > rt.cfg.MaxFileBytes {
		return "", nil, &tooLargeError{}
	}
	return cleanName(name), content, nil
}

// fieldFile is the multipart part named "file".
func fieldFile(mr *multipart.Reader) (*multipart.Part, error) {
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, errors.New(`no multipart field "file"`)
		}
		if p.FormName() == "file" {
			return p, nil
		}
	}
}

// maxNameBytes bounds a file's name.
const maxNameBytes = 255

// cleanName is a name safe to show and to send in Content-Disposition: no path, no
// control or bidi characters, valid UTF-8, at most 255 bytes; "file" if nothing is left.
func cleanName(raw string) string {
	raw = strings.ReplaceAll(raw, `\`, "/")
	name := path.Base("/" + raw)
	name = protocol.StripBidiControls(strings.ToValidUTF8(name, ""))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > maxNameBytes {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "/" || name == "." || name == ".." {
		return "file"
	}
	return name
}

// sniff is the content's type, by its bytes alone (what the client claims is not
// believed).
func sniff(content []byte) string {
	t, _, _ := mime.ParseMediaType(http.DetectContentType(content))
	return t
}

// inlineTypes are the images a browser may show in place; anything else downloads.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}
