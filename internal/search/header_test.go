package search

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func fieldsOf(h string) []string {
	var out []string
	b := []byte(h)
	parseFields(b, func(ns, ne, vs, ve int) {
		out = append(out, fmt.Sprintf("%s=%q", b[ns:ne], string(unfold(nil, b[vs:ve]))))
	})
	return out
}

func TestParseFields(t *testing.T) {
	for _, c := range []struct {
		name, header string
		want         []string
	}{
		{"crlf", "A: 1\r\nB:2\r\n\r\nbody: no\r\n", []string{`A="1"`, `B="2"`}},
		{"lf only", "A: 1\nB: 2\n\n", []string{`A="1"`, `B="2"`}},
		{"no blank line", "A: 1\r\nB: 2", []string{`A="1"`, `B="2"`}},
		{"folded", "Subject: a\r\n b\r\n\tc\r\nX: y\r\n\r\n", []string{`Subject="a b\tc"`, `X="y"`}},
		{"obsolete space before colon", "Subject : hi\r\n\r\n", []string{`Subject="hi"`}},
		{"empty value", "X-Empty:\r\nY:   \r\n\r\n", []string{`X-Empty=""`, `Y=""`}},
		{"line without colon skipped", "A: 1\r\ngarbage line\r\n cont of garbage\r\nB: 2\r\n\r\n", []string{`A="1"`, `B="2"`}},
		{"mbox From_ line skipped", "From alice@example.org Mon Jan  2 10:00:00 2006\r\nA: 1\r\n\r\n", []string{`A="1"`}},
		{"leading continuation ignored", " stray\r\nA: 1\r\n\r\n", []string{`A="1"`}},
		{"colon first", ": x\r\nA: 1\r\n\r\n", []string{`A="1"`}},
		{"value with colons", "Date: 10:00:00\r\n\r\n", []string{`Date="10:00:00"`}},
		{"empty", "", nil},
		{"only blank line", "\r\n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := fieldsOf(c.header); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestContainsFoldASCII(t *testing.T) {
	for _, c := range []struct {
		h, n string
		want bool
	}{
		{"Hello World", "world", true},
		{"Hello World", "o w", true},
		{"Hello", "hello!", false},
		{"abc", "", true},
		{"", "", true},
		{"", "a", false},
		{"aaab", "aab", true},
		{"ABC", "é", false},
	} {
		if got := containsFoldASCII([]byte(c.h), c.n); got != c.want {
			t.Errorf("containsFoldASCII(%q, %q) = %v", c.h, c.n, got)
		}
	}
}

func TestFoldString(t *testing.T) {
	for in, want := range map[string]string{
		"ABC":             "abc",
		"abc":             "abc",
		"ÉTÉ":             "été",
		"E\u0301TE\u0301": "été", // decomposed, NFC afterwards
		"Straße":          "strasse",
		"\u212A":          "k", // KELVIN SIGN
	} {
		if got := foldString(in); got != want {
			t.Errorf("foldString(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHeaderWithoutModel checks header keys on a record with raw header
// bytes only (no parsed model), including odd encodings.
func TestHeaderWithoutModel(t *testing.T) {
	hdr := strings.Join([]string{
		"Subject: =?utf-8?q?caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?=",
		"X-Latin1: r\xe9sum\xe9", // undeclared 8-bit: read as Windows-1252
		"X-Bad-Word: =?bogus?x?zzz?= tail",
		"X-Multi: one",
		"X-Multi: two",
		"",
		"",
	}, "\r\n")
	m := &Message{SeqNum: 1, Record: &store.Record{Header: []byte(hdr)}}
	for _, c := range []struct {
		field, value string
		want         bool
	}{
		{"subject", "CAFÉ CRÈME", true}, // adjacent encoded-words joined
		{"subject", "=?utf-8", false},
		{"x-latin1", "RÉSUMÉ", true},
		{"x-bad-word", "=?bogus?x?zzz?= TAIL", true},
		{"x-multi", "two", true}, // every occurrence of the field
		{"x-multi", "one", true},
		{"x-multi", "three", false},
	} {
		got, err := Match(keys(kh(c.field, c.value)), m, nil)
		if err != nil || got != c.want {
			t.Errorf("HEADER %s %q: got %v %v, want %v", c.field, c.value, got, err, c.want)
		}
	}
	// BODY without a model searches everything after the header.
	m.Body = func() ([]byte, error) { return []byte(hdr + "Body Text here"), nil }
	for needle, want := range map[string]bool{"TEXT HERE": true, "x-multi": false} {
		got, err := Match(keys(ks("BODY", needle)), m, nil)
		if err != nil || got != want {
			t.Errorf("BODY %q without model: got %v %v, want %v", needle, got, err, want)
		}
	}
}

// TestAddressKeysUseEnvelope: FROM, TO, CC and BCC also find an address as
// the envelope gives it (mailbox@host), however the header wrote it; HEADER
// stays a plain substring test of the field text (RFC 9051 6.4.4).
func TestAddressKeysUseEnvelope(t *testing.T) {
	raw := crlf(`From: <jo.smith (work) @ (main site) corp.example>
To: team: ann@one.example, (x) bob @ two.example ;
Cc: "Carol" <carol@three.example>
Subject: hi

body
`)
	m := &Message{SeqNum: 1, Record: newRecord(t, raw)}
	for _, c := range []struct {
		key  imapwire.SearchKey
		want bool
	}{
		{ks("FROM", "jo.smith@corp.example"), true},
		{ks("FROM", "SMITH@CORP"), true},
		{ks("FROM", "work"), true}, // still in the header text
		{ks("FROM", "jo.smith@main"), false},
		{kh("from", "jo.smith@corp.example"), false},
		{ks("TO", "bob@two.example"), true},
		{ks("TO", "team"), true},
		{ks("TO", "ann@two"), false},
		{ks("CC", "carol@three.example"), true},
		{ks("BCC", "carol@three.example"), false},
		{ks("SUBJECT", "jo.smith@corp.example"), false},
	} {
		got, err := Match(keys(c.key), m, nil)
		if err != nil || got != c.want {
			t.Errorf("%s %q: got %v %v, want %v", c.key.Op, c.key.Value, got, err, c.want)
		}
	}
}
