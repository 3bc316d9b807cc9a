package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestReactionsToggleAndPersist: a toggle adds, the same again removes, the state is
// the message's whole, in first-reaction order, the 21st distinct emoji is refused,
// and the state is read back after a reopen.
func TestReactionsToggleAndPersist(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := openTest(t, dir)
	if err := s.Write(ctx, &Batch{Messages: []Message{msg("dev", 1, ""), msg("dev", 2, "")}}); err != nil {
		t.Fatal(err)
	}
	b := &Batch{Reactions: []Reaction{
		{Room: "dev", Seq: 1, UserID: 1, Emoji: "👍", At: 1},
		{Room: "dev", Seq: 1, UserID: 2, Emoji: "❤️", At: 2},
		{Room: "dev", Seq: 1, UserID: 3, Emoji: "👍", At: 3},
		{Room: "dev", Seq: 1, UserID: 2, Emoji: "❤️", At: 4}, // off again
	}}
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	want := []ReactionCount{{"👍", []uint64{1, 3}}}
	if got := b.Reactions[3].State; !equalState(got, want) {
		t.Fatalf("state after the toggles = %v, want %v", got, want)
	}
	var many []Reaction
	for i := range MaxReactionEmoji + 1 {
		many = append(many, Reaction{Room: "dev", Seq: 2, UserID: 9, Emoji: fmt.Sprintf("e%d", i), At: int64(10 + i)})
	}
	b = &Batch{Reactions: many}
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.Reactions[MaxReactionEmoji-1].Refused || !b.Reactions[MaxReactionEmoji].Refused || len(b.Reactions[MaxReactionEmoji].State) != MaxReactionEmoji {
		t.Fatalf("the 20th refused %v, the 21st refused %v", b.Reactions[MaxReactionEmoji-1].Refused, b.Reactions[MaxReactionEmoji].Refused)
	}
	s.Close()

	s = openTest(t, dir)
	defer s.Close()
	got, err := s.Reactions(ctx, "dev", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !equalState(got[1], want) || len(got[2]) != MaxReactionEmoji || got[2][0].Emoji != "e0" {
		t.Fatalf("after a reopen: %v", got)
	}
}

func equalState(a, b []ReactionCount) bool {
	return slices.EqualFunc(a, b, func(x, y ReactionCount) bool { return x.Emoji == y.Emoji && slices.Equal(x.UserIDs, y.UserIDs) })
}
