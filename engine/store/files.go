package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Uploaded files: their bytes content-addressed under dir/files (one copy of each
// content, however often it is uploaded: files/ab/abcdef..., the SHA-256 in hex), and
// a row per upload in chatd.db, which is what ties a fileId to its room and uploader.

const filesSchema = `
CREATE TABLE IF NOT EXISTS files (
	id      TEXT    PRIMARY KEY,
	sha256  TEXT    NOT NULL,
	room    TEXT    NOT NULL,
	user_id INTEGER NOT NULL,
	name    TEXT    NOT NULL,
	type    TEXT    NOT NULL,
	size    INTEGER NOT NULL,
	created INTEGER NOT NULL,
	ip      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS files_by_user ON files(user_id, created);
CREATE INDEX IF NOT EXISTS files_by_ip ON files(ip, created);
`

// migrateFiles adds the files table to a database made before uploads.
func migrateFiles(db *sql.DB) error {
	if _, err := db.Exec(filesSchema); err != nil {
		return fmt.Errorf("create files: %w", err)
	}
	return nil
}

// File is one upload: what a fileId names.
type File struct {
	ID      string
	SHA256  string // the content's address
	Room    string // the room it was uploaded to, the only one it may be sent in
	UserID  uint64
	Name    string
	Type    string // sniffed from the content
	Size    int64
	Created int64  // unix milliseconds
	IP      string // the uploader's address, for the per-address quota
}

// Files is the upload store; its methods block on disk (never on the chat's owner).
type Files struct {
	db  *sql.DB
	dir string
}

// Files returns the upload store kept with this history.
func (s *SQLite) Files() *Files { return &Files{db: s.db, dir: filepath.Join(s.dir, "files")} }

// Put stores content (fully in memory already: nbhttp hands over whole bodies) under
// its SHA-256, once, and returns the address. A new file is written beside its final
// name, synced and renamed, so a crash leaves no half file under an address.
func (f *Files) Put(content []byte) (string, error) {
	sum := sha256.Sum256(content)
	addr := hex.EncodeToString(sum[:])
	path := f.path(addr)
	if _, err := os.Stat(path); err == nil {
		return addr, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("files: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return "", fmt.Errorf("files: %w", err)
	}
	_, werr := tmp.Write(content)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("files: write %s: %w", addr, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("files: %w", err)
	}
	return addr, nil
}

func (f *Files) path(addr string) string { return filepath.Join(f.dir, addr[:2], addr) }

// Open opens a stored content for reading.
func (f *Files) Open(addr string) (*os.File, error) {
	if len(addr) != sha256.Size*2 {
		return nil, fmt.Errorf("files: bad address %q", addr)
	}
	return os.Open(f.path(addr))
}

// Add records an upload.
func (f *Files) Add(ctx context.Context, u File) error {
	_, err := f.db.ExecContext(ctx, `INSERT INTO files (id, sha256, room, user_id, name, type, size, created, ip)
		VALUES (?,?,?,?,?,?,?,?,?)`, u.ID, u.SHA256, u.Room, int64(u.UserID), u.Name, u.Type, u.Size, u.Created, u.IP)
	if err != nil {
		return fmt.Errorf("files: add %s: %w", u.ID, err)
	}
	return nil
}

// Get returns the upload id names; ok is false if there is none.
func (f *Files) Get(ctx context.Context, id string) (u File, ok bool, err error) {
	var userID int64
	err = f.db.QueryRowContext(ctx, `SELECT id, sha256, room, user_id, name, type, size, created FROM files WHERE id = ?`, id).
		Scan(&u.ID, &u.SHA256, &u.Room, &userID, &u.Name, &u.Type, &u.Size, &u.Created)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, false, nil
	}
	if err != nil {
		return File{}, false, fmt.Errorf("files: get %s: %w", id, err)
	}
	u.UserID = uint64(userID)
	return u, true, nil
}

// UploadedSince is how many bytes userID, and how many the address ip, uploaded since
// the unix millisecond since, for the daily quotas.
func (f *Files) UploadedSince(ctx context.Context, userID uint64, ip string, since int64) (byUser, byIP int64, err error) {
	err = f.db.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(SUM(size), 0) FROM files WHERE user_id = ?1 AND created >= ?3),
		(SELECT COALESCE(SUM(size), 0) FROM files WHERE ip = ?2 AND created >= ?3)`,
		int64(userID), ip, since).Scan(&byUser, &byIP)
	if err != nil {
		return 0, 0, fmt.Errorf("files: quota of %d: %w", userID, err)
	}
	return byUser, byIP, nil
}
