package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// FileName is the database's name inside the data directory.
const FileName = "chatd.db"

// messagesSchema appends rather than scatters. messages is in commit order (its
// rowid), so a commit writes the table's last page or two, whatever rooms it
// touches. The index a room's reads need, (room_id, seq) -> the row, has two parts:
// tail_seqs holds the last lines' entries and is small (at most tailRows), so a
// commit's entries share its few leaves; the commit that fills it moves them all,
// sorted by room, into room_seqs, where each room's leaf is then written once per
// tailRows lines instead of once per commit with a line in the room (index.go).
// Before, one index on messages(room, seq) and a rooms(room, last_seq) row rewritten
// per commit put a page per room of the batch in every commit. A room's id is
// taken once, when the room first appears; its last seq is the index's max.
const messagesSchema = `
CREATE TABLE IF NOT EXISTS rooms (
	id   INTEGER PRIMARY KEY,
	room TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS rooms_by_name ON rooms(room);
CREATE TABLE IF NOT EXISTS messages (
	id            INTEGER PRIMARY KEY,
	room_id       INTEGER NOT NULL,
	seq           INTEGER NOT NULL,
	ts            INTEGER NOT NULL,
	user_id       INTEGER NOT NULL,
	user_name     TEXT    NOT NULL,
	gender        INTEGER NOT NULL,
	color         TEXT    NOT NULL,
	to_user_id    INTEGER NOT NULL,
	text          TEXT    NOT NULL,
	client_msg_id TEXT    NOT NULL DEFAULT '',
	file          TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS room_seqs (
	room_id INTEGER NOT NULL,
	seq     INTEGER NOT NULL,
	msg_id  INTEGER NOT NULL,
	PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tail_seqs (
	room_id INTEGER NOT NULL,
	seq     INTEGER NOT NULL,
	msg_id  INTEGER NOT NULL,
	PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
`

const schema = messagesSchema + `
CREATE TABLE IF NOT EXISTS sessions (
	user_id   INTEGER PRIMARY KEY,
	name      TEXT    NOT NULL,
	color     TEXT    NOT NULL,
	gender    INTEGER NOT NULL,
	online    INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	secret    BLOB    NOT NULL DEFAULT x''
);
CREATE TABLE IF NOT EXISTS meta (
	k TEXT PRIMARY KEY,
	v INTEGER NOT NULL
) WITHOUT ROWID;
`

// SQLite is the default Store: one database file in WAL mode. What Write returned
// nil for survives kill -9, and with DurabilityPower (synchronous=FULL) power loss too.
type SQLite struct {
	db  *sql.DB
	dir string // the data dir, which also holds the resume key

	// Statements the writer runs on every commit, prepared once: parsing them again
	// per commit cost an eighth of the server's CPU under 1,000 private messages/s.
	insert      [insertSizes]*sql.Stmt // insert[i] inserts 1<<i rows
	tailInsert  *sql.Stmt              // indexIntoTailSQL
	addRoom     *sql.Stmt
	roomID      *sql.Stmt
	upsertUser  *sql.Stmt
	upsertMaxID *sql.Stmt
	// searchInsert is indexSearchSQL (search.go).
	searchInsert *sql.Stmt

	// roomIDs are the rooms' ids committed so far, so a commit looks a room up in the
	// database only the first time it appears (ids never change once committed), and
	// roomLast their last seqs committed, which tell a retried batch's copies.
	roomMu   sync.Mutex
	roomIDs  map[string]int64
	roomLast map[string]uint64

	// tailLen is how many entries tail_seqs holds as committed (index.go).
	tailMu  sync.Mutex
	tailLen int

	// maxUserID is the max_user_id committed last: a commit writes it only when it
	// grows, which saves a page write per commit.
	maxUserID atomic.Uint64
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) dir/chatd.db with DefaultOptions.
func OpenSQLite(dir string) (*SQLite, error) { return OpenSQLiteWith(dir, DefaultOptions()) }

const (
	// maxConns is the pool: the Writer, the chat's 4 readers (engine/chat/reads.go)
	// and one more.
	maxConns = 6
	// spareConns is how many idle connections a memory release keeps: one serves a
	// calm server's writes and reads.
	spareConns = 1
)

