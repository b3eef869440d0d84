package message

import (
	"reflect"
	"strings"
	"testing"
)

// crlf turns a fixture written with "\n" into CRLF mail, as APPEND and
// LMTP deliver it.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func bodyOf(raw []byte, p *Part) string   { return string(raw[p.BodyStart:p.BodyEnd]) }
func headerOf(raw []byte, p *Part) string { return string(raw[p.HeaderStart:p.BodyStart]) }

func mustParse(t *testing.T, raw []byte) *Parsed {
	t.Helper()
	p, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkInvariants(t, raw, p.Root, 0, int64(len(raw)))
	return p
}

// checkInvariants asserts the offsets contract of model.go on the whole tree.
func checkInvariants(t testing.TB, raw []byte, p *Part, lo, hi int64) {
	t.Helper()
	if !(lo <= p.HeaderStart && p.HeaderStart <= p.BodyStart && p.BodyStart <= p.BodyEnd && p.BodyEnd <= hi && hi <= int64(len(raw))) {
		t.Fatalf("bad offsets %s/%s hs=%d bs=%d be=%d within [%d,%d] len=%d", p.Type, p.Subtype, p.HeaderStart, p.BodyStart, p.BodyEnd, lo, hi, len(raw))
	}
	if p.Type == "multipart" && len(p.Parts) == 0 {
		t.Fatalf("multipart/%s without children", p.Subtype)
	}
	if p.Type != "multipart" && len(p.Parts) > 0 {
		t.Fatalf("%s/%s with children", p.Type, p.Subtype)
	}
	if isEncapsulated(p) != (p.Message != nil) || (p.Message != nil) != (p.Envelope != nil) {
		t.Fatalf("%s/%s: Message=%v Envelope=%v", p.Type, p.Subtype, p.Message != nil, p.Envelope != nil)
	}
	if p.Type == "" || p.Subtype == "" {
		t.Fatalf("empty type %q/%q", p.Type, p.Subtype)
	}
	prev := p.BodyStart
	for _, c := range p.Parts {
		checkInvariants(t, raw, c, prev, p.BodyEnd)
		prev = c.BodyEnd
	}
	if p.Message != nil {
		if p.Message.HeaderStart != p.BodyStart || p.Message.BodyEnd != p.BodyEnd {
			t.Fatalf("encapsulated message [%d,%d) differs from body [%d,%d)", p.Message.HeaderStart, p.Message.BodyEnd, p.BodyStart, p.BodyEnd)
		}
		checkInvariants(t, raw, p.Message, p.BodyStart, p.BodyEnd)
	}
}

const simpleMsg = `From: "Joe Q. Public" <john.q.public@example.com>
To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>
Date: Tue, 1 Jul 2003 10:52:37 +0200
Subject: Hello
 world
Message-ID: <5678.21-Nov-1997@example.com>

Hi everyone.
Second line.
`

func TestParseSimple(t *testing.T) {
	raw := crlf(simpleMsg)
	p := mustParse(t, raw)
	r := p.Root
	want := &Part{
		Type: "text", Subtype: "plain", Params: [][2]string{{"charset", "us-ascii"}},
		HeaderStart: 0, BodyStart: int64(strings.Index(string(raw), "Hi everyone")), BodyEnd: int64(len(raw)),
		Lines: 2, DecodedSize: 28,
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("root = %+v\nwant %+v", r, want)
	}
	if got := bodyOf(raw, r); got != "Hi everyone.\r\nSecond line.\r\n" {
		t.Fatalf("body = %q", got)
	}
	if r.Size() != 28 || r.BodyStart != 226 {
		t.Fatalf("size %d bodystart %d", r.Size(), r.BodyStart)
	}
	if !strings.HasSuffix(headerOf(raw, r), "@example.com>\r\n\r\n") {
		t.Fatalf("header = %q", headerOf(raw, r))
	}
	if p.Envelope.Subject != "Hello world" {
		t.Fatalf("subject %q", p.Envelope.Subject)
	}
	if p.Preview != "Hi everyone. Second line." {
		t.Fatalf("preview %q", p.Preview)
	}
}

