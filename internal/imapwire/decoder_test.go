package imapwire

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// args returns the decoder of "t X <s>" (s may hold literals).
func args(t *testing.T, s string) *Decoder {
	t.Helper()
	return mustRead(t, newReader("t X "+s+"\r\n", Limits{}), nil).Args()
}

func isSyntaxErr(err error) bool {
	var se *SyntaxError
	return errors.As(err, &se)
}

func TestTokens(t *testing.T) {
	type tok func(d *Decoder) (any, error)
	atom := func(d *Decoder) (any, error) { return d.Atom() }
	astr := func(d *Decoder) (any, error) { return d.AString() }
	str := func(d *Decoder) (any, error) { return d.String() }
	nstr := func(d *Decoder) (any, error) {
		s, isNil, err := d.NString()
		if isNil {
			return nil, err
		}
		return s, err
	}
	num := func(d *Decoder) (any, error) { return d.Number() }
	num64 := func(d *Decoder) (any, error) { return d.Number64() }
	tests := []struct {
		name string
		read tok
		in   string
		want any    // nil with ok=false means a syntax error
		rest string // what remains: checked through End when ""
		ok   bool
	}{
		{"atom", atom, "FOO", "FOO", "", true},
		{"atom stops", atom, "FOO(", "FOO", "(", true},
		{"atom bracket", atom, "BODY[]", "BODY[", "]", true},
		{"atom empty", atom, "(x)", nil, "", false},
		{"atom quoted", atom, `"x"`, nil, "", false},
		{"atom 8bit", atom, "\xc3\xa9", nil, "", false},
		{"astring atom", astr, "a]b", "a]b", "", true},
		{"astring quoted", astr, `"a \"b\" \\c"`, `a "b" \c`, "", true},
		{"astring empty quoted", astr, `""`, "", "", true},
		{"astring utf8 quoted", astr, "\"caf\xc3\xa9\"", "caf\xc3\xa9", "", true},
		{"astring literal", astr, "{3}\r\na\"b", `a"b`, "", true},
		{"astring literal+", astr, "{0+}\r\n", "", "", true},
		{"astring bad escape", astr, `"a\nb"`, nil, "", false},
		{"astring unterminated", astr, `"abc`, nil, "", false},
		{"astring star", astr, "*", nil, "", false},
		{"astring paren", astr, "(", nil, "", false},
		{"string quoted", str, `"x y"`, "x y", "", true},
		{"string literal", str, "{2}\r\nxy", "xy", "", true},
		{"string atom", str, "xy", nil, "", false},
		{"nstring nil", nstr, "NIL", nil, "", true},
		{"nstring nil lower", nstr, "nil", nil, "", true},
		{"nstring quoted NIL", nstr, `"NIL"`, "NIL", "", true},
		{"nstring nilx", nstr, "NILX", nil, "", false},
		{"number", num, "0", uint32(0), "", true},
		{"number max", num, "4294967295", uint32(4294967295), "", true},
		{"number overflow", num, "4294967296", nil, "", false},
		{"number leading zeros", num, "007", uint32(7), "", true},
		{"number stops", num, "12)", uint32(12), ")", true},
		{"number none", num, "x", nil, "", false},
		{"number64", num64, "9223372036854775807", uint64(9223372036854775807), "", true},
		{"number64 overflow", num64, "9223372036854775808", nil, "", false},
	}
	for _, tt := range tests {
		d := args(t, tt.in)
		got, err := tt.read(d)
		if !tt.ok {
			if err == nil || !isSyntaxErr(err) {
				t.Errorf("%s: %q: got %v, %v; want SyntaxError", tt.name, tt.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q: got %#v, %v; want %#v", tt.name, tt.in, got, err, tt.want)
			continue
		}
		if tt.rest == "" {
			if err := d.End(); err != nil {
				t.Errorf("%s: %q: left over: %v", tt.name, tt.in, err)
			}
		} else if d.Peek() != tt.rest[0] {
			t.Errorf("%s: %q: next byte %q, want %q", tt.name, tt.in, d.Peek(), tt.rest[0])
		}
	}
}

func TestDecoderSpacing(t *testing.T) {
	// The first SP may be consumed explicitly or implicitly.
	d := args(t, "a b")
	if err := d.SP(); err != nil {
		t.Fatal(err)
	}
	if a, _ := d.Atom(); a != "a" {
		t.Fatalf("got %q", a)
	}
	if !d.PeekSP() || !d.More() || d.Peek() != ' ' {
		t.Fatal("space not seen")
	}
	if _, err := d.Atom(); err == nil {
		t.Fatal("atom read over a space")
	}
	d.SP()
	if err := d.SP(); err == nil {
		t.Fatal("second SP accepted")
	}
	if a, _ := d.Atom(); a != "b" {
		t.Fatalf("got %q", a)
	}
	if d.More() || d.Peek() != 0 || d.End() != nil {
		t.Fatal("not at end")
	}
	d = args(t, "a")
	if d.Peek() != 'a' || d.PeekSP() != true {
		t.Fatalf("start: Peek %q", d.Peek())
	}
	if a, _ := d.Atom(); a != "a" {
		t.Fatalf("implicit first SP: got %q", a)
	}
	// No arguments at all.
	cmd := mustRead(t, newReader("t NOOP\r\n", Limits{}), nil)
	d = cmd.Args()
	if d.More() || d.End() != nil || d.Peek() != 0 {
		t.Fatal("NOOP has arguments")
	}
	if _, err := d.Atom(); err == nil {
		t.Fatal("atom from nothing")
	}
	// A trailing space is an error for End.
	d = mustRead(t, newReader("t NOOP \r\n", Limits{}), nil).Args()
	if d.End() == nil {
		t.Fatal("trailing space accepted")
	}
}

func TestList(t *testing.T) {
	var got []string
	each := func(d *Decoder) func() error {
		return func() error {
			s, err := d.AString()
			got = append(got, s)
			return err
		}
	}
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"()", nil, true},
		{"(a)", []string{"a"}, true},
		{`(a "b c" {1}` + "\r\nd)", []string{"a", "b c", "d"}, true},
		{"(a  b)", nil, false},
		{"( a)", nil, false},
		{"(a b", nil, false},
		{"a b", nil, false},
	} {
		got = nil
		d := args(t, tc.in)
		err := d.List(each(d))
		if tc.ok {
			if err != nil || !reflect.DeepEqual(got, tc.want) || d.End() != nil {
				t.Errorf("%q: got %q %v", tc.in, got, err)
			}
		} else if err == nil {
			t.Errorf("%q: accepted", tc.in)
		}
	}
}

