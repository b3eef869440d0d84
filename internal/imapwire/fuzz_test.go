package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// decoderOps are all the token methods of Decoder, run one after the other
// on fuzzed arguments.
var decoderOps = []func(d *Decoder) error{
	func(d *Decoder) error { return d.SP() },
	func(d *Decoder) error { _, err := d.Atom(); return err },
	func(d *Decoder) error { _, err := d.AString(); return err },
	func(d *Decoder) error { _, err := d.String(); return err },
	func(d *Decoder) error { _, _, err := d.NString(); return err },
	func(d *Decoder) error { _, err := d.Number(); return err },
	func(d *Decoder) error { _, err := d.Number64(); return err },
	func(d *Decoder) error {
		l, err := d.Literal()
		if err == nil {
			rc, err := l.Open()
			if err != nil {
				return err
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			if n != l.Size {
				panic("literal size mismatch")
			}
		}
		return err
	},
	func(d *Decoder) error { return d.List(func() error { _, err := d.AString(); return err }) },
	func(d *Decoder) error { _, err := d.Mailbox(false); return err },
	func(d *Decoder) error { _, err := d.Mailbox(true); return err },
	func(d *Decoder) error { _, err := d.ListMailbox(false); return err },
	func(d *Decoder) error { _, err := d.ListMailbox(true); return err },
	func(d *Decoder) error {
		s, err := d.SeqSet()
		if err == nil {
			// What String writes parses back to the same set.
			s2, err2 := ParseSeqSet(s.String())
			if err2 != nil || !reflect.DeepEqual(s, s2) {
				panic("SeqSet round trip: " + s.String())
			}
			s.Expand(1000)
			s.Contains(7, 10)
		}
		return err
	},
	func(d *Decoder) error { _, err := d.Flag(); return err },
	func(d *Decoder) error { _, err := d.FlagList(); return err },
	func(d *Decoder) error { _, err := d.DateTime(); return err },
	func(d *Decoder) error { _, err := d.Date(); return err },
	func(d *Decoder) error {
		items, err := d.FetchItems()
		for _, it := range items {
			_ = it.Section.String()
		}
		return err
	},
	func(d *Decoder) error { _, err := d.SearchKeys(); return err },
	func(d *Decoder) error { return d.End() },
}

func exerciseDecoder(cmd *Command) {
	// Each method alone from the start, repeated while it makes progress.
	for _, op := range decoderOps {
		d := cmd.Args()
		for i := 0; i < 20 && op(d) == nil && d.More(); i++ {
			d.SP()
		}
	}
	// All methods in turn on one decoder.
	d := cmd.Args()
	for i := 0; i < 3*len(decoderOps) && d.More(); i++ {
		d.Peek()
		d.PeekSP()
		if decoderOps[i%len(decoderOps)](d) != nil {
			d.SP()
		}
	}
}

func FuzzReadCommand(f *testing.F) {
	seeds := []string{
		"a1 NOOP\r\n",
		"a UID FETCH 1:*,3 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From \"To\")]<0.100> PREVIEW (LAZY) BINARY[1])\r\n",
		"a LOGIN {5}\r\nalice {6+}\r\nsecret\r\n",
		"a APPEND INBOX (\\Seen) \" 1-Jan-2020 10:00:00 +0100\" ~{3}\r\na\x00b\r\n",
		"a APPEND Drafts {40+}\r\n0123456789012345678901234567890123456789\r\n",
		"a SEARCH CHARSET UTF-8 OR (FROM x SINCE 1-Feb-1994) NOT UID 1:3 HEADER X-A {2}\r\nhi MODSEQ \"/flags/\\\\Seen\" all 5\r\n",
		"a STORE 1 +FLAGS.SILENT (\\Deleted $Junk)\r\n",
		"a LIST \"\" \"~peter/mail/&U,BTFw-/%\"\r\n",
		"a FETCH $ ALL\r\n",
		"a X " + string(bytes.Repeat([]byte("x"), 300)) + " {3+}\r\nabc\r\nb NOOP\r\n",
		"+ {3}\r\n",
		"\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	// One directory per process: a t.TempDir per input is slow.
	dir, err := os.MkdirTemp("", "imapwire-fuzz-*")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	f.Fuzz(func(t *testing.T, in []byte) { fuzzReadCommand(t, dir, in) })
}

// fuzzReadCommand reads commands from in until EOF or a fatal error and runs
// every decoder method on each; spilled literals go to dir, which must be
// empty afterwards.
func fuzzReadCommand(t *testing.T, dir string, in []byte) {
	lim := Limits{MaxLineLength: 256, MaxLiteralSize: 1000, MaxCommandSize: 2000, SpillThreshold: 16, TempDir: dir,
		MaxMessageSize: 1500, MaxAppendSize: 4000}
	r := NewReader(bufio.NewReaderSize(bytes.NewReader(in), 16), lim)
	accept := func(tag string, size int64, sync bool) error {
		max := lim.MaxLiteralSize
		if name, uid := r.CommandName(); name == "APPEND" && !uid {
			max = lim.MaxMessageSize
		}
		if size > max {
			t.Fatalf("cont called for %d bytes, over the limit", size)
		}
		return nil
	}
	for i := 0; i < 100; i++ {
		cmd, err := r.ReadCommand(accept)
		if err != nil {
			var ce *CommandError
			if !errors.As(err, &ce) {
				break // EOF
			}
			if ce.Fatal {
				break
			}
			continue
		}
		exerciseDecoder(cmd)
		cmd.Close()
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("temporary files left: %d", len(ents))
	}
}

// FuzzWriterRoundTrip checks that what Writer.String and Writer.Mailbox
// write reads back the same through Reader and Decoder.
func FuzzWriterRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a b", `q"\`, "a\r\nb", "台北", "&-", "\x00", "INBOX", "inbox/x"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, utf bool) {
		if strings.IndexByte(s, 0) >= 0 {
			return // NUL has no IMAP string form (RFC 9051 9: CHAR8)
		}
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		w := NewWriter(bw)
		w.UTF8 = utf
		w.Tagged("t").Atom("X").SP().String(s)
		validName := utf8.ValidString(s) && !strings.EqualFold(s, "INBOX") && !strings.HasPrefix(strings.ToLower(s), "inbox/")
		if validName {
			w.SP().Mailbox(s)
		}
		if err := w.CRLF(); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		wire := buf.String()
		cmd, err := NewReader(bufio.NewReader(&buf), Limits{}).ReadCommand(nil)
		if err != nil {
			t.Fatalf("%q: %v", wire, err)
		}
		d := cmd.Args()
		got, err := d.String()
		if err != nil || got != s {
			t.Fatalf("%q: String read back %q, %v", wire, got, err)
		}
		if validName {
			d.SP()
			name, err := d.Mailbox(utf)
			if err != nil || name != s {
				t.Fatalf("%q: Mailbox read back %q, %v", wire, name, err)
			}
		}
		if err := d.End(); err != nil {
			t.Fatalf("%q: %v", wire, err)
		}
	})
}