const altMsg = `From: a@b.test
Subject: alt
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="XX"

This is a preamble.
--XX
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait,=
 s'il vous pla=C3=AEt
--XX
Content-Type: text/html; charset="UTF-8"

<html><head><title>T</title><style>p{}</style></head><body><p>Caf&eacute; <b>au</b> lait</p></body></html>
--XX--
This is an epilogue.
`

func TestParseAlternative(t *testing.T) {
	raw := crlf(altMsg)
	p := mustParse(t, raw)
	r := p.Root
	if r.Type != "multipart" || r.Subtype != "alternative" || len(r.Parts) != 2 {
		t.Fatalf("root %s/%s with %d parts", r.Type, r.Subtype, len(r.Parts))
	}
	if !reflect.DeepEqual(r.Params, [][2]string{{"boundary", "XX"}}) {
		t.Fatalf("params %v", r.Params)
	}
	// The epilogue belongs to the multipart body, which runs to the end.
	if r.BodyEnd != int64(len(raw)) || !strings.HasPrefix(bodyOf(raw, r), "This is a preamble.\r\n--XX\r\n") {
		t.Fatalf("root body %q", bodyOf(raw, r))
	}
	plain, html := r.Parts[0], r.Parts[1]
	if got := headerOf(raw, plain); got != "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" {
		t.Fatalf("plain header %q", got)
	}
	if got := bodyOf(raw, plain); got != "Caf=C3=A9 au lait,=\r\n s'il vous pla=C3=AEt" {
		t.Fatalf("plain body %q", got)
	}
	if plain.Encoding != "QUOTED-PRINTABLE" || plain.Lines != 1 || plain.Size() != 42 {
		t.Fatalf("plain enc %q lines %d size %d", plain.Encoding, plain.Lines, plain.Size())
	}
	const decoded = "Café au lait, s'il vous plaît"
	if plain.DecodedSize != int64(len(decoded)) {
		t.Fatalf("decoded size %d, want %d", plain.DecodedSize, len(decoded))
	}
	if got, _ := DecodeBody(raw, plain); string(got) != decoded {
		t.Fatalf("DecodeBody %q", got)
	}
	if !reflect.DeepEqual(html.Params, [][2]string{{"charset", "UTF-8"}}) || html.Encoding != "" {
		t.Fatalf("html params %v enc %q", html.Params, html.Encoding)
	}
	if got := bodyOf(raw, html); !strings.HasPrefix(got, "<html>") || !strings.HasSuffix(got, "</html>") {
		t.Fatalf("html body %q", got)
	}
	if html.Lines != 0 || html.DecodedSize != html.Size() {
		t.Fatalf("html lines %d ds %d", html.Lines, html.DecodedSize)
	}
	if p.Preview != "Café au lait, s'il vous plaît" {
		t.Fatalf("preview %q", p.Preview)
	}
}

const mixedMsg = `From: a@b.test
Content-Type: multipart/mixed; boundary=frontier

--frontier
Content-Type: text/plain

Body text
line two

--frontier
Content-Type: application/octet-stream; name="data.bin"
Content-Disposition: attachment; filename="data.bin"; size=10
Content-Transfer-Encoding: base64
Content-ID: <part2@b.test>
Content-Description: some bytes
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Language: en, fr (French)
Content-Location: http://b.test/data.bin

AAECAwQF
BgcICQ==
--frontier--
`

