package protocol

import (
	"slices"
	"strings"
	"testing"
)

func TestSearchTerms(t *testing.T) {
	cases := map[string][]string{
		"hello world":            {"hello", "world"},
		`"AND" OR NOT (x*) ^y:z`: {"and", "or", "not", "x", "y", "z"},
		"NEAR(a b, 3)":           {"near", "a", "b", "3"},
		"Ünïcode café":           {"ünïcode", "café"},
		"a a A":                  {"a"},
		`*** "" ()`:              {},
		strings.Repeat("w ", 20): {"w"},
		"1 2 3 4 5 6 7 8 9 10":   {"1", "2", "3", "4", "5", "6", "7", "8"},
	}
	for q, want := range cases {
		if got := SearchTerms(q); !slices.Equal(got, want) {
			t.Errorf("SearchTerms(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestDecodeSearchQuery(t *testing.T) {
	for _, bad := range []string{`{}`, `{"query":""}`, `{"query":"  ** "}`, `{"query":"` + strings.Repeat("a", 201) + `"}`} {
		if _, _, err := DecodeSearchQuery([]byte(bad)); err == nil || err.Code != CodeBadQuery {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, _, err := DecodeSearchQuery([]byte(`{"query":3}`)); err == nil || err.Code != CodeBadField {
		t.Errorf("number: %v", err)
	}
	q, terms, err := DecodeSearchQuery([]byte(`{"query":"Hi there"}`))
	if err != nil || q != "Hi there" || !slices.Equal(terms, []string{"hi", "there"}) {
		t.Fatalf("%q %q %v", q, terms, err)
	}
	got := string(AppendSearchTail(AppendSearchHead(nil, "", "x")))
	if got != `{"action":"SearchResults","query":"x","messages":[]}` {
		t.Fatal(got)
	}
}