func TestMailbox(t *testing.T) {
	tests := []struct {
		in   string
		utf8 bool
		want string
		ok   bool
	}{
		{"INBOX", false, "INBOX", true},
		{"inbox", false, "INBOX", true},
		{`"InBox"`, true, "INBOX", true},
		{"inbox/Sub", false, "INBOX/Sub", true},
		{"INBOX/sub", false, "INBOX/sub", true},
		{"inboxes", false, "inboxes", true},
		{"Sent", false, "Sent", true},
		{`""`, false, "", true},
		{"~peter/mail/&U,BTFw-/&ZeVnLIqe-", false, "~peter/mail/台北/日本語", true},
		{"&U,BTFw-", true, "&U,BTFw-", true}, // taken as is in UTF-8 mode
		{"\"台北\"", true, "台北", true},
		{"\"台北\"", false, "", false},  // 8-bit is not modified UTF-7
		{"\"\xff\"", true, "", false}, // not UTF-8
		{"&Jjo", false, "", false},    // unterminated
		{"A&AGE-", false, "", false},  // encoded ASCII
		{"{5}\r\nBo&-b", false, "Bo&b", true},
		{"%a", false, "", false},
		{"~{1}\r\na", false, "", false}, // literal8 is not a string
		{"(x", false, "", false},
	}
	for _, tt := range tests {
		d := args(t, tt.in)
		got, err := d.Mailbox(tt.utf8)
		if !tt.ok {
			if !isSyntaxErr(err) {
				t.Errorf("%q utf8=%v: got %q %v, want SyntaxError", tt.in, tt.utf8, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || d.End() != nil {
			t.Errorf("%q utf8=%v: got %q %v, want %q", tt.in, tt.utf8, got, err, tt.want)
		}
	}
}

func TestListMailbox(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"*", "*", true},
		{"%", "%", true},
		{"inbox", "INBOX", true},
		{"inbox/%", "INBOX/%", true},
		{"Archive/*]", "Archive/*]", true},
		{`"a b*"`, "a b*", true},
		{`""`, "", true},
		{"&ZeVnLIqe-/*", "日本語/*", true},
		{"(", "", false},
		{"&bad", "", false},
	}
	for _, tt := range tests {
		d := args(t, tt.in)
		got, err := d.ListMailbox(false)
		if !tt.ok {
			if !isSyntaxErr(err) {
				t.Errorf("%q: got %q %v, want SyntaxError", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || d.End() != nil {
			t.Errorf("%q: got %q %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFlags(t *testing.T) {
	flag := []struct {
		in, want string
		ok       bool
	}{
		{`\Seen`, `\Seen`, true},
		{`\SEEN`, `\Seen`, true},
		{`\answered`, `\Answered`, true},
		{`\fLaGgEd`, `\Flagged`, true},
		{`\DELETED`, `\Deleted`, true},
		{`\draft`, `\Draft`, true},
		{`\recent`, `\Recent`, true},
		{`\Custom`, `\Custom`, true},
		{`$Forwarded`, `$Forwarded`, true},
		{`NonJunk`, `NonJunk`, true},
		{`\*`, "", false},
		{`\`, "", false},
		{`"x"`, "", false},
		{`(`, "", false},
	}
	for _, tt := range flag {
		d := args(t, tt.in)
		got, err := d.Flag()
		if !tt.ok {
			if !isSyntaxErr(err) {
				t.Errorf("Flag %q: got %q %v, want SyntaxError", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || d.End() != nil {
			t.Errorf("Flag %q: got %q %v, want %q", tt.in, got, err, tt.want)
		}
	}
	lists := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`()`, []string{}, true},
		{`(\Seen)`, []string{`\Seen`}, true},
		{`(\seen $Junk \Deleted)`, []string{`\Seen`, `$Junk`, `\Deleted`}, true},
		{`(\Seen \SEEN foo FOO)`, []string{`\Seen`, `foo`}, true},
		{`\Seen \Flagged`, []string{`\Seen`, `\Flagged`}, true},
		{`\Seen`, []string{`\Seen`}, true},
		{`(\Seen`, nil, false},
		{`(\Seen \*)`, nil, false},
		{`(\Seen  \Draft)`, nil, false},
	}
	for _, tt := range lists {
		d := args(t, tt.in)
		got, err := d.FlagList()
		if !tt.ok {
			if err == nil {
				t.Errorf("FlagList %q: accepted: %q", tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) || d.End() != nil {
			t.Errorf("FlagList %q: got %#v %v, want %#v", tt.in, got, err, tt.want)
		}
	}
	// A bare list stops before something that is not a flag.
	d := args(t, `\Seen (x)`)
	if got, err := d.FlagList(); err != nil || !reflect.DeepEqual(got, []string{`\Seen`}) || d.Peek() != ' ' {
		t.Errorf("bare list: %q %v", got, err)
	}
}

func TestDates(t *testing.T) {
	utc := time.UTC
	date := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1-Feb-1994", time.Date(1994, 2, 1, 0, 0, 0, 0, utc), true},
		{"01-feb-1994", time.Date(1994, 2, 1, 0, 0, 0, 0, utc), true},
		{`"29-FEB-2024"`, time.Date(2024, 2, 29, 0, 0, 0, 0, utc), true},
		{"31-Dec-1999", time.Date(1999, 12, 31, 0, 0, 0, 0, utc), true},
		{"29-Feb-2023", time.Time{}, false},
		{"32-Jan-2020", time.Time{}, false},
		{"0-Jan-2020", time.Time{}, false},
		{"1-Foo-2020", time.Time{}, false},
		{"1-Jan-20", time.Time{}, false},
		{"001-Jan-2020", time.Time{}, false},
		{`"1-Jan-2020`, time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range date {
		d := args(t, tt.in)
		got, err := d.Date()
		if !tt.ok {
			if !isSyntaxErr(err) {
				t.Errorf("Date %q: got %v %v, want SyntaxError", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != utc || d.End() != nil {
			t.Errorf("Date %q: got %v %v, want %v", tt.in, got, err, tt.want)
		}
	}
	dt := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{`"17-Jul-1996 02:44:25 -0700"`, time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600)), true},
		{`" 1-Jan-2020 00:00:00 +0000"`, time.Date(2020, 1, 1, 0, 0, 0, 0, utc), true},
		{`"1-Jan-2020 23:59:59 +0530"`, time.Date(2020, 1, 1, 23, 59, 59, 0, time.FixedZone("", 5*3600+30*60)), true},
		{`"01-jan-2020 10:00:00 -1200"`, time.Date(2020, 1, 1, 22, 0, 0, 0, utc), true},
		{`"17-Jul-1996 24:00:00 -0700"`, time.Time{}, false},
		{`"17-Jul-1996 02:44 -0700"`, time.Time{}, false},
		{`"17-Jul-1996 02:44:25"`, time.Time{}, false},
		{`"17-Jul-1996 02:44:25 0700"`, time.Time{}, false},
		{`"17-Jul-1996 02:44:25 +07:00"`, time.Time{}, false},
		{`"  1-Jan-2020 00:00:00 +0000"`, time.Time{}, false},
		{`" 11-Jan-2020 00:00:00 +0000"`, time.Time{}, false},
		{`17-Jul-1996`, time.Time{}, false},
	}
	for _, tt := range dt {
		d := args(t, tt.in)
		got, err := d.DateTime()
		if !tt.ok {
			if !isSyntaxErr(err) {
				t.Errorf("DateTime %q: got %v %v, want SyntaxError", tt.in, got, err)
			}
			continue
		}
		_, off := got.Zone()
		_, wantOff := tt.want.Zone()
		if err != nil || !got.Equal(tt.want) || d.End() != nil || (tt.want.Location() != utc && off != wantOff) {
			t.Errorf("DateTime %q: got %v %v, want %v", tt.in, got, err, tt.want)
		}
	}
}