func testMixed(t *testing.T, raw []byte, nl string) {
	p := mustParse(t, raw)
	r := p.Root
	if r.Type != "multipart" || r.Subtype != "mixed" || len(r.Parts) != 2 {
		t.Fatalf("root %s/%s with %d parts", r.Type, r.Subtype, len(r.Parts))
	}
	text, att := r.Parts[0], r.Parts[1]
	if got := bodyOf(raw, text); got != "Body text"+nl+"line two"+nl {
		t.Fatalf("text body %q", got)
	}
	if text.Lines != 2 || text.Size() != int64(len("Body text"+nl+"line two"+nl)) {
		t.Fatalf("text lines %d size %d", text.Lines, text.Size())
	}
	if got := headerOf(raw, text); got != "Content-Type: text/plain"+nl+nl {
		t.Fatalf("text header %q", got)
	}
	want := &Part{
		Type: "application", Subtype: "octet-stream", Params: [][2]string{{"name", "data.bin"}},
		ID: "<part2@b.test>", Description: "some bytes", Encoding: "BASE64",
		MD5: "Q2hlY2sgSW50ZWdyaXR5IQ==", Disposition: "attachment",
		DispParams: [][2]string{{"filename", "data.bin"}, {"size", "10"}},
		Language:   []string{"en", "fr"}, Location: "http://b.test/data.bin",
		HeaderStart: att.HeaderStart, BodyStart: att.BodyStart, BodyEnd: att.BodyEnd,
		DecodedSize: 10,
	}
	if !reflect.DeepEqual(att, want) {
		t.Fatalf("attachment %+v\nwant %+v", att, want)
	}
	if got := bodyOf(raw, att); got != "AAECAwQF"+nl+"BgcICQ==" {
		t.Fatalf("attachment body %q", got)
	}
	if !strings.HasPrefix(headerOf(raw, att), "Content-Type: application/octet-stream;") {
		t.Fatalf("attachment header %q", headerOf(raw, att))
	}
	dec, err := DecodeBody(raw, att)
	if err != nil || string(dec) != "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09" {
		t.Fatalf("DecodeBody = %q, %v", dec, err)
	}
	if r.BodyEnd != int64(len(raw)) {
		t.Fatalf("root body end %d, len %d", r.BodyEnd, len(raw))
	}
}

func TestParseMixedBase64(t *testing.T) { testMixed(t, crlf(mixedMsg), "\r\n") }

// Bare LF line ends (mail saved by Unix tools) parse the same way.
func TestParseBareLF(t *testing.T) { testMixed(t, []byte(mixedMsg), "\n") }

const nestedMsg = `From: outer@x.test
Subject: Fwd
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

See attached.
--outer
Content-Type: message/rfc822

From: Inner <inner@y.test>
Subject: =?ISO-8859-1?Q?Caf=E9?=
Date: Sun, 12 Aug 2012 12:34:56 +0300
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain

inner plain
--inner
Content-Type: text/html

<p>inner html</p>
--inner--

--outer--
`

