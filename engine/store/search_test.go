package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
)

// TestSearch: words are found in the rooms asked for only, newest first, as
// prefixes, through FTS5 operator characters; an edit's reindex and a delete's
// unindex leave no trace of the old text; limit holds.
func TestSearch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close()
	texts := []Message{
		{Room: "dev", Seq: 1, Text: "hello &lt;b&gt;world&lt;/b&gt;"},
		{Room: "dev", Seq: 2, Text: "nothing here"},
		{Room: "ops", Seq: 1, Text: "hello secret ops"},
		{Room: "dev", Seq: 3, Text: "Hello again, <b>Bob</b> &amp; co"},
	}
	if err := s.Write(ctx, &Batch{Messages: texts}); err != nil {
		t.Fatal(err)
	}
	seqs := func(rooms []string, q ...string) []string {
		t.Helper()
		msgs, err := s.Search(ctx, rooms, q, 10)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, fmt.Sprintf("%s/%d", m.Room, m.Seq))
		}
		return out
	}
	cases := []struct {
		rooms, terms, want []string
	}{
		{[]string{"dev"}, []string{"hello"}, []string{"dev/3", "dev/1"}},
		{[]string{"dev", "ops"}, []string{"hello"}, []string{"dev/3", "ops/1", "dev/1"}},
		{[]string{"dev"}, []string{"secret"}, nil},
		{[]string{"dev"}, []string{"wor"}, []string{"dev/1"}},
		{[]string{"dev"}, []string{"wo"}, nil}, // two characters: whole words only
		{[]string{"dev"}, []string{"co"}, []string{"dev/3"}},
		{[]string{"dev"}, []string{"bob"}, []string{"dev/3"}},
		{[]string{"dev"}, []string{"lt"}, nil}, // escapes are not words
		{[]string{"dev"}, []string{`"and`, "or*", "not", "near(", ":^"}, nil},
		{[]string{"nowhere"}, []string{"hello"}, nil},
	}
	for _, c := range cases {
		if got := seqs(c.rooms, c.terms...); !slices.Equal(got, c.want) {
			t.Errorf("%v %q = %v, want %v", c.rooms, c.terms, got, c.want)
		}
	}
	if msgs, _ := s.Search(ctx, []string{"dev", "ops"}, []string{"hello"}, 1); len(msgs) != 1 || msgs[0].Seq != 3 {
		t.Fatalf("limit 1: %v", msgs)
	}
	err := s.inTx(ctx, "test", func(tx *sql.Tx) error {
		if err := s.reindexSearch(ctx, tx, "dev", 1, "goodbye"); err != nil {
			return err
		}
		return s.unindexSearch(ctx, tx, "dev", 3)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs([]string{"dev"}, "hello"); got != nil {
		t.Fatalf("after the edit and the delete: %v", got)
	}
	if got := seqs([]string{"dev"}, "goodbye"); !slices.Equal(got, []string{"dev/1"}) {
		t.Fatalf("the edited text: %v", got)
	}
}

// TestMigrateSearchIndexesOldMessages: a database made before the search index gets
// it at the next open, with the messages it had; reopening again changes nothing.
func TestMigrateSearchIndexesOldMessages(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := openTest(t, dir)
	if err := s.Write(ctx, &Batch{Messages: []Message{{Room: "dev", Seq: 1, Text: "ancient words"}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	execRaw(t, dir, `DROP TABLE message_search; DROP TABLE reactions`) // as an older chatd left it
	for round := range 2 {
		s = openTest(t, dir)
		msgs, err := s.Search(ctx, []string{"dev"}, []string{"ancient"}, 5)
		if err != nil || len(msgs) != 1 || msgs[0].Text != "ancient words" {
			t.Fatalf("round %d: %v %v", round, msgs, err)
		}
		s.Close()
	}
}
