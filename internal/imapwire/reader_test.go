package imapwire

import (
	"bufio"
	"errors"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type contCall struct {
	tag  string
	size int64
	sync bool
}

// recorder is a ContinuationFunc that records its calls and returns err.
type recorder struct {
	calls []contCall
	err   error
}

func (r *recorder) cont(tag string, size int64, sync bool) error {
	r.calls = append(r.calls, contCall{tag, size, sync})
	return r.err
}

func newReader(in string, lim Limits) *Reader {
	return NewReader(bufio.NewReader(strings.NewReader(in)), lim)
}

// mustRead reads one command and fails the test on error.
func mustRead(t *testing.T, r *Reader, cont ContinuationFunc) *Command {
	t.Helper()
	cmd, err := r.ReadCommand(cont)
	if err != nil {
		t.Fatalf("ReadCommand: %v", err)
	}
	t.Cleanup(cmd.Close)
	return cmd
}

// readErr reads one command and returns its *CommandError.
func readErr(t *testing.T, r *Reader, cont ContinuationFunc) *CommandError {
	t.Helper()
	cmd, err := r.ReadCommand(cont)
	if err == nil {
		cmd.Close()
		t.Fatalf("ReadCommand: got command %q, want error", cmd.Name)
	}
	var ce *CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("ReadCommand: got %v (%T), want *CommandError", err, err)
	}
	return ce
}

func expectNoop(t *testing.T, r *Reader, tag string) {
	t.Helper()
	cmd := mustRead(t, r, nil)
	if cmd.Tag != tag || cmd.Name != "NOOP" || cmd.UID {
		t.Fatalf("next command: got %q %q uid=%v, want %q NOOP", cmd.Tag, cmd.Name, cmd.UID, tag)
	}
	if err := cmd.Args().End(); err != nil {
		t.Fatalf("NOOP args: %v", err)
	}
}

func TestReadCommandHead(t *testing.T) {
	tests := []struct {
		in   string
		tag  string
		name string
		uid  bool
		args string // first astring argument, "" for none
	}{
		{"a1 NOOP\r\n", "a1", "NOOP", false, ""},
		{"a1 noop\r\n", "a1", "NOOP", false, ""},
		{"a1 NOOP\n", "a1", "NOOP", false, ""}, // bare LF tolerated
		{"\r\n\r\nA.2 Capability\r\n", "A.2", "CAPABILITY", false, ""},
		{"x]y SELECT inbox\r\n", "x]y", "SELECT", false, "inbox"},
		{"t uid fetch 1:3 FLAGS\r\n", "t", "FETCH", true, "1:3"},
		{"t UID EXPUNGE 3\r\n", "t", "EXPUNGE", true, "3"},
		{"0001 LOGIN fred \"pass word\"\r\n", "0001", "LOGIN", false, "fred"},
	}
	for _, tt := range tests {
		cmd := mustRead(t, newReader(tt.in, Limits{}), nil)
		if cmd.Tag != tt.tag || cmd.Name != tt.name || cmd.UID != tt.uid {
			t.Errorf("%q: got %q %q uid=%v", tt.in, cmd.Tag, cmd.Name, cmd.UID)
			continue
		}
		d := cmd.Args()
		if tt.args == "" {
			if err := d.End(); err != nil {
				t.Errorf("%q: End: %v", tt.in, err)
			}
			continue
		}
		if a, err := d.AString(); err != nil || a != tt.args {
			t.Errorf("%q: first arg %q, %v; want %q", tt.in, a, err, tt.args)
		}
	}
}

func TestReadCommandBadHead(t *testing.T) {
	tests := []struct {
		in, tag string
	}{
		{"+a NOOP\r\n", ""},
		{"* NOOP\r\n", ""},
		{"a(b NOOP\r\n", ""},
		{"a\r\n", "a"},
		{"a \r\n", "a"},
		{"a UID\r\n", "a"},
		{"a UID \r\n", "a"},
		{"a NO\"OP\r\n", "a"},
		{" NOOP\r\n", ""},
	}
	for _, tt := range tests {
		r := newReader(tt.in+"next NOOP\r\n", Limits{})
		ce := readErr(t, r, nil)
		if ce.Tag != tt.tag || ce.Fatal || ce.No {
			t.Errorf("%q: got %+v, want tag %q, BAD, not fatal", tt.in, ce, tt.tag)
		}
		expectNoop(t, r, "next")
	}
}