func TestParseNestedMessage(t *testing.T) {
	raw := crlf(nestedMsg)
	p := mustParse(t, raw)
	r := p.Root
	if len(r.Parts) != 2 {
		t.Fatalf("%d parts", len(r.Parts))
	}
	msg := r.Parts[1]
	if msg.Type != "message" || msg.Subtype != "rfc822" || msg.Params != nil || msg.Message == nil {
		t.Fatalf("part 2: %+v", msg)
	}
	wantBody := "From: Inner <inner@y.test>\r\nSubject: =?ISO-8859-1?Q?Caf=E9?=\r\nDate: Sun, 12 Aug 2012 12:34:56 +0300\r\n" +
		"Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\ninner plain\r\n" +
		"--inner\r\nContent-Type: text/html\r\n\r\n<p>inner html</p>\r\n--inner--\r\n"
	if got := bodyOf(raw, msg); got != wantBody {
		t.Fatalf("message body %q", got)
	}
	if msg.Lines != 14 || msg.Size() != int64(len(wantBody)) {
		t.Fatalf("message lines %d size %d", msg.Lines, msg.Size())
	}
	in := msg.Message
	if in.Type != "multipart" || in.Subtype != "alternative" || len(in.Parts) != 2 {
		t.Fatalf("inner %s/%s %d parts", in.Type, in.Subtype, len(in.Parts))
	}
	if got := headerOf(raw, in); !strings.HasPrefix(got, "From: Inner") || !strings.HasSuffix(got, "boundary=\"inner\"\r\n\r\n") {
		t.Fatalf("inner header %q", got)
	}
	if bodyOf(raw, in.Parts[0]) != "inner plain" || bodyOf(raw, in.Parts[1]) != "<p>inner html</p>" {
		t.Fatalf("inner bodies %q %q", bodyOf(raw, in.Parts[0]), bodyOf(raw, in.Parts[1]))
	}
	env := msg.Envelope
	if env.Subject != "=?ISO-8859-1?Q?Caf=E9?=" || env.Date != "Sun, 12 Aug 2012 12:34:56 +0300" {
		t.Fatalf("inner envelope %+v", env)
	}
	wantFrom := []Address{{Name: "Inner", Mailbox: "inner", Host: "y.test"}}
	if !reflect.DeepEqual(env.From, wantFrom) || !reflect.DeepEqual(env.Sender, wantFrom) || !reflect.DeepEqual(env.ReplyTo, wantFrom) {
		t.Fatalf("inner from %+v sender %+v reply-to %+v", env.From, env.Sender, env.ReplyTo)
	}
	if DecodeHeaderValue(env.Subject) != "Café" {
		t.Fatalf("decoded subject %q", DecodeHeaderValue(env.Subject))
	}
	// The outer envelope is the outer message's.
	if p.Envelope.Subject != "Fwd" {
		t.Fatalf("outer subject %q", p.Envelope.Subject)
	}
	if p.Preview != "See attached." {
		t.Fatalf("preview %q", p.Preview)
	}
}

func TestParseDigestDefault(t *testing.T) {
	raw := crlf(`Content-Type: multipart/digest; boundary=d

--d

Subject: one

first
--d
Content-Type: text/plain

not a message
--d--
`)
	p := mustParse(t, raw)
	r := p.Root
	if len(r.Parts) != 2 {
		t.Fatalf("%d parts", len(r.Parts))
	}
	m := r.Parts[0]
	// RFC 2046 5.1.5: the default type in a digest is message/rfc822.
	if m.Type != "message" || m.Subtype != "rfc822" || m.Envelope.Subject != "one" {
		t.Fatalf("digest child %s/%s env %+v", m.Type, m.Subtype, m.Envelope)
	}
	if headerOf(raw, m) != "\r\n" || bodyOf(raw, m) != "Subject: one\r\n\r\nfirst" || m.Lines != 2 {
		t.Fatalf("digest child header %q body %q lines %d", headerOf(raw, m), bodyOf(raw, m), m.Lines)
	}
	if bodyOf(raw, m.Message) != "first" {
		t.Fatalf("digest message body %q", bodyOf(raw, m.Message))
	}
	if r.Parts[1].Type != "text" {
		t.Fatalf("explicit type lost: %s", r.Parts[1].Type)
	}
}

func TestParseMalformedBoundary(t *testing.T) {
	// The delimiters do not match the boundary parameter: no children,
	// so the part is reported as text/plain covering the whole body.
	raw := crlf(`Content-Type: multipart/mixed; boundary="nope"

--other
Content-Type: text/plain

hello
--other--
`)
	p := mustParse(t, raw)
	r := p.Root
	if r.Type != "text" || r.Subtype != "plain" || !reflect.DeepEqual(r.Params, [][2]string{{"charset", "us-ascii"}}) {
		t.Fatalf("root %s/%s %v", r.Type, r.Subtype, r.Params)
	}
	if !strings.HasPrefix(bodyOf(raw, r), "--other\r\n") || r.BodyEnd != int64(len(raw)) || r.Lines != 5 {
		t.Fatalf("body %q lines %d", bodyOf(raw, r), r.Lines)
	}

	// No boundary parameter at all.
	raw = crlf("Content-Type: multipart/mixed\n\nbody\n")
	r = mustParse(t, raw).Root
	if r.Type != "text" || bodyOf(raw, r) != "body\r\n" {
		t.Fatalf("no boundary: %s body %q", r.Type, bodyOf(raw, r))
	}

	// Only a close delimiter: no children either.
	raw = crlf("Content-Type: multipart/mixed; boundary=b\n\n--b--\n")
	if r = mustParse(t, raw).Root; r.Type != "text" {
		t.Fatalf("close only: %s", r.Type)
	}
}

