package search

import (
	"slices"
	"testing"
)

// rawAttach: a multipart message whose attachment is named only in its
// MIME part header (an encoded-word file name), inside a nested multipart.
var rawAttach = crlf(`From: alice@example.org
To: bob@example.com
Subject: Figures
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=us-ascii

See attached.
--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=us-ascii
X-Part-Note: inner-marker

inner text
--inner--
--outer
Content-Type: application/pdf; name="q3.pdf"
Content-Disposition: attachment;
 filename="=?UTF-8?Q?Bilan_=C3=A9t=C3=A9.pdf?="
Content-Transfer-Encoding: base64

` + b64("%PDF-1.4 opaque") + `
--outer--
`)

// RFC 9051 6.4.4: TEXT matches the header or the body; the MIME headers of
// the body parts are searched by TEXT (as Dovecot does) but not by BODY,
// which is the body text only.
func TestTextMatchesMIMEPartHeaders(t *testing.T) {
	rec := newRecord(t, rawAttach)
	m := &Message{SeqNum: 1, Record: rec, Body: func() ([]byte, error) { return []byte(rawAttach), nil }}
	env := &Env{MaxSeq: 1, MaxUID: 1}
	for _, c := range []struct {
		key  string
		val  string
		want bool
	}{
		{"TEXT", "application/pdf", true},
		{"TEXT", "q3.pdf", true},
		{"TEXT", "bilan été", true}, // encoded-word decoded, folded continuation line
		{"TEXT", "BILAN ÉTÉ.PDF", true},
		{"TEXT", "inner-marker", true}, // a part of a nested multipart
		{"TEXT", "x-part-note: inner-marker", true},
		{"TEXT", "see attached", true},
		{"TEXT", "opaque", false}, // the PDF body is not text
		{"TEXT", "no-such-thing", false},
		{"BODY", "application/pdf", false},
		{"BODY", "q3.pdf", false},
		{"BODY", "inner-marker", false},
		{"BODY", "inner text", true},
	} {
		got, err := Match(keys(ks(c.key, c.val)), m, env)
		if err != nil {
			t.Fatalf("%s %q: %v", c.key, c.val, err)
		}
		if got != c.want {
			t.Errorf("%s %q = %v, want %v", c.key, c.val, got, c.want)
		}
	}
}

// The fixture's attachment type is only in a part header.
func TestTextPartHeaderFixture(t *testing.T) {
	f := newFixture(t)
	if got := f.run(t, ks("TEXT", "application/octet-stream")); !slices.Equal(got, []uint32{2}) {
		t.Errorf("TEXT application/octet-stream: got %v, want [2]", got)
	}
	if got := f.run(t, ks("BODY", "application/octet-stream")); !slices.Equal(got, []uint32{}) {
		t.Errorf("BODY application/octet-stream: got %v, want []", got)
	}
}
