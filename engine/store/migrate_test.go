package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
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

// execRaw runs sqlText on the database in dir as it is on disk, without chatd's store:
// to make a data dir as an older chatd left it.
func execRaw(t *testing.T, dir, sqlText string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(sqlText); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationAddsSessionSecrets: a data dir made before resume secrets opens; its
// sessions load with no secret (never resumable), and secrets written after the
// migration are kept, across reopenings too.
func TestMigrationAddsSessionSecrets(t *testing.T) {
	dir := t.TempDir()
	execRaw(t, dir, oldSessionsSchema)

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

// roomNamesSchema is the history as chatd made it before room ids: messages keyed
// by the room's name, and rooms(room, last_seq) rewritten every commit.
const roomNamesSchema = `CREATE TABLE messages (
	id            INTEGER PRIMARY KEY,
	room          TEXT    NOT NULL,
	seq           INTEGER NOT NULL,
	ts            INTEGER NOT NULL,
	user_id       INTEGER NOT NULL,
	user_name     TEXT    NOT NULL,
	gender        INTEGER NOT NULL,
	color         TEXT    NOT NULL,
	to_user_id    INTEGER NOT NULL,
	text          TEXT    NOT NULL,
	client_msg_id TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX messages_room_seq ON messages(room, seq);
CREATE TABLE rooms (room TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE sessions (user_id INTEGER PRIMARY KEY, name TEXT NOT NULL, color TEXT NOT NULL,
	gender INTEGER NOT NULL, online INTEGER NOT NULL, last_seen INTEGER NOT NULL, secret BLOB NOT NULL DEFAULT x'');
CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('max_user_id', 9);
INSERT INTO rooms VALUES ('lobby', 3), ('@9', 1);`

// TestMigrationToRoomIDs: a data dir with the room-name schema opens; every message
// is read back as it was (History, Range, Load's last seqs and clientMsgIds), new
// lines follow on, the old tables are gone, and a second open changes nothing.
func TestMigrationToRoomIDs(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(roomNamesSchema); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for i, row := range []struct {
		room string
		seq  int
	}{{"lobby", 1}, {"@9", 1}, {"lobby", 2}, {"lobby", 3}} { // commit order interleaves rooms
		_, err := db.Exec(`INSERT INTO messages VALUES (?, ?, ?, ?, 9, 'Old', 0, '#000', 0, ?, ?)`,
			i+1, row.room, row.seq, now, fmt.Sprintf("%s %d", row.room, row.seq), fmt.Sprint("c", i+1))
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	ctx := context.Background()
	for round := range 2 {
		s := openTest(t, dir)
		lobby, err := s.Range(ctx, "lobby", 0, 100, 100)
		if err != nil || len(lobby) != 3+round || lobby[2].Text != "lobby 3" || lobby[0].ClientMsgID != "c1" || lobby[1].UserName != "Old" {
			t.Fatalf("round %d: lobby = %+v, %v", round, lobby, err)
		}
		inbox, more, err := s.History(ctx, "@9", 0, 10)
		if err != nil || more || len(inbox) != 1 || inbox[0].Text != "@9 1" {
			t.Fatalf("round %d: @9 = %+v, %v", round, inbox, err)
		}
		st, err := s.Load(ctx, time.Now().Add(-time.Hour))
		if err != nil || st.LastSeq["lobby"] != uint64(3+round) || st.LastSeq["@9"] != 1 || st.MaxUserID != 9 || len(st.ClientMsgs) != 4+round {
			t.Fatalf("round %d: Load = %+v, %v", round, st, err)
		}
		if cm := st.ClientMsgs[len(st.ClientMsgs)-1]; cm.Room != "lobby" || cm.Seq != 1 || cm.ClientMsgID != "c1" { // oldest last
			t.Fatalf("round %d: the oldest clientMsgId loaded as %+v", round, cm)
		}
		var old int
		if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('messages_by_name', 'rooms_by_name_old', 'messages_room_seq')`).Scan(&old); err != nil || old != 0 {
			t.Fatalf("round %d: %d old tables left (%v)", round, old, err)
		}
		if round == 0 {
			if err := s.Write(ctx, &Batch{Messages: []Message{msg("lobby", 4, "c5")}}); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
}