func TestParseMissingCloseDelimiter(t *testing.T) {
	// The inner multipart is never closed: the outer delimiter closes it,
	// and the outer multipart's last part runs to the end of the data.
	raw := crlf(`Content-Type: multipart/mixed; boundary=out

--out
Content-Type: multipart/alternative; boundary=in

--in

a
--in

b
--out

c
`)
	p := mustParse(t, raw)
	r := p.Root
	if len(r.Parts) != 2 || len(r.Parts[0].Parts) != 2 {
		t.Fatalf("tree: %d parts", len(r.Parts))
	}
	in := r.Parts[0]
	if bodyOf(raw, in.Parts[0]) != "a" || bodyOf(raw, in.Parts[1]) != "b" {
		t.Fatalf("inner bodies %q %q", bodyOf(raw, in.Parts[0]), bodyOf(raw, in.Parts[1]))
	}
	if !strings.HasSuffix(bodyOf(raw, in), "--in\r\n\r\nb") {
		t.Fatalf("inner multipart body %q", bodyOf(raw, in))
	}
	if bodyOf(raw, r.Parts[1]) != "c\r\n" {
		t.Fatalf("last body %q", bodyOf(raw, r.Parts[1]))
	}
}

func TestParseBoundaryEdgeCases(t *testing.T) {
	// Transport padding after a delimiter, a delimiter-like line with a
	// longer boundary, an empty part, a part without header, and a part
	// whose header runs into the next delimiter.
	raw := crlf(`Content-Type: multipart/mixed; boundary="b"

--b   
Content-Type: text/plain

x
--bb is not a delimiter
--b
--b

no header
--b
Content-Type: text/plain
--b--`)
	p := mustParse(t, raw)
	r := p.Root
	if len(r.Parts) != 4 {
		t.Fatalf("%d parts", len(r.Parts))
	}
	if got := bodyOf(raw, r.Parts[0]); got != "x\r\n--bb is not a delimiter" {
		t.Fatalf("part 1 body %q", got)
	}
	if e := r.Parts[1]; e.BodyStart != e.BodyEnd || e.HeaderStart != e.BodyStart {
		t.Fatalf("empty part %+v", e)
	}
	if e := r.Parts[2]; headerOf(raw, e) != "\r\n" || bodyOf(raw, e) != "no header" {
		t.Fatalf("headerless part header %q body %q", headerOf(raw, e), bodyOf(raw, e))
	}
	if e := r.Parts[3]; headerOf(raw, e) != "Content-Type: text/plain" || e.BodyStart != e.BodyEnd {
		t.Fatalf("cut header %q body %q", headerOf(raw, e), bodyOf(raw, e))
	}
}

