package mailio

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// readAll reads every message of an mbox given as a string.
func readAll(t *testing.T, mbox string, max int64) []*Message {
	t.Helper()
	r := NewMboxReader(strings.NewReader(mbox), max)
	var out []*Message
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, m)
	}
}

func TestMboxReader(t *testing.T) {
	mbox := "From alice@example.org Thu Jan  4 10:20:30 2024\n" +
		"Subject: one\n" +
		"Status: RO\n" +
		"X-Status: AF\n" +
		"X-Keywords: $Label1, Work\n" +
		"\n" +
		">From the start\n" +
		">>From deeper\n" +
		"From unescaped after a non-empty line stays\n" +
		"\n" +
		"From here on, no date: body text\n" +
		"last line\n" +
		"\n" +
		// CRLF message, its From_ line in CRLF too, with a zone.
		"From bob Fri Feb 02 01:02:03 +0100 2024\r\n" +
		"Subject: two\r\n" +
		"\r\n" +
		"crlf\r\n" +
		"mixed\n" +
		"lone\rCR\n" +
		"\r\n" +
		// Empty message, then one without a final newline.
		"From x Sat Mar  2 00:00:00 2024\n" +
		"\n" +
		"From y Sun Mar  3 00:00:00 2024\n" +
		"Subject: three\n" +
		"\n" +
		"no newline"
	got := readAll(t, mbox, 1<<20)
	want := []Message{
		{
			Body: []byte("Subject: one\r\nStatus: RO\r\nX-Status: AF\r\nX-Keywords: $Label1, Work\r\n\r\n" +
				"From the start\r\n>From deeper\r\nFrom unescaped after a non-empty line stays\r\n\r\n" +
				"From here on, no date: body text\r\nlast line\r\n"),
			Flags: []string{`\Seen`, `\Answered`, `\Flagged`, "$Label1", "Work"},
			Date:  time.Date(2024, 1, 4, 10, 20, 30, 0, time.UTC),
		},
		{
			Body: []byte("Subject: two\r\n\r\ncrlf\r\nmixed\r\nlone\rCR\r\n"),
			Date: time.Date(2024, 2, 2, 0, 2, 3, 0, time.UTC),
		},
		{Body: []byte{}, Date: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)},
		{Body: []byte("Subject: three\r\n\r\nno newline"), Date: time.Date(2024, 3, 3, 0, 0, 0, 0, time.UTC)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if !bytes.Equal(g.Body, w.Body) {
			t.Errorf("message %d body:\n got %q\nwant %q", i, g.Body, w.Body)
		}
		if !reflect.DeepEqual(g.Flags, w.Flags) {
			t.Errorf("message %d flags %q, want %q", i, g.Flags, w.Flags)
		}
		if !g.Date.Equal(w.Date) {
			t.Errorf("message %d date %v, want %v", i, g.Date, w.Date)
		}
		if g.TooBig || g.Size != int64(len(w.Body)) {
			t.Errorf("message %d: TooBig %v size %d, want false %d", i, g.TooBig, g.Size, len(w.Body))
		}
	}
}

func TestMboxReaderTooBigAndErrors(t *testing.T) {
	big := "From a Thu Jan  4 10:20:30 2024\nSubject: big\n\n" + strings.Repeat("0123456789\n", 100) + "\n" +
		"From b Thu Jan  4 10:20:31 2024\nSubject: small\n\nok\n"
	got := readAll(t, big, 200)
	if len(got) != 2 || !got[0].TooBig || got[0].Body != nil || got[1].TooBig || string(got[1].Body) != "Subject: small\r\n\r\nok\r\n" {
		t.Fatalf("got %+v", got)
	}
	if got := readAll(t, "", 100); len(got) != 0 {
		t.Errorf("empty file: %d messages", len(got))
	}
	_, err := NewMboxReader(strings.NewReader("Subject: x\n\nnot an mbox\n"), 100).Next()
	if !errors.Is(err, ErrNotMbox) {
		t.Errorf("not an mbox: err %v", err)
	}
}

func TestMboxWriterRoundTrip(t *testing.T) {
	msgs := []struct {
		body string
		date time.Time
	}{
		{"Subject: a\r\n\r\nFrom me\r\n>From you\r\n>>From them\r\n\r\nFrom Thu Jan  4 10:20:30 2024\r\n", time.Date(2024, 1, 4, 10, 20, 30, 0, time.UTC)},
		{"Subject: b\r\n\r\n\r\n\r\n", time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 3600))},
		{"", time.Unix(1700000000, 0)},
	}
	var buf bytes.Buffer
	w := NewMboxWriter(&buf)
	for _, m := range msgs {
		if err := w.Write([]byte(m.body), m.date); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	wantFile := "From MAILER-DAEMON Thu Jan  4 10:20:30 2024\nSubject: a\n\n>From me\n>>From you\n>>>From them\n\n>From Thu Jan  4 10:20:30 2024\n\n" +
		"From MAILER-DAEMON Fri Dec 31 22:59:59 1999\nSubject: b\n\n\n\n\n" +
		"From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n\n"
	if buf.String() != wantFile {
		t.Fatalf("mbox file:\n got %q\nwant %q", buf.String(), wantFile)
	}
	got := readAll(t, buf.String(), 1<<20)
	if len(got) != len(msgs) {
		t.Fatalf("read back %d messages", len(got))
	}
	for i, m := range msgs {
		if string(got[i].Body) != m.body || !got[i].Date.Equal(m.date) {
			t.Errorf("message %d: got %q %v, want %q %v", i, got[i].Body, got[i].Date, m.body, m.date)
		}
	}
}

func TestToCRLF(t *testing.T) {
	for in, want := range map[string]string{
		"":               "",
		"a\r\nb\r\n":     "a\r\nb\r\n",
		"a\nb\n":         "a\r\nb\r\n",
		"\n\r\n\n":       "\r\n\r\n\r\n",
		"a\rb\nc":        "a\rb\r\nc",
		"x\r\ny\nz\r\n.": "x\r\ny\r\nz\r\n.",
	} {
		if got := string(ToCRLF([]byte(in))); got != want {
			t.Errorf("ToCRLF(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzMboxReader: any input reads without panic, messages are CRLF-only
// and within the size limit.
func FuzzMboxReader(f *testing.F) {
	f.Add([]byte("From a Thu Jan  4 10:20:30 2024\nSubject: x\n\n>From y\n\nFrom b Thu Jan  4 10:20:30 2024\r\n\r\n"))
	f.Add([]byte("From \n\n\nFrom x y z\rX-Keywords: a,b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewMboxReader(bytes.NewReader(data), 64)
		for i := 0; i < 10000; i++ {
			m, err := r.Next()
			if err != nil {
				return
			}
			if m.TooBig {
				continue
			}
			if int64(len(m.Body)) > 64 {
				t.Fatalf("body of %d bytes over the limit", len(m.Body))
			}
			if !bytes.Equal(ToCRLF(m.Body), m.Body) {
				t.Fatalf("bare LF in %q", m.Body)
			}
		}
		t.Fatal("reader does not end")
	})
}
