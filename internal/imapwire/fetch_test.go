package imapwire

import (
	"reflect"
	"testing"
)

func TestFetchItems(t *testing.T) {
	it := func(name string) FetchItem { return FetchItem{Name: name} }
	body := func(peek bool, sec Section, p *Partial) FetchItem {
		return FetchItem{Name: "BODY", Section: &sec, Peek: peek, Partial: p}
	}
	tests := []struct {
		in   string
		want []FetchItem
	}{
		{"ALL", []FetchItem{it("FLAGS"), it("INTERNALDATE"), it("RFC822.SIZE"), it("ENVELOPE")}},
		{"fast", []FetchItem{it("FLAGS"), it("INTERNALDATE"), it("RFC822.SIZE")}},
		{"FULL", []FetchItem{it("FLAGS"), it("INTERNALDATE"), it("RFC822.SIZE"), it("ENVELOPE"), it("BODY")}},
		{"ENVELOPE", []FetchItem{it("ENVELOPE")}},
		{"flags", []FetchItem{it("FLAGS")}},
		{"InternalDate", []FetchItem{it("INTERNALDATE")}},
		{"RFC822", []FetchItem{it("RFC822")}},
		{"RFC822.HEADER", []FetchItem{it("RFC822.HEADER")}},
		{"rfc822.size", []FetchItem{it("RFC822.SIZE")}},
		{"RFC822.TEXT", []FetchItem{it("RFC822.TEXT")}},
		{"BODY", []FetchItem{it("BODY")}},
		{"BODYSTRUCTURE", []FetchItem{it("BODYSTRUCTURE")}},
		{"UID", []FetchItem{it("UID")}},
		{"MODSEQ", []FetchItem{it("MODSEQ")}},
		{"EMAILID", []FetchItem{it("EMAILID")}},
		{"THREADID", []FetchItem{it("THREADID")}},
		{"SAVEDATE", []FetchItem{it("SAVEDATE")}},
		{"PREVIEW", []FetchItem{it("PREVIEW")}},
		{"PREVIEW (LAZY)", []FetchItem{{Name: "PREVIEW", Lazy: true}}},
		{"(UID PREVIEW (lazy) FLAGS)", []FetchItem{it("UID"), {Name: "PREVIEW", Lazy: true}, it("FLAGS")}},
		{"(UID PREVIEW)", []FetchItem{it("UID"), it("PREVIEW")}},
		{"BODY[]", []FetchItem{body(false, Section{}, nil)}},
		{"body.peek[]", []FetchItem{body(true, Section{}, nil)}},
		{"BODY[]<0.2048>", []FetchItem{body(false, Section{}, &Partial{0, 2048})}},
		{"BODY.PEEK[1.2.3]<10.5>", []FetchItem{body(true, Section{Path: []int{1, 2, 3}}, &Partial{10, 5})}},
		{"BODY[HEADER]", []FetchItem{body(false, Section{Specifier: "HEADER"}, nil)}},
		{"BODY[text]", []FetchItem{body(false, Section{Specifier: "TEXT"}, nil)}},
		{"BODY[1.MIME]", []FetchItem{body(false, Section{Path: []int{1}, Specifier: "MIME"}, nil)}},
		{"BODY[2.HEADER]", []FetchItem{body(false, Section{Path: []int{2}, Specifier: "HEADER"}, nil)}},
		{"BODY[4.2.TEXT]", []FetchItem{body(false, Section{Path: []int{4, 2}, Specifier: "TEXT"}, nil)}},
		{`BODY.PEEK[HEADER.FIELDS (From "Subject" {6}` + "\r\nX-Spam)]", []FetchItem{body(true, Section{Specifier: "HEADER.FIELDS", Fields: []string{"From", "Subject", "X-Spam"}}, nil)}},
		{"BODY[1.HEADER.FIELDS.NOT (DATE)]<5.10>", []FetchItem{body(false, Section{Path: []int{1}, Specifier: "HEADER.FIELDS.NOT", Fields: []string{"DATE"}}, &Partial{5, 10})}},
		{"BINARY[]", []FetchItem{{Name: "BINARY", Section: &Section{}}}},
		{"BINARY.PEEK[1.2]<0.100>", []FetchItem{{Name: "BINARY", Section: &Section{Path: []int{1, 2}}, Peek: true, Partial: &Partial{0, 100}}}},
		{"BINARY.SIZE[3]", []FetchItem{{Name: "BINARY.SIZE", Section: &Section{Path: []int{3}}}}},
		{"BODY[]<99999999999.99999999999>", []FetchItem{body(false, Section{}, &Partial{4294967295, 4294967295})}},
		{"(FLAGS BODY[HEADER.FIELDS (DATE FROM)] UID)", []FetchItem{it("FLAGS"), body(false, Section{Specifier: "HEADER.FIELDS", Fields: []string{"DATE", "FROM"}}, nil), it("UID")}},
	}
	for _, tt := range tests {
		d := args(t, tt.in)
		got, err := d.FetchItems()
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v %v, want %+v", tt.in, got, err, tt.want)
			continue
		}
		if err := d.End(); err != nil {
			t.Errorf("%q: left over", tt.in)
		}
	}
}