func TestParseMissingHeaders(t *testing.T) {
	// No header at all: a blank first line.
	raw := crlf("\nJust a body.\n")
	p := mustParse(t, raw)
	if p.Root.BodyStart != 2 || bodyOf(raw, p.Root) != "Just a body.\r\n" || p.Root.Lines != 1 {
		t.Fatalf("root %+v", p.Root)
	}
	if !reflect.DeepEqual(p.Envelope, Envelope{}) || !p.Date.IsZero() {
		t.Fatalf("envelope %+v date %v", p.Envelope, p.Date)
	}

	// Header only, without the blank line.
	raw = crlf("Subject: only a header\n")
	p = mustParse(t, raw)
	if p.Root.BodyStart != int64(len(raw)) || p.Root.Size() != 0 || p.Envelope.Subject != "only a header" {
		t.Fatalf("header-only %+v %+v", p.Root, p.Envelope)
	}

	// Empty input.
	p = mustParse(t, nil)
	if p.Root.Type != "text" || p.Root.BodyEnd != 0 {
		t.Fatalf("empty %+v", p.Root)
	}

	// Garbage lines in the header are skipped, not fatal.
	raw = crlf("From nobody Mon Jan  1 00:00:00 2024\n: no name\nSubject: kept\n\nbody")
	p = mustParse(t, raw)
	if p.Envelope.Subject != "kept" || bodyOf(raw, p.Root) != "body" {
		t.Fatalf("garbage header: %+v %q", p.Envelope, bodyOf(raw, p.Root))
	}
}

func TestParseNoBody(t *testing.T) {
	raw := crlf("From: a@b.test\nSubject: x\n\n")
	p := mustParse(t, raw)
	r := p.Root
	if r.BodyStart != int64(len(raw)) || r.BodyEnd != int64(len(raw)) || r.Lines != 0 || r.DecodedSize != 0 {
		t.Fatalf("root %+v", r)
	}
	if p.Preview != "" {
		t.Fatalf("preview %q", p.Preview)
	}
}

func TestParseContentTypeDefaults(t *testing.T) {
	cases := []struct {
		header  string
		typ     string
		sub     string
		params  [][2]string
		enc     string
		disp    string
		dparams [][2]string
	}{
		{"", "text", "plain", [][2]string{{"charset", "us-ascii"}}, "", "", nil},
		{"Content-Type: TEXT/HTML\n", "text", "html", [][2]string{{"charset", "us-ascii"}}, "", "", nil},
		{"Content-Type: garbage\n", "text", "plain", [][2]string{{"charset", "us-ascii"}}, "", "", nil},
		{"Content-Type: image/png; name=a.png\nContent-Transfer-Encoding: Base64\n", "image", "png", [][2]string{{"name", "a.png"}}, "BASE64", "", nil},
		{"Content-Type: text/plain; charset=us-ascii (Plain text)\n", "text", "plain", [][2]string{{"charset", "us-ascii"}}, "", "", nil},
		{"Content-Type: text/plain; format=flowed; CHARSET=\"iso-8859-1\"; delsp=yes\n", "text", "plain",
			[][2]string{{"format", "flowed"}, {"charset", "iso-8859-1"}, {"delsp", "yes"}}, "", "", nil},
		{"Content-Type: (comment) text / plain ; charset = utf-8\n", "text", "plain", [][2]string{{"charset", "utf-8"}}, "", "", nil},
		{"Content-Type: application/pdf;\n name=\"my file.pdf\"\nContent-Disposition: INLINE;\n\tfilename=my file.pdf\n", "application", "pdf",
			[][2]string{{"name", "my file.pdf"}}, "", "inline", [][2]string{{"filename", "my file.pdf"}}},
		{"Content-Type: multipart/mixed; boundary=----=_Part_1\n", "text", "plain", [][2]string{{"charset", "us-ascii"}}, "", "", nil},
		{"Content-Transfer-Encoding: 8bit (comment)\n", "text", "plain", [][2]string{{"charset", "us-ascii"}}, "8BIT", "", nil},
		{"Content-Type: text/plain; charset=utf-8; charset=latin1; ; junk; x=\"unterminated\n", "text", "plain",
			[][2]string{{"charset", "utf-8"}, {"x", "unterminated"}}, "", "", nil},
	}
	for _, c := range cases {
		raw := crlf(c.header + "\nbody\n")
		r := mustParse(t, raw).Root
		if r.Type != c.typ || r.Subtype != c.sub || !reflect.DeepEqual(r.Params, c.params) || r.Encoding != c.enc ||
			r.Disposition != c.disp || !reflect.DeepEqual(r.DispParams, c.dparams) {
			t.Errorf("%q: got %s/%s %v enc %q disp %q %v", c.header, r.Type, r.Subtype, r.Params, r.Encoding, r.Disposition, r.DispParams)
		}
	}
}

