package imapwire

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSearchKeys(t *testing.T) {
	k := func(op string) SearchKey { return SearchKey{Op: op} }
	val := func(op, v string) SearchKey { return SearchKey{Op: op, Value: v} }
	date := func(op string, y int, m time.Month, d int) SearchKey {
		return SearchKey{Op: op, Date: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
	}
	num := func(op string, n uint64) SearchKey { return SearchKey{Op: op, Number: n} }
	seq := func(op, s string) SearchKey {
		set, err := ParseSeqSet(s)
		if err != nil {
			t.Fatal(err)
		}
		return SearchKey{Op: op, Seq: &set}
	}
	tests := []struct {
		in   string
		want []SearchKey
	}{
		{"ALL", []SearchKey{k("ALL")}},
		{"all", []SearchKey{k("ALL")}},
		{"ANSWERED DELETED DRAFT FLAGGED SEEN", []SearchKey{k("ANSWERED"), k("DELETED"), k("DRAFT"), k("FLAGGED"), k("SEEN")}},
		{"unanswered undeleted undraft unflagged unseen", []SearchKey{k("UNANSWERED"), k("UNDELETED"), k("UNDRAFT"), k("UNFLAGGED"), k("UNSEEN")}},
		{"NEW OLD RECENT", []SearchKey{k("NEW"), k("OLD"), k("RECENT")}},
		{"SAVEDATESUPPORTED", []SearchKey{k("SAVEDATESUPPORTED")}},
		{`BCC a BODY "b c" CC {1}` + "\r\nd FROM e SUBJECT f TEXT g TO h", []SearchKey{
			val("BCC", "a"), val("BODY", "b c"), val("CC", "d"), val("FROM", "e"),
			val("SUBJECT", "f"), val("TEXT", "g"), val("TO", "h")}},
		{"BEFORE 1-Feb-1994 ON \"02-Mar-2000\" SINCE 3-apr-2001", []SearchKey{
			date("BEFORE", 1994, 2, 1), date("ON", 2000, 3, 2), date("SINCE", 2001, 4, 3)}},
		{"SENTBEFORE 1-Jan-2020 SENTON 2-Jan-2020 SENTSINCE 3-Jan-2020", []SearchKey{
			date("SENTBEFORE", 2020, 1, 1), date("SENTON", 2020, 1, 2), date("SENTSINCE", 2020, 1, 3)}},
		{"SAVEDBEFORE 1-Jan-2020 SAVEDON 2-Jan-2020 SAVEDSINCE 3-Jan-2020", []SearchKey{
			date("SAVEDBEFORE", 2020, 1, 1), date("SAVEDON", 2020, 1, 2), date("SAVEDSINCE", 2020, 1, 3)}},
		{"KEYWORD $Forwarded UNKEYWORD Junk", []SearchKey{val("KEYWORD", "$Forwarded"), val("UNKEYWORD", "Junk")}},
		{`HEADER Message-ID "<a@b>"`, []SearchKey{{Op: "HEADER", Field: "Message-ID", Value: "<a@b>"}}},
		{`HEADER "X-Spam" ""`, []SearchKey{{Op: "HEADER", Field: "X-Spam", Value: ""}}},
		{"LARGER 1024 SMALLER 9223372036854775807", []SearchKey{num("LARGER", 1024), num("SMALLER", 9223372036854775807)}},
		{"NOT SEEN", []SearchKey{{Op: "NOT", Sub: []SearchKey{k("SEEN")}}}},
		{"OR SEEN FLAGGED", []SearchKey{{Op: "OR", Sub: []SearchKey{k("SEEN"), k("FLAGGED")}}}},
		{"OR (SEEN FROM x) NOT 1:3", []SearchKey{{Op: "OR", Sub: []SearchKey{
			{Op: "AND", Sub: []SearchKey{k("SEEN"), val("FROM", "x")}},
			{Op: "NOT", Sub: []SearchKey{seq("SEQSET", "1:3")}}}}}},
		{"1,3:*", []SearchKey{seq("SEQSET", "1,3:*")}},
		{"$", []SearchKey{seq("SEQSET", "$")}},
		{"UID 2:4 UNSEEN", []SearchKey{seq("UID", "2:4"), k("UNSEEN")}},
		{"UID $", []SearchKey{seq("UID", "$")}},
		{"(ALL)", []SearchKey{{Op: "AND", Sub: []SearchKey{k("ALL")}}}},
		{"((SEEN))", []SearchKey{{Op: "AND", Sub: []SearchKey{{Op: "AND", Sub: []SearchKey{k("SEEN")}}}}}},
		{"MODSEQ 620162338", []SearchKey{num("MODSEQ", 620162338)}},
		{"MODSEQ 0", []SearchKey{num("MODSEQ", 0)}},
		{`MODSEQ "/flags/\\draft" all 620162338`, []SearchKey{num("MODSEQ", 620162338)}},
		{`MODSEQ "/flags/$Junk" PRIV 5 SEEN`, []SearchKey{num("MODSEQ", 5), k("SEEN")}},
		{"OLDER 3600 YOUNGER 60", []SearchKey{num("OLDER", 3600), num("YOUNGER", 60)}},
		{"EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9", []SearchKey{val("EMAILID", "M6d99ac3275bb4e"), val("THREADID", "T64b478a75b7ea9")}},
	}
	for _, tt := range tests {
		d := args(t, tt.in)
		got, err := d.SearchKeys()
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v %v\nwant %+v", tt.in, got, err, tt.want)
			continue
		}
		if d.More() {
			t.Errorf("%q: left over", tt.in)
		}
	}
}

