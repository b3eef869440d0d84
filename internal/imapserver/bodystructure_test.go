package imapserver

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
)

// render runs f on a fresh writer and returns what it wrote.
func render(utf8 bool, f func(w *imapwire.Writer)) string {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := imapwire.NewWriter(bw)
	w.UTF8 = utf8
	f(w)
	bw.Flush()
	return buf.String()
}

func TestWriteEnvelope(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  *message.Envelope
		utf8 bool
		want string
	}{
		{"nil", nil, false, `(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)`},
		{"sender and reply-to default to from", &message.Envelope{
			Subject: `say "hi"`,
			From:    []message.Address{{Name: "A", Mailbox: "a", Host: "x.org"}},
			Bcc:     []message.Address{{Mailbox: "b", Host: "y.org", Route: "@relay.org"}},
		}, false, `(NIL "say \"hi\"" (("A" NIL "a" "x.org")) (("A" NIL "a" "x.org")) (("A" NIL "a" "x.org")) NIL NIL ((NIL "@relay.org" "b" "y.org")) NIL NIL)`},
		{"no host is not a group marker", &message.Envelope{
			To: []message.Address{{Mailbox: "postmaster"}},
		}, false, `(NIL NIL NIL NIL NIL ((NIL NIL "postmaster" "")) NIL NIL NIL NIL)`},
		{"empty group", &message.Envelope{
			Cc: []message.Address{{Mailbox: "list", GroupStart: true}, {GroupEnd: true}},
		}, false, `(NIL NIL NIL NIL NIL NIL ((NIL NIL "list" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)`},
		{"8-bit subject, IMAP4rev1", &message.Envelope{Subject: "café"}, false, "(NIL {5}\r\ncafé NIL NIL NIL NIL NIL NIL NIL NIL)"},
		{"8-bit subject, UTF8=ACCEPT", &message.Envelope{Subject: "café"}, true, `(NIL "café" NIL NIL NIL NIL NIL NIL NIL NIL)`},
	} {
		got := render(tc.utf8, func(w *imapwire.Writer) { writeEnvelope(w, tc.env) })
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestWriteBodyStructure(t *testing.T) {
	leaf := &message.Part{
		Type: "image", Subtype: "png", Params: [][2]string{{"name", "a b.png"}},
		ID: "<id@x>", Description: "pic", Encoding: "BASE64", MD5: "Q2hlY2s=",
		Disposition: "inline", Language: []string{"en", "fr"}, Location: "http://x/a.png",
		BodyStart: 100, BodyEnd: 160,
	}
	for _, tc := range []struct {
		name string
		p    *message.Part
		ext  bool
		want string
	}{
		{"basic with every extension", leaf, true,
			`("image" "png" ("name" "a b.png") "<id@x>" "pic" "BASE64" 60 "Q2hlY2s=" ("inline" NIL) ("en" "fr") "http://x/a.png")`},
		{"basic, BODY form", leaf, false, `("image" "png" ("name" "a b.png") "<id@x>" "pic" "BASE64" 60)`},
		{"nil part", nil, true, `("text" "plain" NIL NIL NIL "7BIT" 0 0 NIL NIL NIL NIL)`},
		{"empty encoding is 7BIT, text has lines", &message.Part{Type: "text", Subtype: "x-custom", BodyEnd: 3, Lines: 1}, false,
			`("text" "x-custom" NIL NIL NIL "7BIT" 3 1)`},
		{"multipart without children", &message.Part{Type: "multipart", Subtype: "mixed"}, true,
			`(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL)`},
		{"multipart extension data", &message.Part{
			Type: "multipart", Subtype: "related", Params: [][2]string{{"boundary", "b"}, {"type", "text/html"}},
			Disposition: "inline", DispParams: [][2]string{{"x", "1"}}, Language: []string{"de"}, Location: "loc",
			Parts: []*message.Part{{Type: "text", Subtype: "html", BodyEnd: 5, Lines: 1}, leaf},
		}, true,
			`(("text" "html" NIL NIL NIL "7BIT" 5 1 NIL NIL NIL NIL)` +
				`("image" "png" ("name" "a b.png") "<id@x>" "pic" "BASE64" 60 "Q2hlY2s=" ("inline" NIL) ("en" "fr") "http://x/a.png")` +
				` "related" ("boundary" "b" "type" "text/html") ("inline" ("x" "1")) ("de") "loc")`},
		{"message/rfc822 without envelope", &message.Part{
			Type: "message", Subtype: "rfc822", BodyEnd: 10, Lines: 2,
			Message: &message.Part{Type: "text", Subtype: "plain", BodyEnd: 4, Lines: 1},
		}, false,
			`("message" "rfc822" NIL NIL NIL "7BIT" 10 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" NIL NIL NIL "7BIT" 4 1) 2)`},
	} {
		got := render(false, func(w *imapwire.Writer) { writeBodyStructure(w, tc.p, tc.ext) })
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