func TestReadCommandLiterals(t *testing.T) {
	in := "a3 LOGIN {5}\r\nalice {6+}\r\nsecret\r\nb NOOP\r\n"
	r := newReader(in, Limits{})
	rec := &recorder{}
	cmd := mustRead(t, r, rec.cont)
	want := []contCall{{"a3", 5, true}, {"a3", 6, false}}
	if !reflect.DeepEqual(rec.calls, want) {
		t.Fatalf("cont calls %v, want %v", rec.calls, want)
	}
	d := cmd.Args()
	if err := d.SP(); err != nil {
		t.Fatal(err)
	}
	if d.Peek() != '{' {
		t.Fatalf("Peek before literal = %q", d.Peek())
	}
	u, err := d.AString()
	if err != nil || u != "alice" {
		t.Fatalf("user %q %v", u, err)
	}
	if err := d.SP(); err != nil {
		t.Fatal(err)
	}
	p, err := d.AString()
	if err != nil || p != "secret" {
		t.Fatalf("pass %q %v", p, err)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	expectNoop(t, r, "b")
}

func TestReadCommandLiteral8(t *testing.T) {
	in := "a APPEND INBOX (\\Seen) ~{5}\r\na\x00b\r\n\r\n"
	cmd := mustRead(t, newReader(in, Limits{}), nil)
	d := cmd.Args()
	if mb, err := d.Mailbox(false); err != nil || mb != "INBOX" {
		t.Fatalf("mailbox %q %v", mb, err)
	}
	d.SP()
	if fl, err := d.FlagList(); err != nil || !reflect.DeepEqual(fl, []string{`\Seen`}) {
		t.Fatalf("flags %v %v", fl, err)
	}
	d.SP()
	if d.Peek() != '~' {
		t.Fatalf("Peek = %q, want ~", d.Peek())
	}
	lit, err := d.Literal()
	if err != nil {
		t.Fatal(err)
	}
	if !lit.Binary || lit.Size != 5 || string(lit.Data) != "a\x00b\r\n" || lit.Path != "" {
		t.Fatalf("literal %+v", lit)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
}

func TestReadCommandNULLiteral(t *testing.T) {
	cmd := mustRead(t, newReader("a APPEND INBOX {3}\r\na\x00b\r\n", Limits{}), nil)
	d := cmd.Args()
	d.Mailbox(false)
	d.SP()
	if _, err := d.Literal(); err == nil {
		t.Fatal("NUL accepted in a non-binary literal")
	}
	cmd = mustRead(t, newReader("a LOGIN {3}\r\na\x00b x\r\n", Limits{}), nil)
	if _, err := cmd.Args().AString(); err == nil {
		t.Fatal("NUL accepted in a string literal")
	}
	// The same when the literal is spilled to a file.
	cmd = mustRead(t, newReader("a APPEND INBOX {5}\r\nabc\x00d\r\n", Limits{SpillThreshold: 2, TempDir: t.TempDir()}), nil)
	d = cmd.Args()
	d.Mailbox(false)
	d.SP()
	if _, err := d.Literal(); err == nil {
		t.Fatal("NUL accepted in a spilled non-binary literal")
	}
	cmd = mustRead(t, newReader("a APPEND INBOX ~{5}\r\nabc\x00d\r\n", Limits{SpillThreshold: 2, TempDir: t.TempDir()}), nil)
	d = cmd.Args()
	d.Mailbox(false)
	d.SP()
	if l, err := d.Literal(); err != nil || l.Path == "" || !l.Binary {
		t.Fatalf("spilled literal8: %+v %v", l, err)
	}
	cmd = mustRead(t, newReader("a LOGIN ~{1}\r\na x\r\n", Limits{}), nil)
	if _, err := cmd.Args().AString(); err == nil {
		t.Fatal("literal8 accepted as a string")
	}
}

func TestReadCommandSpill(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("0123456789", 10)
	in := "a APPEND Drafts {100+}\r\n" + body + " {3}\r\nabc\r\n"
	r := newReader(in, Limits{SpillThreshold: 4, TempDir: dir})
	cmd, err := r.ReadCommand(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := cmd.Args()
	d.Mailbox(false)
	d.SP()
	lit, err := d.Literal()
	if err != nil {
		t.Fatal(err)
	}
	if lit.Data != nil || lit.Path == "" || lit.Size != 100 || !strings.HasPrefix(lit.Path, dir) {
		t.Fatalf("not spilled: %+v", lit)
	}
	rc, err := lit.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != body {
		t.Fatalf("spilled content %q", got)
	}
	d.SP()
	// A spilled literal read as a string.
	if s, err := d.AString(); err != nil || s != "abc" {
		t.Fatalf("string from spilled literal %q %v", s, err)
	}
	cmd.Close()
	if _, err := os.Stat(lit.Path); !os.IsNotExist(err) {
		t.Fatalf("temp file left after Close: %v", err)
	}
	cmd.Close() // twice is fine
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("temp dir not empty: %v", ents)
	}
}

func TestReadCommandMemoryLiteralOpen(t *testing.T) {
	cmd := mustRead(t, newReader("a APPEND x {2}\r\nhi\r\n", Limits{}), nil)
	d := cmd.Args()
	d.Mailbox(false)
	d.SP()
	lit, err := d.Literal()
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := lit.Open()
	b, _ := io.ReadAll(rc)
	if string(b) != "hi" || lit.Path != "" {
		t.Fatalf("got %q %+v", b, lit)
	}
}

func TestReadCommandLongLine(t *testing.T) {
	long := strings.Repeat("x", 100)
	lim := Limits{MaxLineLength: 30}
	// Plain long line: tagged BAD, next command readable.
	r := newReader("a1 LOGIN "+long+"\r\nb NOOP\r\n", lim)
	ce := readErr(t, r, nil)
	if ce.Tag != "a1" || ce.Code != "TOOBIG" || ce.Fatal || ce.No {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")

	// Long line ending with a synchronizing literal: the client waits for
	// "+", which is never sent; no literal follows.
	rec := &recorder{}
	r = newReader("a2 LOGIN "+long+" {5}\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, rec.cont)
	if ce.Tag != "a2" || ce.Fatal || len(rec.calls) != 0 {
		t.Fatalf("got %+v, calls %v", ce, rec.calls)
	}
	expectNoop(t, r, "b")

	// Long line ending with a non-synchronizing literal: its octets and the
	// rest of the command are skipped.
	r = newReader("a3 LOGIN "+long+" {5+}\r\nhello {2+}\r\nhi\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, rec.cont)
	if ce.Tag != "a3" || ce.Fatal || len(rec.calls) != 0 {
		t.Fatalf("got %+v, calls %v", ce, rec.calls)
	}
	expectNoop(t, r, "b")

	// The announcement itself is cut (many leading zeros): whether a
	// literal follows is unknown, so the connection must be closed.
	r = newReader("a7 X "+long+" {"+strings.Repeat("0", 60)+"5+}\r\nhello\r\n", lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a7" || !ce.Fatal {
		t.Fatalf("got %#v", ce)
	}

	// A long second line (after a literal).
	r = newReader("a4 LOGIN {1}\r\nx "+long+"\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a4" || ce.Code != "TOOBIG" || ce.Fatal {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")

	// Exactly at the limit is fine.
	line := "a5 LOGIN " + strings.Repeat("y", 30-len("a5 LOGIN "))
	cmd := mustRead(t, newReader(line+"\r\n", lim), nil)
	if s, _ := cmd.Args().AString(); len(s) != 30-len("a5 LOGIN ") {
		t.Fatalf("limit line: %q", s)
	}
	// Longer than the bufio buffer (16 bytes minimum) and the limit.
	r = NewReader(bufio.NewReaderSize(strings.NewReader("a6 X "+strings.Repeat("z", 5000)+" {3+}\r\nabc\r\nb NOOP\r\n"), 16), lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a6" || ce.Fatal {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")
}

func TestReadCommandLiteralLimits(t *testing.T) {
	lim := Limits{MaxLiteralSize: 10}
	rec := &recorder{}
	// Synchronizing literal over the limit: NO [TOOBIG], not read.
	r := newReader("a LOGIN x {11}\r\nb NOOP\r\n", lim)
	ce := readErr(t, r, rec.cont)
	if ce.Tag != "a" || ce.Code != "TOOBIG" || !ce.No || ce.Fatal || len(rec.calls) != 0 {
		t.Fatalf("got %+v calls %v", ce, rec.calls)
	}
	expectNoop(t, r, "b")
	// Non-synchronizing literal over the limit: fatal.
	r = newReader("a LOGIN x {11+}\r\n01234567890\r\n", lim)
	ce = readErr(t, r, rec.cont)
	if ce.Tag != "a" || !ce.Fatal || ce.Code != "TOOBIG" {
		t.Fatalf("got %#v", ce)
	}
	// A number that does not fit in 63 bits is just too large, for APPEND
	// too.
	r = newReader("a APPEND x {99999999999999999999999}\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, nil)
	if !ce.No || ce.Code != "TOOBIG" {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")

	// MaxCommandSize counts lines and literals.
	lim = Limits{MaxLiteralSize: 100, MaxCommandSize: 40}
	r = newReader("a X {10}\r\n0123456789 {25}\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a" || !ce.No || ce.Code != "TOOBIG" || ce.Fatal {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")
	r = newReader("a X {10+}\r\n0123456789 {25+}\r\n"+strings.Repeat("z", 25)+" {3+}\r\nabc\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a" || ce.No || ce.Code != "TOOBIG" || ce.Fatal {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")
	// Lines alone can exceed it too.
	r = newReader("a X {10}\r\n0123456789 "+strings.Repeat("y", 40)+"\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a" || ce.No || ce.Code != "TOOBIG" || ce.Fatal {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")
}

func TestReadCommandContinuationRefused(t *testing.T) {
	// Sync literal refused: NO, the client sends nothing more.
	rec := &recorder{err: ErrContinuationRefused}
	r := newReader("a LOGIN {5}\r\nb NOOP\r\n", Limits{})
	ce := readErr(t, r, rec.cont)
	if ce.Tag != "a" || !ce.No || ce.Fatal {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")

	// Non-sync literal refused (LITERAL- over 4096, RFC 7888): BAD, and
	// the octets and the rest of the command are skipped.
	r = newReader("a LOGIN {5+}\r\nhello {3+}\r\nabc\r\nb NOOP\r\n", Limits{})
	ce = readErr(t, r, rec.cont)
	if ce.Tag != "a" || ce.No || ce.Fatal || ce.Code != "TOOBIG" {
		t.Fatalf("got %#v", ce)
	}
	if len(rec.calls) != 2 { // one per command, none for the skipped literal
		t.Fatalf("calls %v", rec.calls)
	}
	expectNoop(t, r, "b")

	// A *CommandError from cont is passed on, tagged.
	rec = &recorder{err: &CommandError{Code: "OVERQUOTA", Text: "quota", No: true}}
	r = newReader("a APPEND x {5}\r\nb NOOP\r\n", Limits{})
	ce = readErr(t, r, rec.cont)
	if ce.Tag != "a" || ce.Code != "OVERQUOTA" || !ce.No {
		t.Fatalf("got %#v", ce)
	}
	expectNoop(t, r, "b")

	// Other errors (the connection broke) are returned as is.
	boom := errors.New("write: broken pipe")
	rec = &recorder{err: boom}
	_, err := newReader("a APPEND x {5}\r\n", Limits{}).ReadCommand(rec.cont)
	if err != boom {
		t.Fatalf("got %v", err)
	}
}

func TestReadCommandBadLineWithLiteral(t *testing.T) {
	// A bad head followed by a sync literal: no "+", nothing more read.
	rec := &recorder{}
	r := newReader("+ {3}\r\nb NOOP\r\n", Limits{})
	ce := readErr(t, r, rec.cont)
	if ce.Tag != "" || len(rec.calls) != 0 {
		t.Fatalf("got %+v calls %v", ce, rec.calls)
	}
	expectNoop(t, r, "b")
	// Non-sync literals after a bad head are skipped.
	r = newReader("a LOGIN{3+}\r\nabc\r\nb NOOP\r\n", Limits{})
	ce = readErr(t, r, rec.cont)
	if ce.Tag != "a" || len(rec.calls) != 0 {
		t.Fatalf("got %+v calls %v", ce, rec.calls)
	}
	expectNoop(t, r, "b")
}

func TestReadCommandEOF(t *testing.T) {
	if _, err := newReader("", Limits{}).ReadCommand(nil); err != io.EOF {
		t.Fatalf("empty input: %v", err)
	}
	if _, err := newReader("\r\n", Limits{}).ReadCommand(nil); err != io.EOF {
		t.Fatalf("blank line then EOF: %v", err)
	}
	for _, in := range []string{"a NOO", "a LOGIN {5}\r\nab", "a LOGIN {5}\r\nabcde", "a LOGIN {5+}\r\nabcde x"} {
		if _, err := newReader(in, Limits{}).ReadCommand(nil); err != io.ErrUnexpectedEOF {
			t.Errorf("%q: got %v, want unexpected EOF", in, err)
		}
	}
	// Spilled literal cut short: no file left behind.
	dir := t.TempDir()
	_, err := newReader("a APPEND x {100}\r\nabc", Limits{SpillThreshold: 1, TempDir: dir}).ReadCommand(nil)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("temp files left: %v", ents)
	}
}

func TestReadLine(t *testing.T) {
	r := newReader("DONE\r\n"+strings.Repeat("a", 50)+"\r\ndGVzdA==\r\n", Limits{MaxLineLength: 20})
	if l, err := r.ReadLine(); err != nil || string(l) != "DONE" {
		t.Fatalf("%q %v", l, err)
	}
	if _, err := r.ReadLine(); err == nil {
		t.Fatal("long line accepted")
	}
	if l, err := r.ReadLine(); err != nil || string(l) != "dGVzdA==" {
		t.Fatalf("%q %v", l, err)
	}
	if _, err := r.ReadLine(); err != io.EOF {
		t.Fatalf("got %v", err)
	}
	if r.Buffered() != 0 {
		t.Fatal("buffered data left")
	}
}

func TestParseLiteralAnn(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want literalAnn
	}{
		{"a {5}", true, literalAnn{size: 5, sync: true, n: 3}},
		{"a {12+}", true, literalAnn{size: 12, sync: false, n: 5}},
		{"a ~{0}", true, literalAnn{size: 0, sync: true, binary: true, n: 4}},
		{"a ~{7+}", true, literalAnn{size: 7, binary: true, n: 5}},
		{"{1}", true, literalAnn{size: 1, sync: true, n: 3}},
		{"a {}", false, literalAnn{}},
		{"a {+}", false, literalAnn{}},
		{"a 5}", false, literalAnn{}},
		{"a {5", false, literalAnn{}},
		{"a {-5}", false, literalAnn{}},
		{"}", false, literalAnn{}},
		{"", false, literalAnn{}},
	}
	for _, tt := range tests {
		got, ok := parseLiteralAnn([]byte(tt.in))
		if ok != tt.ok || got != tt.want {
			t.Errorf("%q: got %+v %v, want %+v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// APPEND literals are messages: MaxMessageSize bounds each, MaxAppendSize
// the whole command; other commands keep MaxLiteralSize and MaxCommandSize.
func TestReadCommandAppendLimits(t *testing.T) {
	lim := Limits{MaxLiteralSize: 10, MaxCommandSize: 50, MaxMessageSize: 100, MaxAppendSize: 250}
	body := strings.Repeat("m", 100)

	// A 100-octet message is fine for APPEND, too large for LOGIN.
	rec := &recorder{}
	r := newReader("a APPEND x {100}\r\n"+body+"\r\nb LOGIN {100}\r\nc NOOP\r\n", lim)
	cmd := mustRead(t, r, rec.cont)
	if cmd.Name != "APPEND" || len(cmd.segs) != 2 || cmd.segs[0].lit.Size != 100 {
		t.Fatalf("APPEND: %+v", cmd)
	}
	ce := readErr(t, r, rec.cont)
	if ce.Tag != "b" || ce.Code != "TOOBIG" || !ce.No || ce.Fatal {
		t.Fatalf("LOGIN {100}: got %#v", ce)
	}
	if len(rec.calls) != 1 { // the continuation for APPEND only
		t.Fatalf("calls %v", rec.calls)
	}
	expectNoop(t, r, "c")

	// One octet over MaxMessageSize: NO [TOOBIG] before the client sends
	// it (RFC 7889 4), and the next command is read normally.
	r = newReader("a APPEND x {101}\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a" || ce.Code != "TOOBIG" || !ce.No || ce.Fatal {
		t.Fatalf("APPEND {101}: got %#v", ce)
	}
	expectNoop(t, r, "b")

	// MULTIAPPEND: two messages (about 230 octets in all) exceed
	// MaxCommandSize but not MaxAppendSize.
	r = newReader("a APPEND x {100}\r\n"+body+" (\\Seen) {100}\r\n"+body+"\r\nb NOOP\r\n", lim)
	cmd = mustRead(t, r, nil)
	if len(cmd.segs) != 3 || cmd.segs[1].lit.Size != 100 {
		t.Fatalf("MULTIAPPEND: %d segments", len(cmd.segs))
	}
	cmd.Close()
	expectNoop(t, r, "b")
	// A third one crosses MaxAppendSize: NO [TOOBIG] for a synchronizing
	// literal, whose octets never come.
	r = newReader("a APPEND x {100}\r\n"+body+" {100}\r\n"+body+" {100}\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a" || ce.Code != "TOOBIG" || !ce.No || ce.Fatal || ce.Text != "command too long" {
		t.Fatalf("MULTIAPPEND over MaxAppendSize: got %#v", ce)
	}
	expectNoop(t, r, "b")

	// "UID APPEND" is not APPEND: the general bounds apply.
	r = newReader("a UID APPEND x {100}\r\nb NOOP\r\n", lim)
	ce = readErr(t, r, nil)
	if ce.Tag != "a" || !ce.No || ce.Code != "TOOBIG" {
		t.Fatalf("UID APPEND: got %#v", ce)
	}
	expectNoop(t, r, "b")
}

// CommandName tells a ContinuationFunc which command it is serving.
func TestReaderCommandName(t *testing.T) {
	var r *Reader
	var seen []string
	cont := func(tag string, size int64, sync bool) error {
		name, uid := r.CommandName()
		if uid {
			name = "UID " + name
		}
		seen = append(seen, tag+" "+name)
		return nil
	}
	r = newReader("a APPEND x {1}\r\nm\r\nb uid search text {1+}\r\nz\r\nc login {1}\r\nu {1}\r\np\r\n", Limits{})
	for _, want := range []string{"APPEND", "SEARCH", "LOGIN"} {
		cmd := mustRead(t, r, cont)
		if cmd.Name != want {
			t.Fatalf("got %q, want %q", cmd.Name, want)
		}
		if name, _ := r.CommandName(); name != "" {
			t.Fatalf("CommandName after the command: %q", name)
		}
	}
	want := []string{"a APPEND", "b UID SEARCH", "c LOGIN", "c LOGIN"}
	if !slices.Equal(seen, want) {
		t.Fatalf("got %q, want %q", seen, want)
	}
}

// The defaults: small literals outside APPEND, 64 MiB messages, and a
// MULTIAPPEND bound of 1 GiB (or one message and a margin when larger).
func TestLimitsDefaults(t *testing.T) {
	l := Limits{}.withDefaults()
	if l.MaxLiteralSize != 64<<10 || l.MaxCommandSize != 64<<10+1<<20 ||
		l.MaxMessageSize != 64<<20 || l.MaxAppendSize != 1<<30 {
		t.Fatalf("defaults: %+v", l)
	}
	l = Limits{MaxMessageSize: 2 << 30}.withDefaults()
	if l.MaxAppendSize != 2<<30+1<<20 {
		t.Fatalf("MaxAppendSize for 2 GiB messages: %d", l.MaxAppendSize)
	}
	l = Limits{MaxMessageSize: math.MaxInt64}.withDefaults()
	if l.MaxAppendSize != math.MaxInt64 {
		t.Fatalf("MaxAppendSize does not saturate: %d", l.MaxAppendSize)
	}
}