func TestSearchKeysAfterCharset(t *testing.T) {
	// The caller reads CHARSET; the space before the first key may be
	// consumed by either side, but only once.
	for _, explicitSP := range []bool{false, true} {
		for _, in := range []string{"CHARSET UTF-8 SUBJECT x", "CHARSET {5}\r\nUTF-8 SUBJECT x"} {
			d := args(t, in)
			if a, err := d.Atom(); err != nil || a != "CHARSET" {
				t.Fatal(a, err)
			}
			d.SP()
			if cs, err := d.AString(); err != nil || cs != "UTF-8" {
				t.Fatal(cs, err)
			}
			if explicitSP {
				if err := d.SP(); err != nil {
					t.Fatal(err)
				}
			}
			keys, err := d.SearchKeys()
			if err != nil || len(keys) != 1 || keys[0].Op != "SUBJECT" || keys[0].Value != "x" {
				t.Errorf("%q sp=%v: %+v %v", in, explicitSP, keys, err)
			}
		}
	}
	d := args(t, "CHARSET UTF-8  ALL")
	d.Atom()
	d.SP()
	d.AString()
	d.SP()
	if _, err := d.SearchKeys(); err == nil {
		t.Error("two spaces accepted")
	}
}

func TestSearchKeysErrors(t *testing.T) {
	deep := strings.Repeat("NOT ", 100) + "ALL"
	deepParen := strings.Repeat("(", 100) + "ALL" + strings.Repeat(")", 100)
	for _, in := range []string{
		"", "FOO", "()", "(ALL", "ALL)", "ALL  SEEN", "NOT", "OR SEEN", "BCC", "FROM (",
		"BEFORE 1-Foo-2000", "ON", "KEYWORD \\Seen", "HEADER From", "LARGER x", "LARGER -1",
		"SMALLER 9223372036854775808", "UID", "UID x", "0", "1:0", "MODSEQ", "MODSEQ x",
		`MODSEQ "/flags/\\Seen" 5`, `MODSEQ "/flags/\\Seen" foo 5`, `MODSEQ "foo" all 5`,
		"OLDER 0", "YOUNGER x", "EMAILID a.b", "THREADID", "EMAILID " + strings.Repeat("a", 256),
		deep, deepParen, "CHARSET UTF-8 ALL",
	} {
		d := args(t, in)
		got, err := d.SearchKeys()
		if err == nil {
			t.Errorf("%q: accepted as %+v", in, got)
		} else if !isSyntaxErr(err) {
			t.Errorf("%q: %v is not a SyntaxError", in, err)
		}
	}
	// Not quite too deep.
	d := args(t, strings.Repeat("NOT ", 60)+"ALL")
	if _, err := d.SearchKeys(); err != nil {
		t.Errorf("depth 60: %v", err)
	}
}