// OpenSQLiteWith opens (creating if needed) dir/chatd.db.
func OpenSQLiteWith(dir string, o Options) (*SQLite, error) {
	sync, err := o.Durability.synchronous()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil { // private messages: owner only
		return nil, fmt.Errorf("store: data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// SQLite gives its -wal and -shm files the database's mode, so 0600 here is 0600 there.
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	} else if err := errors.Join(f.Chmod(0o600), f.Close()); err != nil {
		return nil, fmt.Errorf("store: chmod %s: %w", path, err)
	}
	cache := o.CacheKiB
	if cache <= 0 {
		cache = DefaultCacheKiB
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")&_pragma=busy_timeout(10000)" +
		"&_pragma=cache_size(-" + strconv.Itoa(cache) + ")&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One writer (the Writer goroutine) plus a few concurrent readers: WAL lets them
	// read while a commit is in progress.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: schema of %s: %w", path, err)
	}
	if err := indexAll(context.Background(), db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	s := &SQLite{db: db, dir: dir, roomIDs: make(map[string]int64)}
	if err := s.loadRooms(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if err := s.prepare(); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return s, nil
}

func (s *SQLite) prepare() error {
	var err error
	for i := range s.insert {
		if s.insert[i], err = s.db.Prepare(insertSQL(1 << i)); err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
	}
	if s.tailInsert, err = s.db.Prepare(indexIntoTailSQL); err != nil {
		return fmt.Errorf("prepare tail index: %w", err)
	}
	if s.addRoom, err = s.db.Prepare(`INSERT OR IGNORE INTO rooms (room) VALUES (?)`); err != nil {
		return fmt.Errorf("prepare rooms: %w", err)
	}
	if s.roomID, err = s.db.Prepare(`SELECT id FROM rooms WHERE room = ?`); err != nil {
		return fmt.Errorf("prepare room ids: %w", err)
	}
	if s.upsertUser, err = s.db.Prepare(`INSERT INTO sessions (user_id, name, color, gender, online, last_seen, secret)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET name = excluded.name,
		color = excluded.color, gender = excluded.gender, online = excluded.online, last_seen = excluded.last_seen,
		secret = excluded.secret`); err != nil {
		return fmt.Errorf("prepare sessions: %w", err)
	}
	if s.upsertMaxID, err = s.db.Prepare(`INSERT INTO meta (k, v) VALUES ('max_user_id', ?)
		ON CONFLICT (k) DO UPDATE SET v = max(v, excluded.v)`); err != nil {
		return fmt.Errorf("prepare meta: %w", err)
	}
	if s.searchInsert, err = s.db.Prepare(indexSearchSQL); err != nil {
		return fmt.Errorf("prepare search index: %w", err)
	}
	return nil
}

// Write implements Store.
func (s *SQLite) Write(ctx context.Context, b *Batch) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	maxUser := b.UserIDsUpTo
	var newRooms map[string]int64 // ids taken in this transaction: kept only if it commits
	msgs := b.Messages
	for i := range msgs {
		maxUser = max(maxUser, msgs[i].UserID, msgs[i].ToUserID)
	}
	if msgs, err = s.withoutCopies(ctx, tx, msgs); err != nil {
		return err
	}
	if len(msgs) > 0 {
		if newRooms, err = s.takeRoomIDs(ctx, tx, msgs); err != nil {
			return err
		}
		if err := s.insertMessages(ctx, tx, msgs, newRooms); err != nil {
			return err
		}
		if err := s.indexIntoTail(ctx, tx, len(msgs)); err != nil {
			return err
		}
		if err := s.indexSearch(ctx, tx, len(msgs)); err != nil {
			return err
		}
	}
	if err := s.writeReactions(ctx, tx, b.Reactions); err != nil {
		return err
	}
	if err := writeAccountRooms(ctx, tx, b.AccountRooms); err != nil {
		return err
	}
	if err := s.applyEdits(ctx, tx, b.Edits); err != nil {
		return err
	}
	if maxUser, err = s.upsertSessions(ctx, tx, b.Sessions, maxUser); err != nil {
		return err
	}
	if err := writeApplied(ctx, tx, b.AppliedStreamSeq); err != nil {
		return err
	}
	due := s.tailDue(msgs)
	if due {
		if err := indexTail(ctx, tx); err != nil {
			return err
		}
	}
	written := s.maxUserID.Load()
	if maxUser > written {
		if _, err := tx.StmtContext(ctx, s.upsertMaxID).ExecContext(ctx, int64(maxUser)); err != nil {
			return fmt.Errorf("store: max user id: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	s.roomsCommitted(msgs, newRooms)
	s.tailCommitted(msgs, due)
	for maxUser > written && !s.maxUserID.CompareAndSwap(written, maxUser) {
		written = s.maxUserID.Load()
	}
	return nil
}

// upsertSessions writes sessions in tx and returns maxUser raised to their ids.
func (s *SQLite) upsertSessions(ctx context.Context, tx *sql.Tx, sessions []Session, maxUser uint64) (uint64, error) {
	if len(sessions) == 0 {
		return maxUser, nil
	}
	up := tx.StmtContext(ctx, s.upsertUser)
	for _, ss := range sessions {
		if _, err := up.ExecContext(ctx, int64(ss.UserID), ss.Name, ss.Color, ss.Gender, ss.Online, ss.LastSeen, secretArg(ss.Secret)); err != nil {
			return 0, fmt.Errorf("store: session %d: %w", ss.UserID, err)
		}
		maxUser = max(maxUser, ss.UserID)
	}
	return maxUser, nil
}

// insertSizes: the prepared INSERTs carry 1, 2, 4, … 256 rows. One statement per
// row costs a database/sql round trip each, which dominated a commit's time.
const insertSizes = 9

func insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO messages (room_id, " + rowColumns + ", file, reply_to, reply_seq) VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// insertMessages inserts msgs with the largest prepared INSERTs that fit; a room's
// id is in s.roomIDs or, for a room new in this transaction, in newRooms.
func (s *SQLite) insertMessages(ctx context.Context, tx *sql.Tx, msgs []Message, newRooms map[string]int64) error {
	var stmts [insertSizes]*sql.Stmt // this transaction's handles, made on first use
	args := make([]any, 0, 13*min(len(msgs), 1<<(insertSizes-1)))
	for len(msgs) > 0 {
		i := min(bits.Len(uint(len(msgs)))-1, insertSizes-1)
		n := 1 << i
		args = args[:0]
		s.roomMu.Lock()
		for j := range n {
			m := &msgs[j]
			id, ok := s.roomIDs[m.Room]
			if !ok {
				id = newRooms[m.Room]
			}
			args = append(args, id, int64(m.Seq), m.TS, int64(m.UserID), m.UserName, m.Gender, m.Color, int64(m.ToUserID), m.Text, m.ClientMsgID, m.File, m.ReplyTo, int64(m.ReplySeq))
		}
		s.roomMu.Unlock()
		if stmts[i] == nil {
			stmts[i] = tx.StmtContext(ctx, s.insert[i])
		}
		if _, err := stmts[i].ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store: insert %s/%d and %d more: %w", msgs[0].Room, msgs[0].Seq, n-1, err)
		}
		msgs = msgs[n:]
	}
	return nil
}

// Load implements Store. It also forgets sessions that went offline before since.
func (s *SQLite) Load(ctx context.Context, since time.Time) (*State, error) {
	lastSeq, roomNames, err := s.loadLastSeqs(ctx)
	if err != nil {
		return nil, err
	}
	st := &State{LastSeq: lastSeq}
	if st.LastTS, err = s.loadLastTimes(ctx); err != nil {
		return nil, err
	}
	var maxUser sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'max_user_id'`).Scan(&maxUser)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: load max user id: %w", err)
	}
	st.MaxUserID = uint64(maxUser.Int64)
	cutoff := since.UnixMilli()
	if st.Sessions, err = s.loadSessions(ctx, cutoff); err != nil {
		return nil, err
	}
	if st.ClientMsgs, err = s.loadClientMsgs(ctx, cutoff, roomNames); err != nil {
		return nil, err
	}
	if st.AccountRooms, err = s.loadAccountRooms(ctx); err != nil {
		return nil, err
	}
	if st.AccountReads, err = s.loadAccountReads(ctx); err != nil {
		return nil, err
	}
	if st.AppliedStreamSeq, err = loadApplied(ctx, s.db); err != nil {
		return nil, err
	}
	return st, nil
}

// loadSessions forgets the sessions that went offline before cutoff and returns the rest.
func (s *SQLite) loadSessions(ctx context.Context, cutoff int64) ([]Session, error) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE online = 0 AND last_seen < ?`, cutoff); err != nil {
		return nil, fmt.Errorf("store: prune sessions: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, name, color, gender, online, last_seen, secret FROM sessions`)
	if err != nil {
		return nil, fmt.Errorf("store: load sessions: %w", err)
	}
	var sessions []Session
	for rows.Next() {
		var ss Session
		var id int64
		if err := rows.Scan(&id, &ss.Name, &ss.Color, &ss.Gender, &ss.Online, &ss.LastSeen, &ss.Secret); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load sessions: %w", err)
		}
		ss.UserID = uint64(id)
		sessions = append(sessions, ss)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: load sessions: %w", err)
	}
	return sessions, nil
}

// loadClientMsgs returns the messages with a clientMsgId stored since cutoff, newest
// first, by rowid, which is commit order, so the scan stops at the cutoff instead of
// reading the whole table.
func (s *SQLite) loadClientMsgs(ctx context.Context, cutoff int64, roomNames map[int64]string) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT room_id, seq, ts, user_id, client_msg_id FROM messages ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: load client ids: %w", err)
	}
	var msgs []Message
	for rows.Next() {
		var m Message
		var room, seq, uid int64
		if err := rows.Scan(&room, &seq, &m.TS, &uid, &m.ClientMsgID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load client ids: %w", err)
		}
		if m.TS < cutoff {
			break
		}
		if m.ClientMsgID != "" {
			m.Room, m.Seq, m.UserID = roomNames[room], uint64(seq), uint64(uid)
			msgs = append(msgs, m)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: load client ids: %w", err)
	}
	return msgs, nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close implements Store.
func (s *SQLite) Close() error {
	for _, st := range append(s.insert[:], s.tailInsert, s.addRoom, s.roomID, s.upsertUser, s.upsertMaxID, s.searchInsert) {
		if st != nil {
			st.Close()
		}
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}
