package imapwire

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func newTestWriter() (*Writer, *strings.Builder, *bufio.Writer) {
	var sb strings.Builder
	bw := bufio.NewWriter(&sb)
	return NewWriter(bw), &sb, bw
}

func TestWriterString(t *testing.T) {
	long := strings.Repeat("a", 1025)
	tests := []struct {
		in   string
		utf8 bool
		want string
	}{
		{"", false, `""`},
		{"hello world", false, `"hello world"`},
		{`a"b\c`, false, `"a\"b\\c"`},
		{"NIL", false, `"NIL"`},
		{"a\r\nb", false, "{4}\r\na\r\nb"},
		{"a\x00", false, "{2}\r\na\x00"},
		{"café", false, "{5}\r\ncafé"},
		{"café", true, `"café"`},
		{"caf\xe9", true, "{4}\r\ncaf\xe9"}, // not UTF-8
		{"\t", false, "\"\t\""},
		{strings.Repeat("a", 1024), false, `"` + strings.Repeat("a", 1024) + `"`},
		{long, false, "{1025}\r\n" + long},
	}
	for _, tt := range tests {
		w, sb, bw := newTestWriter()
		w.UTF8 = tt.utf8
		w.String(tt.in)
		bw.Flush()
		if sb.String() != tt.want {
			t.Errorf("String(%q) utf8=%v = %q, want %q", tt.in, tt.utf8, sb.String(), tt.want)
		}
	}
}

func TestWriterMailbox(t *testing.T) {
	tests := []struct {
		in   string
		utf8 bool
		want string
	}{
		{"INBOX", false, "INBOX"},
		{"INBOX", true, "INBOX"},
		{"Sent", false, `"Sent"`},
		{"INBOX/Sub", false, `"INBOX/Sub"`},
		{"A & B", false, `"A &- B"`},
		{"A & B", true, `"A & B"`},
		{"~peter/mail/台北/日本語", false, `"~peter/mail/&U,BTFw-/&ZeVnLIqe-"`},
		{"~peter/mail/台北/日本語", true, `"~peter/mail/台北/日本語"`},
		{`Quo"te`, false, `"Quo\"te"`},
	}
	for _, tt := range tests {
		w, sb, bw := newTestWriter()
		w.UTF8 = tt.utf8
		w.Mailbox(tt.in)
		bw.Flush()
		if sb.String() != tt.want {
			t.Errorf("Mailbox(%q) utf8=%v = %q, want %q", tt.in, tt.utf8, sb.String(), tt.want)
		}
	}
}

func TestWriterResponses(t *testing.T) {
	w, sb, bw := newTestWriter()
	date := time.Date(1996, 7, 7, 2, 44, 25, 0, time.FixedZone("", -7*3600))
	w.Untagged().Number(12).SP().Atom("FETCH").SP().Open().
		Atom("UID").SP().Number(4294967295).SP().
		Atom("MODSEQ").SP().Open().Number64(1<<62).Close().SP().
		Atom("FLAGS").SP().Flags([]string{`\Seen`, "$Junk"}).SP().
		Atom("INTERNALDATE").SP().DateTime(date).SP().
		Atom("ENVELOPE").SP().Open().NString("").SP().NString("x").Close().SP().
		Atom("BODY[]").SP().Literal([]byte("ab")).SP().
		Atom("BINARY[1]").SP().Literal8([]byte("\x00")).SP().
		Atom("BODY[TEXT]").SP().LiteralFrom(strings.NewReader("hello"), 5).SP().
		Atom("BINARY[2]").SP().Literal8From(strings.NewReader("\x01\x02"), 2).SP().
		Flags(nil).Close()
	if err := w.CRLF(); err != nil {
		t.Fatal(err)
	}
	w.Tagged("a1").Status("OK", "READ-WRITE", "SELECT completed").CRLF()
	w.Untagged().Status("NO", "", "bad\r\nthing").CRLF()
	w.Tagged("a2").Status("BAD", "", "").CRLF()
	w.Untagged().Status("OK", "UIDVALIDITY 3857529045", "UIDs valid").CRLF()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "* 12 FETCH (UID 4294967295 MODSEQ (4611686018427387904) FLAGS (\\Seen $Junk) " +
		"INTERNALDATE \" 7-Jul-1996 02:44:25 -0700\" ENVELOPE (NIL \"x\") BODY[] {2}\r\nab " +
		"BINARY[1] ~{1}\r\n\x00 BODY[TEXT] {5}\r\nhello BINARY[2] ~{2}\r\n\x01\x02 ())\r\n" +
		"a1 OK [READ-WRITE] SELECT completed\r\n" +
		"* NO bad  thing\r\n" +
		"a2 BAD error\r\n" +
		"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
	if sb.String() != want {
		t.Errorf("got\n%q\nwant\n%q", sb.String(), want)
	}
	w.DateTime(time.Date(2020, 12, 25, 23, 5, 0, 0, time.UTC))
	bw.Flush()
	if got := strings.TrimPrefix(sb.String(), want); got != `"25-Dec-2020 23:05:00 +0000"` {
		t.Errorf("DateTime: %q", got)
	}
}

func TestWriterContinuation(t *testing.T) {
	w, sb, _ := newTestWriter()
	if err := w.Continuation("Ready for literal data"); err != nil {
		t.Fatal(err)
	}
	// Continuation flushes by itself.
	if sb.String() != "+ Ready for literal data\r\n" {
		t.Fatalf("got %q", sb.String())
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("broken pipe")
	}
	f.n--
	return len(p), nil
}

func TestWriterStickyError(t *testing.T) {
	fw := &failWriter{}
	w := NewWriter(bufio.NewWriterSize(fw, 16))
	w.Atom(strings.Repeat("x", 100))
	if err := w.CRLF(); err == nil || err.Error() != "broken pipe" {
		t.Fatalf("CRLF: %v", err)
	}
	fw.n = 100 // the writer recovers, the error must not
	w.Atom("y")
	if w.Flush() == nil || w.Err() == nil {
		t.Fatal("error not sticky")
	}
	// A short reader breaks a literal.
	w2, _, _ := newTestWriter()
	w2.LiteralFrom(strings.NewReader("abc"), 5)
	if err := w2.CRLF(); err != io.ErrUnexpectedEOF {
		t.Fatalf("short literal: %v", err)
	}
}
