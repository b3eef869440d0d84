package message

import (
	"strings"
	"testing"
)

func TestFindPart(t *testing.T) {
	raw := crlf(nestedMsg)
	p := mustParse(t, raw)
	root := p.Root
	msg := root.Parts[1]
	cases := []struct {
		path []int
		want *Part
	}{
		{nil, nil},
		{[]int{1}, root.Parts[0]},
		{[]int{2}, msg},
		{[]int{3}, nil},
		{[]int{0}, nil},
		{[]int{-1}, nil},
		{[]int{1, 1}, nil}, // a text part has no subparts
		{[]int{2, 1}, msg.Message.Parts[0]},
		{[]int{2, 2}, msg.Message.Parts[1]},
		{[]int{2, 3}, nil},
		{[]int{2, 1, 1}, nil},
	}
	for _, c := range cases {
		if got := p.FindPart(c.path); got != c.want {
			t.Errorf("FindPart(%v) = %+v, want %+v", c.path, got, c.want)
		}
	}

	// Non-multipart message: part 1 is the body itself.
	raw = crlf(simpleMsg)
	p = mustParse(t, raw)
	if p.FindPart([]int{1}) != p.Root || p.FindPart([]int{2}) != nil || p.FindPart([]int{1, 1}) != nil {
		t.Fatal("single part numbering")
	}

	// message/rfc822 whose encapsulated message is not multipart: 2.1 is
	// its body; a top-level message/rfc822 body: 1 is the body and 1.1
	// the encapsulated body.
	raw = crlf(`Content-Type: multipart/mixed; boundary=b

--b

text
--b
Content-Type: message/rfc822

Subject: inner

inner body
--b--
`)
	p = mustParse(t, raw)
	m := p.Root.Parts[1]
	if got := p.FindPart([]int{2, 1}); got != m.Message || bodyOf(raw, got) != "inner body" {
		t.Fatalf("2.1 = %+v", got)
	}
	if p.FindPart([]int{2, 2}) != nil || p.FindPart([]int{2, 1, 1}) != nil {
		t.Fatal("2.2 or 2.1.1 exists")
	}
	raw = crlf("Content-Type: message/rfc822\n\nSubject: inner\n\ninner body\n")
	p = mustParse(t, raw)
	if p.FindPart([]int{1}) != p.Root || p.FindPart([]int{1, 1}) != p.Root.Message {
		t.Fatal("top-level message/rfc822 numbering")
	}
	var nilParsed *Parsed
	if nilParsed.FindPart([]int{1}) != nil {
		t.Fatal("nil Parsed")
	}
}

func TestHeaderFields(t *testing.T) {
	raw := crlf(`From: a@b.test
Subject: a folded
  subject
To: c@d.test
X-Junk no colon
subject: second
Received: from x
	by y

body`)
	p := mustParse(t, raw)
	header := raw[p.Root.HeaderStart:p.Root.BodyStart]
	cases := []struct {
		names []string
		not   bool
		want  string
	}{
		{[]string{"SUBJECT"}, false, "Subject: a folded\n  subject\nsubject: second\n\n"},
		{[]string{"from", "to"}, false, "From: a@b.test\nTo: c@d.test\n\n"},
		{[]string{"x-absent"}, false, "\n"},
		{[]string{"subject", "received"}, true, "From: a@b.test\nTo: c@d.test\n\n"},
		{[]string{"from", "to", "subject"}, true, "Received: from x\n\tby y\n\n"},
		{nil, true, "From: a@b.test\nSubject: a folded\n  subject\nTo: c@d.test\nsubject: second\nReceived: from x\n\tby y\n\n"},
	}
	for _, c := range cases {
		got := string(HeaderFields(header, c.names, c.not))
		if want := string(crlf(c.want)); got != want {
			t.Errorf("HeaderFields(%v, not=%v) = %q, want %q", c.names, c.not, got, want)
		}
	}
	// A header cut without a line end still yields well-formed lines.
	if got := string(HeaderFields([]byte("A: 1\r\nB: 2"), []string{"b"}, false)); got != "B: 2\r\n\r\n" {
		t.Errorf("cut header: %q", got)
	}
	// Bare LF headers keep their own line ends; the blank line is CRLF.
	if got := string(HeaderFields([]byte("A: 1\nB: 2\n\n"), []string{"a"}, false)); got != "A: 1\n\r\n" {
		t.Errorf("LF header: %q", got)
	}
	// The MIME header of a part.
	raw = crlf(mixedMsg)
	att := mustParse(t, raw).FindPart([]int{2})
	got := string(HeaderFields(raw[att.HeaderStart:att.BodyStart], []string{"content-id"}, false))
	if got != "Content-ID: <part2@b.test>\r\n\r\n" {
		t.Errorf("part header fields %q", got)
	}
}

func TestAllText(t *testing.T) {
	raw := crlf(nestedMsg)
	p := mustParse(t, raw)
	got := p.AllText(raw)
	want := []string{"See attached.", "inner plain", " inner html "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("AllText = %q, want %q", got, want)
	}
}