func TestFetchItemsModifiers(t *testing.T) {
	// Fetch modifiers are left to the caller, even after PREVIEW.
	for _, in := range []string{"PREVIEW (CHANGEDSINCE 12)", "(FLAGS) (CHANGEDSINCE 12)", "FAST (CHANGEDSINCE 12)"} {
		d := args(t, in)
		if _, err := d.FetchItems(); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if d.SP() != nil || d.Peek() != '(' {
			t.Fatalf("%q: modifiers not left", in)
		}
	}
}

func TestFetchItemsErrors(t *testing.T) {
	for _, in := range []string{
		"", "()", "(ALL)", "(FLAGS FAST)", "FOO", "(FLAGS", "(FLAGS  UID)", "BODY.PEEK", "BODY[",
		"BODY[0]", "BODY[1.]", "BODY[MIME]", "BODY[1.2.FOO]", "BODY[HEADER.FIELDS]",
		"BODY[HEADER.FIELDS ()]", "BODY[HEADER.FIELDS (a:b)]", "BODY[HEADER.FIELDS(DATE)]",
		"BODY[TEXT.MIME]", "BODY[]<1>", "BODY[]<1.0>", "BODY[]<1.2", "BODY[]<.2>",
		"BINARY", "BINARY[TEXT]", "BINARY[1.MIME]", "BINARY.SIZE", "UID[1]",
		"PREVIEW (FOO)", "(PREVIEW ())", "PREVIEW[]", "RFC822.FOO", "FLAGS[]", "ENVELOPE[]",
	} {
		d := args(t, in)
		got, err := d.FetchItems()
		if err == nil {
			if d.End() == nil {
				t.Errorf("%q: accepted as %+v", in, got)
			}
			continue
		}
		if !isSyntaxErr(err) {
			t.Errorf("%q: error %v is not a SyntaxError", in, err)
		}
	}
	// BINARY.SIZE takes no partial: the partial is left over.
	d := args(t, "BINARY.SIZE[1]<0.1>")
	if _, err := d.FetchItems(); err != nil || d.End() == nil {
		t.Error("BINARY.SIZE partial accepted")
	}
}

func TestSectionString(t *testing.T) {
	tests := []struct {
		sec  *Section
		want string
	}{
		{nil, ""},
		{&Section{}, ""},
		{&Section{Path: []int{1, 2}}, "1.2"},
		{&Section{Specifier: "HEADER"}, "HEADER"},
		{&Section{Path: []int{3}, Specifier: "MIME"}, "3.MIME"},
		{&Section{Path: []int{1, 2}, Specifier: "HEADER.FIELDS", Fields: []string{"FROM", "Subject"}}, "1.2.HEADER.FIELDS (FROM Subject)"},
		{&Section{Specifier: "HEADER.FIELDS.NOT", Fields: []string{`a"b`, "x y", "c\\d"}}, `HEADER.FIELDS.NOT ("a\"b" "x y" "c\\d")`},
	}
	for _, tt := range tests {
		if got := tt.sec.String(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.sec, got, tt.want)
		}
	}
	// Round trip through the parser.
	d := args(t, `BODY[1.2.HEADER.FIELDS (From "X Y")]`)
	items, err := d.FetchItems()
	if err != nil || items[0].Section.String() != `1.2.HEADER.FIELDS (From "X Y")` {
		t.Fatalf("got %+v %v", items, err)
	}
}
