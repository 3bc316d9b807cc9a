package protocol

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&#039;")

// FormatText makes a client's chat text safe to show as HTML and renders mentions:
// it removes bidi controls (bidi.go), escapes & < > " ' and then turns each {nick}
// into <b>nick</b>. Unlike the seed's greedy regex, every pair of braces is its own
// mention: "{a} and {b}" gives two.
func FormatText(text string) string {
	s := htmlEscaper.Replace(StripBidiControls(text))
	if strings.IndexByte(s, '{') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexAny(s[i+1:], "{}")
		if j < 0 {
			break
		}
		j += i + 1
		switch {
		case s[j] == '{': // "{a{b}": the inner brace may start a mention
			b.WriteString(s[:j])
			s = s[j:]
		case j == i+1: // "{}" is not a mention
			b.WriteString(s[:j+1])
			s = s[j+1:]
		default:
			b.WriteString(s[:i])
			b.WriteString("<b>")
			b.WriteString(s[i+1 : j])
			b.WriteString("</b>")
			s = s[j+1:]
		}
	}
	b.WriteString(s)
	return b.String()
}

// ValidateText checks a chat line before it is formatted: not blank (bidi controls,
// which FormatText removes, count as blank), at most maxRunes characters (0 means no
// limit).
func ValidateText(text string, maxRunes int) *Error {
	if strings.TrimSpace(StripBidiControls(text)) == "" {
		return errorf(CodeEmptyText, "text is empty")
	}
	if maxRunes > 0 && utf8.RuneCountInString(text) > maxRunes {
		return errorf(CodeTextTooLong, "text is longer than %d characters", maxRunes)
	}
	return nil
}

// FilterName applies the seed's nickname rule, widened to every script: it keeps
// letters, digits, '-', '_' and spaces, trims, and caps the result at maxRunes
// characters. An empty result means "use the default name".
func FilterName(raw string, maxRunes int) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range strings.TrimSpace(raw) {
		if maxRunes > 0 && n >= maxRunes {
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
				n++
				if maxRunes > 0 && n >= maxRunes {
					return strings.TrimSpace(b.String())
				}
			}
			space = false
			b.WriteRune(r)
			n++
		case r == ' ':
			space = true // runs of spaces collapse to one, and none lead or trail
		}
	}
	return b.String()
}

// ParseGender reads the gender query parameter as the seed does: an integer, and
// anything but 0, 1 or 2 is 0 (unknown).
func ParseGender(raw string) int {
	g, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || g < GenderUnknown || g > GenderFemale {
		return GenderUnknown
	}
	return g
}

// ValidColor reports whether c is a CSS hex color of the form #rgb or #rrggbb. The seed
// took any string, which let a user inject HTML into every Qt client.
func ValidColor(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for i := 1; i < len(c); i++ {
		ch := c[i]
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F') {
			return false
		}
	}
	return true
}
