package store

import (
	"context"
	"testing"
)

// oldMessagesSchema is messages as chatd made it before edits, deletes and replies.
const oldMessagesSchema = messagesSchema + `
INSERT INTO rooms (id, room) VALUES (1, 'lobby');
INSERT INTO messages (id, room_id, seq, ts, user_id, user_name, gender, color, to_user_id, text, client_msg_id)
	VALUES (1, 1, 1, 1000, 7, 'Old', 0, '#000', 0, 'old line', '');
INSERT INTO room_seqs VALUES (1, 1, 1);`

// TestMigrateEditsAndApply: a history made before edits opens (twice: the second open
// adds nothing); its old line reads as never edited, and can then be edited and
// deleted; a delete leaves no text in the row, and a later edit does not apply.
func TestMigrateEditsAndApply(t *testing.T) {
	dir := t.TempDir()
	execRaw(t, dir, oldMessagesSchema)
	ctx := context.Background()
	s := openTest(t, dir)
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	msgs, err := s.Range(ctx, "lobby", 0, 10, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "old line" || msgs[0].EditedAt != 0 || msgs[0].Deleted || msgs[0].ReplyTo != "" {
		t.Fatalf("old line = %+v, %v", msgs, err)
	}
	b := &Batch{
		Messages: []Message{
			{Room: "lobby", Seq: 2, TS: 2000, UserID: 7, UserName: "Old", Color: "#000", Text: "new", ReplyTo: `{"seq":1,"text":"old line"}`, ReplySeq: 1},
			{Room: "lobby", Seq: 3, TS: 2001, UserID: 7, UserName: "Old", Color: "#000", Text: "re new", ReplyTo: `{"seq":2,"text":"new"}`, ReplySeq: 2},
		},
		Edits: []Edit{{Room: "lobby", Seq: 1, Text: "edited", EditedAt: 3000}},
	}
	if err := s.Write(ctx, b); err != nil || !b.Edits[0].Applied {
		t.Fatalf("edit: %v, applied %v", err, b.Edits[0].Applied)
	}
	del := &Batch{Edits: []Edit{{Room: "lobby", Seq: 2, EditedAt: 4000, Delete: true, DeletedQuote: `{"seq":2,"deleted":true}`}, {Room: "lobby", Seq: 2, Text: "again", EditedAt: 5000}}}
	if err := s.Write(ctx, del); err != nil || !del.Edits[0].Applied || del.Edits[1].Applied {
		t.Fatalf("delete then edit: %v, applied %+v", err, del.Edits)
	}
	msgs, _, err = s.History(ctx, "lobby", 0, 10)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("history = %+v, %v", msgs, err)
	}
	if m := msgs[0]; m.Text != "edited" || m.EditedAt != 3000 {
		t.Fatalf("edited = %+v", m)
	}
	if m := msgs[1]; !m.Deleted || m.Text != "" || m.ReplyTo != "" || m.UserID != 7 {
		t.Fatalf("deleted = %+v", m)
	}
	if m := msgs[2]; m.ReplyTo != `{"seq":2,"deleted":true}` || m.Text != "re new" {
		t.Fatalf("the reply to the deleted line = %+v", m)
	}
	// Search finds an edited line by its new words only, a deleted one not at all.
	for term, want := range map[string]int{"edited": 1, "old": 0, "new": 1} { // "new" is in "re new"
		found, err := s.Search(ctx, []string{"lobby"}, []string{term}, 10)
		if err != nil || len(found) != want || term == "new" && found[0].Seq != 3 {
			t.Fatalf("Search %q = %+v, %v; want %d", term, found, err, want)
		}
	}
	// Nothing of the deleted line is left: not its text, not its excerpt in a quote.
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM messages WHERE text = 'new' OR reply_to LIKE '%"new"%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows still hold the deleted text (%v)", n, err)
	}
}
