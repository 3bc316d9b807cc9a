package protocol

import (
	"encoding/json"
	"strconv"
)

// FileRef is the file a chat line carries: an upload to its room (POST /api/files),
// delivered as the message's "file".
type FileRef struct {
	ID   string `json:"fileId"`
	URL  string `json:"url"` // relative: /api/files/{fileId}
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type"` // sniffed from the content
}

// ParseFileRef reads a FileRef stored as JSON; "" (or anything broken) is none.
func ParseFileRef(stored string) *FileRef {
	if stored == "" {
		return nil
	}
	var f FileRef
	if json.Unmarshal([]byte(stored), &f) != nil || f.ID == "" {
		return nil
	}
	return &f
}

// appendFileRef writes f as a JSON object.
func appendFileRef(dst []byte, f *FileRef) []byte {
	dst = append(dst, `{"fileId":`...)
	dst = AppendString(dst, f.ID)
	dst = append(dst, `,"url":`...)
	dst = AppendString(dst, f.URL)
	dst = append(dst, `,"name":`...)
	dst = AppendString(dst, f.Name)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, f.Size, 10)
	dst = append(dst, `,"type":`...)
	dst = AppendString(dst, f.Type)
	return append(dst, '}')
}

// seedText is what a client that knows no "file" (the Qt client) reads as the
// line's text: the caption, then the file's name, size and URL, formatted as texts are.
func seedText(caption string, f *FileRef) string {
	line := FormatText("📎 " + f.Name + " (" + sizeWords(f.Size) + ") " + f.URL)
	if caption == "" {
		return line
	}
	return caption + " " + line
}

// sizeWords is a size as people read it: 512 B, 12 KB, 3.4 MB.
func sizeWords(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1000_000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	default:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
}
