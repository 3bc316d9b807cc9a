package store

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// oldSessionsSchema is the sessions table as chatd made it before resume secrets.
const oldSessionsSchema = `CREATE TABLE sessions (
	user_id   INTEGER PRIMARY KEY,
	name      TEXT    NOT NULL,
	color     TEXT    NOT NULL,
	gender    INTEGER NOT NULL,
	online    INTEGER NOT NULL,
	last_seen INTEGER NOT NULL
);
INSERT INTO sessions VALUES (5, 'Old', '#000', 0, 1, 1);`

// TestMigrationAddsSessionSecrets: a data dir made before resume secrets opens; its
// sessions load with no secret (never resumable), and secrets written after the
// migration are kept, across reopenings too.
func TestMigrationAddsSessionSecrets(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(oldSessionsSchema); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ctx := context.Background()
	for round := range 2 { // the second open finds the column and adds nothing
		s := openTest(t, dir)
		st, err := s.Load(ctx, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		byID := map[uint64]Session{}
		for _, ss := range st.Sessions {
			byID[ss.UserID] = ss
		}
		if old, ok := byID[5]; !ok || old.Name != "Old" || len(old.Secret) != 0 {
			t.Fatalf("round %d: the old session loaded as %+v (present %v), want it with no secret", round, old, ok)
		}
		if round == 1 && !bytes.Equal(byID[6].Secret, []byte("0123456789abcdef")) {
			t.Fatalf("the new session's secret = %q", byID[6].Secret)
		}
		if err := s.Write(ctx, &Batch{Sessions: []Session{{UserID: 6, Name: "New", Color: "#fff", Online: true, LastSeen: 2, Secret: []byte("0123456789abcdef")}}}); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// TestReservedUserIDsSurviveAReopen: a reservation, alone in its batch or with
// records, raises MaxUserID durably; a smaller one never lowers it; the Writer commits
// a batch that holds only a reservation and hands it to onCommit.
func TestReservedUserIDsSurviveAReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	committed := make(chan uint64, 4)
	w := NewWriter(s, time.Millisecond, func(b *Batch, err error) {
		if err != nil {
			t.Error(err)
		}
		committed <- b.UserIDsUpTo
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.ReserveUserIDs(1024)
	w.ReserveUserIDs(512) // queued together: the larger stands
	if got := <-committed; got != 1024 {
		t.Fatalf("onCommit got reservation %d, want 1024", got)
	}
	w.AddSession(Session{UserID: 3, Name: "A", Color: "#000", Secret: []byte("s")})
	w.ReserveUserIDs(100)
	<-committed
	w.Close()
	s.Close()

	s = openTest(t, dir)
	defer s.Close()
	st, err := s.Load(context.Background(), time.Unix(0, 0))
	if err != nil || st.MaxUserID != 1024 {
		t.Fatalf("after reopening: MaxUserID = %d, %v; want 1024", st.MaxUserID, err)
	}
}
