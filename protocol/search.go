package protocol

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Search (chatd's addition, docs/PROTOCOL.md#search).
const (
	ActionSearch        = "Search"        // client: full-text search of one room, or of all one's rooms
	ActionSearchResults = "SearchResults" // server: the answer, newest match first
)

// Search limits.
const (
	SearchDefaultLimit = 20
	SearchMaxLimit     = 100
	// MaxSearchQuery bounds a query in characters; MaxSearchTerms the words used of it.
	MaxSearchQuery = 200
	MaxSearchTerms = 8
)

// CodeBadQuery: a Search whose query is missing, empty, too long or has no word.
const CodeBadQuery Code = "bad_query"

// DecodeSearchQuery reads the "query" of a Search request (kept out of Inbound) and
// returns it with the words it is searched by (SearchTerms).
func DecodeSearchQuery(data []byte) (string, []string, *Error) {
	var w struct {
		Query *string `json:"query"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return "", nil, errorf(CodeBadField, "query must be a string")
	}
	if w.Query == nil {
		return "", nil, errorf(CodeBadQuery, "query is missing")
	}
	q := *w.Query
	if utf8.RuneCountInString(q) > MaxSearchQuery {
		return "", nil, errorf(CodeBadQuery, "query is longer than %d characters", MaxSearchQuery)
	}
	terms := SearchTerms(q)
	if len(terms) == 0 {
		return "", nil, errorf(CodeBadQuery, "query has no word to search for")
	}
	return q, terms, nil
}

// SearchTerms splits a query into the words it is searched by: runs of letters and
// digits (so FTS operators, quotes and punctuation are separators, never syntax),
// lowercased, at most MaxSearchTerms, duplicates dropped.
func SearchTerms(q string) []string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) })
	terms := make([]string, 0, min(len(words), MaxSearchTerms))
	for _, w := range words {
		w = strings.ToLower(w)
		dup := false
		for _, t := range terms {
			dup = dup || t == w
		}
		if !dup {
			terms = append(terms, w)
		}
		if len(terms) == MaxSearchTerms {
			break
		}
	}
	return terms
}

// AppendSearchHead starts a SearchResults answer (roomID "" when every room was
// searched: no roomId key); add messages with AppendStored separated by commas, then
// close it with AppendSearchTail.
func AppendSearchHead(dst []byte, roomID, query string) []byte {
	dst = append(dst, `{"action":"SearchResults",`...)
	if roomID != "" {
		dst = append(dst, `"roomId":`...)
		dst = AppendString(dst, roomID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"query":`...)
	dst = AppendString(dst, query)
	return append(dst, `,"messages":[`...)
}

// AppendSearchTail ends a SearchResults answer.
func AppendSearchTail(dst []byte) []byte { return append(dst, "]}"...) }
