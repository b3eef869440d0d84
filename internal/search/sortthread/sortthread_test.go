package sortthread

import (
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

func TestBaseSubject(t *testing.T) {
	tests := []struct {
		in, want string
		reply    bool
	}{
		{"", "", false},
		{"test", "test", false},
		{"Re: test", "test", true},
		{"RE:test", "test", true},
		{"re : test", "test", true},
		{"Re[2]: test", "test", true},
		{"Re [2] : test", "test", true},
		{"Fw: test", "test", true},
		{"FWD: test", "test", true},
		{"Fwd: Re: re: test", "test", true},
		{"[list] Re: test", "test", true},
		{"[list] test", "test", false},
		{"[a][b] test", "test", false},
		{"[a] [b] Re: [c] test", "test", true},
		{"[blob]", "[blob]", false},
		{"Re: [blob]", "[blob]", true},
		{"[blob] ", "[blob]", false},
		{"test (fwd)", "test", true},
		{"test (FWD) (fwd)  ", "test", true},
		{"[fwd: test]", "test", true},
		{"[Fwd: Re: test (fwd)]", "test", true},
		{"Re: [fwd: [list] Re: test]", "test", true},
		{"[fwd: test", "[fwd: test", false},
		{"Reply: test", "Reply: test", false},
		{"Ref: test", "Ref: test", false},
		{"Re:", "", true},
		{"  lots\t of \r\n  space  ", "lots of space", false},
		{"=?UTF-8?Q?R=C3=A9sum=C3=A9?=", "Résumé", false},
		{"Re: =?ISO-8859-1?Q?caf=E9?= (fwd)", "café", true},
		{"=?UTF-8?B?UmU6IGhpIHRoZXJl?=", "hi there", true},
		{"Re: (fwd) test", "(fwd) test", true},
		{"[x", "[x", false},
	}
	for _, tt := range tests {
		got, reply := BaseSubject(tt.in)
		if got != tt.want || reply != tt.reply {
			t.Errorf("BaseSubject(%q) = %q, %v; want %q, %v", tt.in, got, reply, tt.want, tt.reply)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "ABC"},
		{"ABC", "ABC"},
		{"été", "E\u0301TE\u0301"},
		{"ÉTÉ", "E\u0301TE\u0301"},
		{"ǆ", "Dz\u030c"}, // simple titlecase ǅ (not upper case Ǆ), then NFKD
		{"ﬁ", "fi"},       // NFKD of the ligature (no simple titlecase mapping)
		{"\xff", "\uFFFD"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if Fold("Straße") == Fold("STRASSE") {
		t.Error("simple mapping must not expand ß")
	}
}

func rec(uid uint32, subject, from, to, cc string, date, arrival string, size int64) *store.Record {
	r := &store.Record{Size: size, Parsed: &message.Parsed{}}
	r.UID = uid
	r.Parsed.Envelope.Subject = subject
	addr := func(s string) []message.Address {
		if s == "" {
			return nil
		}
		return []message.Address{{Name: "", Mailbox: s, Host: "example.org"}}
	}
	r.Parsed.Envelope.From = addr(from)
	r.Parsed.Envelope.To = addr(to)
	r.Parsed.Envelope.Cc = addr(cc)
	if date != "" {
		r.Parsed.Date, _ = time.Parse(time.RFC3339, date)
	}
	r.InternalDate, _ = time.Parse(time.RFC3339, arrival)
	return r
}

func sortIDs(recs []*store.Record, crits []Criterion) []uint32 {
	msgs := make([]Msg, len(recs))
	for i, r := range recs {
		msgs[i] = Msg{ID: uint32(i + 1), Fields: NewFields(r)}
	}
	Sort(msgs, crits)
	out := make([]uint32, len(msgs))
	for i := range msgs {
		out[i] = msgs[i].ID
	}
	return out
}

func TestSort(t *testing.T) {
	recs := []*store.Record{
		rec(10, "Re: banana", "zed", "bob", "", "2024-01-03T00:00:00Z", "2024-02-01T00:00:00Z", 300),
		rec(11, "apple", "Amy", "", "carl", "", "2024-01-02T00:00:00Z", 100),
		rec(12, "[list] Banana", "bob", "amy", "", "2024-01-01T00:00:00+05:00", "2024-02-03T00:00:00Z", 200),
		rec(13, "cherry", "bob", "carl", "amy", "2024-01-03T00:00:00Z", "2024-02-02T00:00:00Z", 100),
	}
	tests := []struct {
		crits []Criterion
		want  []uint32
	}{
		{[]Criterion{{Key: Arrival}}, []uint32{2, 1, 4, 3}},
		{[]Criterion{{Key: Arrival, Reverse: true}}, []uint32{3, 4, 1, 2}},
		// 2 has no Date: its internal date (Jan 2) is the sent date; 3's
		// date is Dec 31 19:00 UTC; 1 and 4 tie and keep their order.
		{[]Criterion{{Key: Date}}, []uint32{3, 2, 1, 4}},
		{[]Criterion{{Key: Date, Reverse: true}}, []uint32{1, 4, 2, 3}},
		{[]Criterion{{Key: Size}}, []uint32{2, 4, 3, 1}},
		{[]Criterion{{Key: Subject}}, []uint32{2, 1, 3, 4}},
		{[]Criterion{{Key: Subject}, {Key: Date, Reverse: true}}, []uint32{2, 1, 3, 4}},
		{[]Criterion{{Key: From}}, []uint32{2, 3, 4, 1}},
		{[]Criterion{{Key: From}, {Key: Size, Reverse: true}}, []uint32{2, 3, 4, 1}},
		{[]Criterion{{Key: To}}, []uint32{2, 3, 1, 4}},
		{[]Criterion{{Key: Cc}}, []uint32{1, 3, 4, 2}},
		{[]Criterion{{Key: Size}, {Key: Arrival, Reverse: true}}, []uint32{4, 2, 3, 1}},
	}
	for _, tt := range tests {
		got := sortIDs(recs, tt.crits)
		if !equal(got, tt.want) {
			t.Errorf("Sort(%v) = %v, want %v", tt.crits, got, tt.want)
		}
	}
}

func TestDisplayKeys(t *testing.T) {
	r1 := rec(1, "", "", "", "", "", "2024-01-01T00:00:00Z", 1)
	r1.Parsed.Envelope.From = []message.Address{{Name: "=?UTF-8?Q?=C3=89mile?=", Mailbox: "zz", Host: "example.org"}}
	r2 := rec(2, "", "", "", "", "", "2024-01-01T00:00:00Z", 1)
	r2.Parsed.Envelope.From = []message.Address{{Mailbox: "david", Host: "example.org"}}
	r3 := rec(3, "", "", "", "", "", "2024-01-01T00:00:00Z", 1)
	r3.Parsed.Envelope.From = []message.Address{{GroupStart: true, Mailbox: "undisclosed"}, {GroupEnd: true}, {Name: "Anne", Mailbox: "zzz", Host: "h"}}
	if f := NewFields(r1); f.DisplayFrom != Fold("Émile") || f.From != "ZZ" {
		t.Errorf("DISPLAYFROM key %q, FROM key %q", f.DisplayFrom, f.From)
	}
	if f := NewFields(r2); f.DisplayFrom != "DAVID@EXAMPLE.ORG" {
		t.Errorf("DISPLAYFROM key without a name: %q", f.DisplayFrom)
	}
	got := sortIDs([]*store.Record{r1, r2, r3}, []Criterion{{Key: DisplayFrom}})
	if !equal(got, []uint32{3, 2, 1}) {
		t.Errorf("DISPLAYFROM order %v", got)
	}
	got = sortIDs([]*store.Record{r1, r2, r3}, []Criterion{{Key: From}})
	if !equal(got, []uint32{2, 1, 3}) {
		t.Errorf("FROM order %v", got)
	}
	// Both in one command: each criterion reads its own key.
	r4 := rec(4, "", "", "", "", "", "2024-01-01T00:00:00Z", 1)
	r4.Parsed.Envelope.From = []message.Address{{Name: "Aaron", Mailbox: "zz", Host: "example.org"}}
	got = sortIDs([]*store.Record{r1, r2, r3, r4}, []Criterion{{Key: From}, {Key: DisplayFrom}})
	if !equal(got, []uint32{2, 4, 1, 3}) {
		t.Errorf("FROM DISPLAYFROM order %v", got)
	}
}

// TestFieldsKeepNoModel: the strings of a Fields are copies, so caching
// it does not keep the record's model alive.
func TestFieldsKeepNoModel(t *testing.T) {
	r := rec(1, "SUBJECT", "ZED", "", "", "", "2024-01-01T00:00:00Z", 1)
	r.Parsed.Envelope.MessageID = "<ID@X>"
	r.Header = []byte("References: <A@B>\r\n\r\n")
	f := NewFields(r)
	if f.Subject != "SUBJECT" || f.From != "ZED" || f.MessageID != "ID@X" || len(f.Refs) != 1 || f.Refs[0] != "A@B" {
		t.Fatalf("fields %+v", f)
	}
	if unsafe.StringData(f.Subject) == unsafe.StringData(r.Parsed.Envelope.Subject) ||
		unsafe.StringData(f.From) == unsafe.StringData(r.Parsed.Envelope.From[0].Mailbox) {
		t.Error("a field shares the model's string")
	}
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMsgIDs(t *testing.T) {
	got := MsgIDs(" <a@b> (comment) <c\r\n @d>junk <e@f")
	if len(got) != 2 || got[0] != "a@b" || got[1] != "c@d" {
		t.Errorf("MsgIDs = %q", got)
	}
	if got := MsgIDs("<x <y@z>"); len(got) != 1 || got[0] != "y@z" {
		t.Errorf("MsgIDs nested = %q", got)
	}
}

func TestHeaderField(t *testing.T) {
	h := []byte("Subject: x\r\nREFERENCES: <a@b>\r\n <c@d>\r\nReferences-X: no\r\n\r\nReferences: body\r\n")
	if got := headerField(h, "references"); got != " <a@b> <c@d>" {
		t.Errorf("headerField = %q", got)
	}
}

// TestCompareAgreesWithSort: Compare orders messages as Sort does, so a
// SORT context can insert new messages with it (RFC 5267 4.3.3): sorting
// a mailbox in one go and building the result one message at a time by
// binary search on Compare give the same order, ties included.
func TestCompareAgreesWithSort(t *testing.T) {
	crits := [][]Criterion{
		{{Key: Date}},
		{{Key: Subject}, {Key: Date, Reverse: true}},
		{{Key: From, Reverse: true}},
		{{Key: Size}, {Key: Arrival, Reverse: true}},
	}
	var msgs []Msg
	for i := 0; i < 200; i++ {
		msgs = append(msgs, Msg{ID: uint32(i + 1), Fields: &Fields{UID: uint32(10 + 3*i),
			Sent: int64(i * 7919 % 37), Arrival: int64(i % 5), Size: int64(i * 31 % 11),
			Subject: string(rune('A' + i%7)), From: string(rune('a' + i*13%5))}})
	}
	for _, cr := range crits {
		want := slices.Clone(msgs)
		Sort(want, cr)
		var got []Msg
		for i := len(msgs) - 1; i >= 0; i-- { // newest first: the worst order
			m := msgs[i]
			at, _ := slices.BinarySearchFunc(got, m.Fields, func(e Msg, t *Fields) int { return Compare(e.Fields, t, cr) })
			got = slices.Insert(got, at, m)
		}
		for i := range want {
			if got[i].UID != want[i].UID {
				t.Fatalf("%v: position %d: insertion gives UID %d, Sort gives %d", cr, i+1, got[i].UID, want[i].UID)
			}
		}
		if SameKeys(want[0].Fields, want[len(want)-1].Fields, cr) {
			t.Fatalf("%v: first and last have the same keys", cr)
		}
	}
}