func TestParseRFC2231(t *testing.T) {
	raw := crlf(`Content-Type: application/x-stuff;
 title*0*=us-ascii'en'This%20is%20even%20more%20;
 title*1*=%2A%2A%2Afun%2A%2A%2A%20;
 title*2="isn't it!";
 name*=UTF-8''%C3%A9t%C3%A9.pdf;
 latin*=iso-8859-1'fr'%E9t%E9;
 out*1="b"; out*0="a"
Content-Disposition: attachment; filename="plain.pdf"; filename*=utf-8''r%C3%A9sum%C3%A9.pdf

x`)
	r := mustParse(t, raw).Root
	want := [][2]string{
		{"title", "This is even more ***fun*** isn't it!"},
		{"name", "été.pdf"},
		{"latin", "été"},
		{"out", "ab"},
	}
	if !reflect.DeepEqual(r.Params, want) {
		t.Fatalf("params %q", r.Params)
	}
	if !reflect.DeepEqual(r.DispParams, [][2]string{{"filename", "résumé.pdf"}}) {
		t.Fatalf("disposition params %q", r.DispParams)
	}
}

func TestParseMessageRFC822Encoded(t *testing.T) {
	// RFC 2046 5.2.1 forbids it; if it happens the part is opaque.
	raw := crlf(`Content-Type: multipart/mixed; boundary=b

--b
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

U3ViamVjdDogeA0KDQpib2R5
--b--
`)
	r := mustParse(t, raw).Root
	m := r.Parts[0]
	if m.Type != "application" || m.Subtype != "octet-stream" || m.Message != nil || m.DecodedSize != 18 {
		t.Fatalf("encoded message part %+v", m)
	}
	if got, _ := DecodeBody(raw, m); string(got) != "Subject: x\r\n\r\nbody" {
		t.Fatalf("decoded %q", got)
	}
}

func TestParseLimits(t *testing.T) {
	// Deep nesting: degrade below maxDepth without failing.
	var b strings.Builder
	for i := 0; i < maxDepth+20; i++ {
		b.WriteString("Content-Type: message/rfc822\r\n\r\n")
	}
	b.WriteString("Subject: deep\r\n\r\nbody\r\n")
	raw := []byte(b.String())
	p := mustParse(t, raw)
	depth := 0
	for part := p.Root; part.Message != nil; part = part.Message {
		depth++
	}
	if depth != maxDepth {
		t.Fatalf("depth %d", depth)
	}

	// Many parts: stop creating them at maxParts.
	b.Reset()
	b.WriteString("Content-Type: multipart/mixed; boundary=x\r\n\r\n")
	for i := 0; i < maxParts+50; i++ {
		b.WriteString("--x\r\n\r\np\r\n")
	}
	b.WriteString("--x--\r\n")
	raw = []byte(b.String())
	p = mustParse(t, raw)
	if n := len(p.Root.Parts); n != maxParts-1 {
		t.Fatalf("%d parts", n)
	}
	if p.Root.BodyEnd != int64(len(raw)) {
		t.Fatalf("root body end %d of %d", p.Root.BodyEnd, len(raw))
	}

	// Deeply nested multiparts.
	b.Reset()
	for i := 0; i < maxDepth+10; i++ {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b" + strings.Repeat("x", i) + "\"\r\n\r\n--b" + strings.Repeat("x", i) + "\r\n")
	}
	b.WriteString("\r\nleaf\r\n")
	mustParse(t, []byte(b.String()))
}
