package chat

import (
	"strconv"
	"strings"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// A nickname is taken under two keys, so that nobody can pass for somebody else by
// case or by a look-alike letter: Cyrillic "Аlice", Greek "Αlice", fullwidth "Ａlice"
// and math-bold "𝐀lice" all take "Alice". Both keys are UTS #39 confusable skeletons
// (github.com/mtibben/confusables, the Unicode table) of the NFKC form, which folds
// fullwidth and mathematical letters first. They differ in when case is folded:
//
//   - folded: lowercased, then the skeleton, so "BILL" and "bill" are one name;
//   - shaped: the skeleton as written, then lowercased, so "Ill" (capital i) and
//     "lll" are one name although "I" folds to "i", not to "l".
//
// One key cannot do both: "I" is "i" by case and "l" by shape.
func nameKeys(name string) (folded, shaped string) {
	n := norm.NFKC.String(name)
	folded = strings.ToLower(confusables.Skeleton(strings.ToLower(n)))
	shaped = strings.ToLower(confusables.Skeleton(n))
	// A plain lowercase name is its own key: the names map then keeps the user's name
	// string, not a copy (16 bytes a connection).
	if folded == name {
		folded = name
	}
	if shaped == folded {
		shaped = folded
	}
	return folded, shaped
}

// NameKeys is nameKeys for a cluster, which holds a registered account's name under
// both keys (engine/cluster/accounts.go), so nicknames on every node compare with it
// as they do with each other.
func NameKeys(name string) (folded, shaped string) { return nameKeys(name) }

// nameTaken reports whether a user online, an identity that may still resume, or a
// registered account (account.go) holds name or one that looks like it.
func (ch *Chat) nameTaken(name string) bool {
	folded, shaped := nameKeys(name)
	_, byCase := ch.names[folded]
	_, byShape := ch.names[shaped]
	return byCase || byShape || ch.nameReserved(folded, shaped)
}

// takeName holds name for userID under both its keys.
func (ch *Chat) takeName(name string, userID uint64) {
	folded, shaped := nameKeys(name)
	ch.names[folded] = userID
	ch.names[shaped] = userID
}

// uniqueName returns name, or "name (N)" with the first free N from 2, as the seed does.
// A name is taken while its user is online or its identity may still be resumed.
// ch.nameHint keeps, per base name's folded key, a suffix below which every
// "name (N)" is taken, so a thousand users called "user" do not make each login try a
// thousand names. The hint only skips: every name returned was checked free.
func (ch *Chat) uniqueName(name string) string {
	if !ch.nameTaken(name) {
		return name
	}
	base, _ := nameKeys(name)
	n := max(ch.nameHint[base], 2)
	buf := make([]byte, 0, len(name)+8)
	for ; ; n++ {
		buf = append(append(append(buf[:0], name...), " ("...), strconv.Itoa(n)...)
		buf = append(buf, ')')
		if !ch.nameTaken(string(buf)) {
			break
		}
	}
	ch.nameHint[base] = n + 1
	return string(buf)
}

// freeName releases the keys of name that userID holds and lowers its base's hint if
// it was "base (N)". Filtered names never contain parentheses, so only uniqueName
// makes that form.
func (ch *Chat) freeName(name string, userID uint64) {
	if ch.cl.link != nil {
		ch.freeClusterName(name, userID)
	}
	folded, shaped := nameKeys(name)
	for _, key := range []string{folded, shaped} {
		if ch.names[key] == userID {
			delete(ch.names, key)
		}
	}
	open := strings.LastIndex(name, " (")
	if open < 0 || !strings.HasSuffix(name, ")") {
		return
	}
	n, err := strconv.Atoi(name[open+2 : len(name)-1])
	if err != nil {
		return
	}
	base, _ := nameKeys(name[:open])
	if h, ok := ch.nameHint[base]; ok && n < h {
		if n <= 2 {
			delete(ch.nameHint, base) // 2 is where a search starts anyway
		} else {
			ch.nameHint[base] = n
		}
	}
}
