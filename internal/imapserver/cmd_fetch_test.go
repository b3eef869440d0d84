package imapserver

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

// Fixtures. Written with "\n" line ends and converted with crlf.

// fxSimple is a plain text message.
var fxSimple = crlf(`From: Alice <alice@example.org>
To: Bob <bob@example.org>
Subject: Hello
Date: Mon, 1 Jan 2024 10:00:00 +0000
Message-ID: <s1@example.org>

Line one.
Line two.
`)

// fxMultipart is a multipart/mixed with a text part, a base64 attachment
// (whose decoded bytes contain NUL) and a quoted-printable part.
var fxMultipart = crlf(`From: Bob <bob@example.org>
To: alice@example.org
Subject: multipart
Date: Tue, 2 Jan 2024 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

preamble
--XX
Content-Type: text/plain; charset=utf-8

Hello
World
--XX
Content-Type: application/octet-stream; name="a.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="a.bin"

AAECAw==
--XX
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable
Content-Language: fr
Content-Location: http://example.org/x.html

<p>caf=C3=A9</p>
--XX--
`)

// fxNested is a multipart/mixed whose second part is a message/rfc822
// holding a multipart/alternative.
var fxNested = crlf(`From: Carol <carol@example.org>
To: alice@example.org
Subject: fwd
Date: Wed, 3 Jan 2024 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: text/plain

See below.
--outer
Content-Type: message/rfc822
Content-Description: forwarded

From: Dan <dan@example.org>
Subject: inner
Date: Thu, 4 Jan 2024 10:00:00 +0000
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain

Inner text.
--inner
Content-Type: text/html

<b>Inner</b>
--inner--
--outer--
`)

// fxGroup has group addresses and encoded-words.
var fxGroup = crlf(`From: =?UTF-8?Q?Ren=C3=A9?= <rene@example.org>
Sender: sec@example.org
To: undisclosed-recipients:;
Cc: Team: a@example.org, "B. Person" <b@example.org>;
Subject: =?UTF-8?B?SMOpbGxv?= world
Date: Fri, 5 Jan 2024 10:00:00 +0100
In-Reply-To: <x@example.org>

Body.
`)

// fxDate is the internal date fixtures are delivered with.
var fxDate = time.Date(2024, 2, 3, 12, 5, 6, 0, time.FixedZone("", 3600))

// deliverAt appends raw to user's mailbox with the fixture internal date.
func (ts *testServer) deliverAt(t testing.TB, user, mailbox, raw string, flags ...string) uint32 {
	t.Helper()
	a := ts.account(t, user)
	mb := ts.mailbox(t, user, mailbox)
	res, err := a.Append(context.Background(), mb.ID, store.AppendRequest{
		Body: strings.NewReader(raw), Size: int64(len(raw)), Flags: flags, InternalDate: fxDate,
	})
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
	return res.UID
}

// fixtureServer delivers the four fixtures to alice's INBOX and returns a
// raw connection with INBOX selected.
func fixtureServer(t *testing.T) (*testServer, *rawConn) {
	ts := newTestServer(t)
	ts.deliverAt(t, "alice", "INBOX", fxSimple)
	ts.deliverAt(t, "alice", "INBOX", fxMultipart)
	ts.deliverAt(t, "alice", "INBOX", fxNested)
	ts.deliverAt(t, "alice", "INBOX", fxGroup, `\Seen`)
	c := ts.rawLogin(t, "alice")
	c.cmd("S SELECT INBOX")
	return ts, c
}

// Expected structures of the fixtures (RFC 9051 7.5.2), shared by tests.
const (
	envSimple  = `("Mon, 1 Jan 2024 10:00:00 +0000" "Hello" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Bob" NIL "bob" "example.org")) NIL NIL NIL "<s1@example.org>")`
	bsSimple   = `("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 22 2 NIL NIL NIL NIL)`
	bodySimple = `("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 22 2)`

	bsMultipart = `(("text" "plain" ("charset" "utf-8") NIL NIL "7BIT" 12 1 NIL NIL NIL NIL)` +
		`("application" "octet-stream" ("name" "a.bin") NIL NIL "BASE64" 8 NIL ("attachment" ("filename" "a.bin")) NIL NIL)` +
		`("text" "html" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE" 16 0 NIL NIL ("fr") "http://example.org/x.html")` +
		` "mixed" ("boundary" "XX") NIL NIL NIL)`
	bodyMultipart = `(("text" "plain" ("charset" "utf-8") NIL NIL "7BIT" 12 1)` +
		`("application" "octet-stream" ("name" "a.bin") NIL NIL "BASE64" 8)` +
		`("text" "html" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE" 16 0) "mixed")`

	envInner = `("Thu, 4 Jan 2024 10:00:00 +0000" "inner" (("Dan" NIL "dan" "example.org")) (("Dan" NIL "dan" "example.org")) (("Dan" NIL "dan" "example.org")) NIL NIL NIL NIL NIL)`
	bsNested = `(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 10 0 NIL NIL NIL NIL)` +
		`("message" "rfc822" NIL NIL "forwarded" "7BIT" 247 ` + envInner + ` ` +
		`(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 11 0 NIL NIL NIL NIL)` +
		`("text" "html" ("charset" "us-ascii") NIL NIL "7BIT" 12 0 NIL NIL NIL NIL)` +
		` "alternative" ("boundary" "inner") NIL NIL NIL) 13 NIL NIL NIL NIL)` +
		` "mixed" ("boundary" "outer") NIL NIL NIL)`
	bodyNested = `(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 10 0)` +
		`("message" "rfc822" NIL NIL "forwarded" "7BIT" 247 ` + envInner + ` ` +
		`(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 11 0)` +
		`("text" "html" ("charset" "us-ascii") NIL NIL "7BIT" 12 0) "alternative") 13) "mixed")`

	envGroup = `("Fri, 5 Jan 2024 10:00:00 +0100" "=?UTF-8?B?SMOpbGxv?= world"` +
		` (("=?UTF-8?Q?Ren=C3=A9?=" NIL "rene" "example.org"))` +
		` ((NIL NIL "sec" "example.org"))` +
		` (("=?UTF-8?Q?Ren=C3=A9?=" NIL "rene" "example.org"))` +
		` ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))` +
		` ((NIL NIL "Team" NIL)(NIL NIL "a" "example.org")("B. Person" NIL "b" "example.org")(NIL NIL NIL NIL))` +
		` NIL "<x@example.org>" NIL)`

	fxDateWire = `" 3-Feb-2024 12:05:06 +0100"`
)

func TestFetchStaticItems(t *testing.T) {
	_, c := fixtureServer(t)
	c.expectCmd("a FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE)",
		`* 1 FETCH (UID 1 FLAGS (\Recent) INTERNALDATE `+fxDateWire+` RFC822.SIZE 168 ENVELOPE `+envSimple+` BODY `+bodySimple+` BODYSTRUCTURE `+bsSimple+`)`,
		"a OK FETCH completed")
	c.expectCmd("b FETCH 2 (BODYSTRUCTURE BODY RFC822.SIZE)",
		`* 2 FETCH (BODYSTRUCTURE `+bsMultipart+` BODY `+bodyMultipart+` RFC822.SIZE 594)`,
		"b OK FETCH completed")
	c.expectCmd("c FETCH 3 (BODYSTRUCTURE BODY)",
		`* 3 FETCH (BODYSTRUCTURE `+bsNested+` BODY `+bodyNested+`)`,
		"c OK FETCH completed")
	c.expectCmd("d FETCH 4 (ENVELOPE FLAGS)",
		`* 4 FETCH (ENVELOPE `+envGroup+` FLAGS (\Seen \Recent))`,
		"d OK FETCH completed")
	// Macros (RFC 9051 6.4.5): FAST, ALL, FULL.
	c.expectCmd("e FETCH 1 FAST",
		`* 1 FETCH (FLAGS (\Recent) INTERNALDATE `+fxDateWire+` RFC822.SIZE 168)`,
		"e OK FETCH completed")
	c.expectCmd("f FETCH 1 FULL",
		`* 1 FETCH (FLAGS (\Recent) INTERNALDATE `+fxDateWire+` RFC822.SIZE 168 ENVELOPE `+envSimple+` BODY `+bodySimple+`)`,
		"f OK FETCH completed")
}

func TestFetchSections(t *testing.T) {
	_, c := fixtureServer(t)
	hdr := fxSimple[:146]
	c.expectCmd("a FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[1.MIME])",
		"* 1 FETCH (BODY[HEADER] {146}\r\n"+hdr+
			" BODY[TEXT] {22}\r\nLine one.\r\nLine two.\r\n"+
			" BODY[1] {22}\r\nLine one.\r\nLine two.\r\n"+
			" BODY[1.MIME] {146}\r\n"+hdr+")",
		"a OK FETCH completed")
	c.expectCmd("b FETCH 1 BODY.PEEK[]",
		"* 1 FETCH (BODY[] {168}\r\n"+fxSimple+")",
		"b OK FETCH completed")
	// HEADER.FIELDS keeps the requested spelling in the response and the
	// blank line in the data; .NOT keeps the others.
	c.expectCmd("c FETCH 1 (BODY.PEEK[HEADER.FIELDS (subject \"To\")] BODY.PEEK[HEADER.FIELDS.NOT (From To Date Message-ID)])",
		"* 1 FETCH (BODY[HEADER.FIELDS (subject To)] {45}\r\nTo: Bob <bob@example.org>\r\nSubject: Hello\r\n\r\n"+
			" BODY[HEADER.FIELDS.NOT (From To Date Message-ID)] {18}\r\nSubject: Hello\r\n\r\n)",
		"c OK FETCH completed")
	c.expectCmd("d FETCH 2 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[2.MIME] BODY.PEEK[3])",
		"* 2 FETCH (BODY[1] {12}\r\nHello\r\nWorld"+
			" BODY[2] {8}\r\nAAECAw=="+
			" BODY[2.MIME] {142}\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n\r\n"+
			" BODY[3] {16}\r\n<p>caf=C3=A9</p>)",
		"d OK FETCH completed")
	inner := "From: Dan <dan@example.org>\r\nSubject: inner\r\nDate: Thu, 4 Jan 2024 10:00:00 +0000\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
	innerText := "--inner\r\nContent-Type: text/plain\r\n\r\nInner text.\r\n--inner\r\nContent-Type: text/html\r\n\r\n<b>Inner</b>\r\n--inner--"
	c.expectCmd("e FETCH 3 (BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1] BODY.PEEK[2.2] BODY.PEEK[2.1.MIME] BODY.PEEK[2.HEADER.FIELDS (Subject)] BODY.PEEK[2.MIME])",
		"* 3 FETCH (BODY[2.HEADER] {138}\r\n"+inner+
			" BODY[2.TEXT] {109}\r\n"+innerText+
			" BODY[2.1] {11}\r\nInner text."+
			" BODY[2.2] {12}\r\n<b>Inner</b>"+
			" BODY[2.1.MIME] {28}\r\nContent-Type: text/plain\r\n\r\n"+
			" BODY[2.HEADER.FIELDS (Subject)] {18}\r\nSubject: inner\r\n\r\n"+
			" BODY[2.MIME] {64}\r\nContent-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n)",
		"e OK FETCH completed")
	c.expectCmd("f FETCH 3 BODY.PEEK[2]",
		"* 3 FETCH (BODY[2] {247}\r\n"+inner+innerText+")",
		"f OK FETCH completed")
	// Sections that mean nothing (HEADER of a non-message part) and parts
	// that do not exist are the empty string.
	c.expectCmd(`g FETCH 3 (BODY.PEEK[1.HEADER] BODY.PEEK[1.TEXT] BODY.PEEK[4] BODY.PEEK[2.3] BODY.PEEK[1.1] BINARY.PEEK[7] BINARY.SIZE[7])`,
		`* 3 FETCH (BODY[1.HEADER] "" BODY[1.TEXT] "" BODY[4] "" BODY[2.3] "" BODY[1.1] "" BINARY[7] "" BINARY.SIZE[7] 0)`,
		"g OK FETCH completed")
	// BODY[2] of a non-multipart message does not exist; BODY[1.1] neither.
	c.expectCmd(`h FETCH 1 (BODY.PEEK[2] BODY.PEEK[1.1])`,
		`* 1 FETCH (BODY[2] "" BODY[1.1] "")`,
		"h OK FETCH completed")
}

func TestFetchBinary(t *testing.T) {
	_, c := fixtureServer(t)
	// RFC 3516: base64 decoded; NUL bytes make it a literal8.
	c.expectCmd("a FETCH 2 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[3] BINARY.SIZE[3] BINARY.PEEK[1] BINARY.SIZE[1])",
		"* 2 FETCH (BINARY[2] ~{4}\r\n\x00\x01\x02\x03 BINARY.SIZE[2] 4"+
			" BINARY[3] {12}\r\n<p>café</p> BINARY.SIZE[3] 12"+
			" BINARY[1] {12}\r\nHello\r\nWorld BINARY.SIZE[1] 12)",
		"a OK FETCH completed")
	// Partial BINARY counts decoded bytes; the response has no origin
	// (RFC 9051 9 msg-att-static). Without NUL the literal is plain.
	c.expectCmd("b FETCH 2 (BINARY.PEEK[2]<0.2> BINARY.PEEK[2]<1.2> BINARY.PEEK[3]<3.100>)",
		"* 2 FETCH (BINARY[2] ~{2}\r\n\x00\x01 BINARY[2] {2}\r\n\x01\x02 BINARY[3] {9}\r\ncafé</p>)",
		"b OK FETCH completed")
	// BINARY[] is the whole message; BINARY of a message/rfc822 part is
	// the encapsulated message.
	c.expectCmd("c FETCH 1 (BINARY.PEEK[] BINARY.SIZE[])",
		"* 1 FETCH (BINARY[] {168}\r\n"+fxSimple+" BINARY.SIZE[] 168)",
		"c OK FETCH completed")
	c.expectCmd("d FETCH 3 BINARY.SIZE[2]", "* 3 FETCH (BINARY.SIZE[2] 247)", "d OK FETCH completed")
	// A non-PEEK BINARY sets \Seen.
	c.expectCmd("e FETCH 2 BINARY[2]",
		"* 2 FETCH (BINARY[2] ~{4}\r\n\x00\x01\x02\x03 FLAGS (\\Seen \\Recent))",
		"e OK FETCH completed")
}

func TestFetchUnknownCTE(t *testing.T) {
	ts, c := fixtureServer(t)
	ts.deliverAt(t, "alice", "INBOX", crlf("Subject: uu\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\nend\n"))
	c.cmd("n NOOP")
	c.expectCmd("a FETCH 5 BINARY.PEEK[1]", "a NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding")
	c.expectCmd("b FETCH 5 BINARY.SIZE[1]", "b NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding")
	// BODY[] is not decoded and works.
	c.expectCmd("c FETCH 5 BODY.PEEK[1]", "* 5 FETCH (BODY[1] {18}\r\nbegin 644 x\r\nend\r\n)", "c OK FETCH completed")
	// The failed BINARY did not set \Seen.
	c.expectCmd("d FETCH 5 FLAGS", `* 5 FETCH (FLAGS (\Recent))`, "d OK FETCH completed")
}

func TestFetchPartial(t *testing.T) {
	_, c := fixtureServer(t)
	c.expectCmd("a FETCH 1 (BODY.PEEK[]<0.10> BODY.PEEK[TEXT]<5.100> BODY.PEEK[]<500.10> BODY.PEEK[TEXT]<22.1>)",
		"* 1 FETCH (BODY[]<0> {10}\r\nFrom: Alic BODY[TEXT]<5> {17}\r\none.\r\nLine two.\r\n BODY[]<500> \"\" BODY[TEXT]<22> \"\")",
		"a OK FETCH completed")
	// Partial of HEADER.FIELDS applies after subsetting (RFC 9051 6.4.5).
	c.expectCmd("b FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]<2.5>",
		"* 1 FETCH (BODY[HEADER.FIELDS (Subject)]<2> {5}\r\nbject)",
		"b OK FETCH completed")
	c.expectCmd("c FETCH 2 BODY.PEEK[2]<6.10>",
		"* 2 FETCH (BODY[2]<6> {2}\r\n==)",
		"c OK FETCH completed")
}

func TestFetchSetsSeen(t *testing.T) {
	_, c := fixtureServer(t)
	// RFC 9051 6.4.5: BODY[section] sets \Seen; the new flags are sent.
	c.expectCmd("a FETCH 1 BODY[TEXT]",
		"* 1 FETCH (BODY[TEXT] {22}\r\nLine one.\r\nLine two.\r\n FLAGS (\\Seen \\Recent))",
		"a OK FETCH completed")
	// Already seen: no FLAGS; and the change is not reported again later.
	c.expectCmd("b FETCH 1 BODY[TEXT]<0.4>",
		"* 1 FETCH (BODY[TEXT]<0> {4}\r\nLine)",
		"b OK FETCH completed")
	c.expectCmd("c NOOP", "c OK NOOP completed")
	// Requested FLAGS carry the new value in place.
	c.expectCmd("d FETCH 2 (FLAGS BODY[1])",
		"* 2 FETCH (FLAGS (\\Seen \\Recent) BODY[1] {12}\r\nHello\r\nWorld)",
		"d OK FETCH completed")
	// RFC822.HEADER is a PEEK; RFC822.TEXT and RFC822 set \Seen (RFC 3501
	// 6.4.5).
	c.expectCmd("e FETCH 3 RFC822.HEADER",
		"* 3 FETCH (RFC822.HEADER {176}\r\n"+fxNested[:176]+")",
		"e OK FETCH completed")
	c.expectCmd("f FETCH 3 (RFC822.SIZE RFC822.TEXT)",
		"* 3 FETCH (RFC822.SIZE 558 RFC822.TEXT {382}\r\n"+fxNested[176:]+" FLAGS (\\Seen \\Recent))",
		"f OK FETCH completed")
	c.expectCmd("g UID FETCH 4 RFC822",
		"* 4 FETCH (UID 4 RFC822 {272}\r\n"+fxGroup+")",
		"g OK UID FETCH completed")
	// BINARY.SIZE and BODY.PEEK do not set \Seen; a mailbox opened with
	// EXAMINE never changes.
	c.expectCmd("h STORE 1:4 -FLAGS.SILENT (\\Seen)", "h OK STORE completed")
	c.expectCmd("i FETCH 1 (BINARY.SIZE[1] BODY.PEEK[1])",
		"* 1 FETCH (BINARY.SIZE[1] 22 BODY[1] {22}\r\nLine one.\r\nLine two.\r\n)",
		"i OK FETCH completed")
	c.cmd("j EXAMINE INBOX")
	c.expectCmd("k FETCH 1 BODY[TEXT]<0.4>", "* 1 FETCH (BODY[TEXT]<0> {4}\r\nLine)", "k OK FETCH completed")
	c.expectCmd("l FETCH 1 FLAGS", "* 1 FETCH (FLAGS ())", "l OK FETCH completed")
}

func TestFetchRev1AndRev2(t *testing.T) {
	ts, c := fixtureServer(t)
	c.expectCmd("a FETCH 4 FLAGS", `* 4 FETCH (FLAGS (\Seen \Recent))`, "a OK FETCH completed")
	// IMAP4rev2 has no \Recent (RFC 9051 appendix E); the RFC822 items
	// keep their names for clients that still send them.
	r2 := ts.rawLogin(t, "alice")
	r2.expectCmd("e ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "e OK ENABLE completed")
	r2.cmd("s SELECT INBOX")
	r2.expectCmd("a FETCH 4 (FLAGS RFC822.SIZE)", `* 4 FETCH (FLAGS (\Seen) RFC822.SIZE 272)`, "a OK FETCH completed")
	r2.expectCmd("b FETCH 4 RFC822.HEADER", "* 4 FETCH (RFC822.HEADER {265}\r\n"+fxGroup[:265]+")", "b OK FETCH completed")
}

func TestFetchUIDForm(t *testing.T) {
	_, c := fixtureServer(t)
	// RFC 9051 6.4.9: UID FETCH always returns UID; its place follows the
	// request when asked for.
	c.expectCmd("a UID FETCH 2:3 FLAGS",
		`* 2 FETCH (UID 2 FLAGS (\Recent))`,
		`* 3 FETCH (UID 3 FLAGS (\Recent))`,
		"a OK UID FETCH completed")
	c.expectCmd("b UID FETCH 4 (FLAGS UID)", `* 4 FETCH (FLAGS (\Seen \Recent) UID 4)`, "b OK UID FETCH completed")
	// UIDs that do not exist give nothing, not an error.
	c.expectCmd("c UID FETCH 5:100 FLAGS", "c OK UID FETCH completed")
	c.expectCmd("d UID FETCH 3,99 UID", "* 3 FETCH (UID 3)", "d OK UID FETCH completed")
	// "*" is the last message.
	c.expectCmd("e UID FETCH * UID", "* 4 FETCH (UID 4)", "e OK UID FETCH completed")
	c.expectCmd("f FETCH 4:* UID", "* 4 FETCH (UID 4)", "f OK FETCH completed")
}

func TestFetchErrors(t *testing.T) {
	_, c := fixtureServer(t)
	for _, tc := range []struct{ cmd, want string }{
		{"a FETCH 5 FLAGS", "a BAD "},
		{"c FETCH 1 (FOO)", "c BAD "},
		{"d FETCH 1 BINARY[1.HEADER]", "d BAD "},
		{"e FETCH 1 BODY[MIME]", "e BAD "},
		{"f FETCH 1 FLAGS (CHANGEDSINCE 0)", "f BAD "},
		{"g FETCH 1", "g BAD "},
		{"h FETCH 1 BODY[1]<0.0>", "h BAD "},
	} {
		got := c.cmd(tc.cmd)
		if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
			t.Errorf("%s: got %q, want one line starting %q", tc.cmd, got, tc.want)
		}
	}
	// Not allowed without a selected mailbox.
	c.cmd("u UNSELECT")
	got := c.cmd("i FETCH 1 FLAGS")
	if len(got) != 1 || !strings.HasPrefix(got[0], "i BAD ") {
		t.Errorf("FETCH without selection: %q", got)
	}
}

func TestFetchObjectIDAndPreview(t *testing.T) {
	ts, c := fixtureServer(t)
	recs, err := ts.account(t, "alice").Records(context.Background(), ts.mailbox(t, "alice", "INBOX").ID, []uint32{1, 2})
	if err != nil || len(recs) != 2 {
		t.Fatalf("records: %v %d", err, len(recs))
	}
	// RFC 8514 SAVEDATE: when the message was saved in this mailbox.
	save0 := recs[0].SaveDate.Format("_2-Jan-2006 15:04:05 -0700")
	save1 := recs[1].SaveDate.Format("_2-Jan-2006 15:04:05 -0700")
	c.expectCmd("a FETCH 1:2 (EMAILID THREADID PREVIEW SAVEDATE)",
		`* 1 FETCH (EMAILID (M`+fmtID(int64(recs[0].MessageID))+`) THREADID (T`+fmtID(int64(recs[0].MessageID))+`) PREVIEW "Line one. Line two." SAVEDATE "`+save0+`")`,
		`* 2 FETCH (EMAILID (M`+fmtID(int64(recs[1].MessageID))+`) THREADID (T`+fmtID(int64(recs[1].MessageID))+`) PREVIEW "Hello World" SAVEDATE "`+save1+`")`,
		"a OK FETCH completed")
	c.expectCmd("b FETCH 1 (PREVIEW (LAZY))", `* 1 FETCH (PREVIEW "Line one. Line two.")`, "b OK FETCH completed")
	// A copy has the same EMAILID (RFC 8474 5.1).
	c.cmd("d CREATE Archive")
	c.cmd("e COPY 1 Archive")
	c.cmd("f SELECT Archive")
	c.expectCmd("g FETCH 1 EMAILID", `* 1 FETCH (EMAILID (M`+fmtID(int64(recs[0].MessageID))+`))`, "g OK FETCH completed")
}

func fmtID(n int64) string { return strconv.FormatInt(n, 10) }

// TestFetchExpungedElsewhere: while A has the mailbox selected, B expunges
// message 2. A's FETCH gets no EXPUNGE (RFC 9051 7.5.1): a FETCH of UID
// alone still answers it from the view; one that needs stored data answers
// the messages that remain and NO [EXPUNGEISSUED]; the EXPUNGE comes at NOOP.
func TestFetchExpungedElsewhere(t *testing.T) {
	ts, a := fixtureServer(t)
	b := ts.rawLogin(t, "alice")
	b.cmd("s SELECT INBOX")
	b.expectCmd(`t STORE 2 +FLAGS.SILENT (\Deleted)`, "t OK STORE completed")
	b.expectCmd("u EXPUNGE", "* 2 EXPUNGE", "u OK EXPUNGE completed")

	// UID alone is known from the view: the message is still answered
	// (RFC 2180 4.1.1).
	a.expectCmd("a FETCH 1:3 UID",
		"* 1 FETCH (UID 1)",
		"* 2 FETCH (UID 2)",
		"* 3 FETCH (UID 3)",
		"a OK FETCH completed")
	a.expectCmd("a2 FETCH 1:3 (UID FLAGS)",
		"* 1 FETCH (UID 1 FLAGS (\\Recent))",
		"* 3 FETCH (UID 3 FLAGS (\\Recent))",
		"a2 NO [EXPUNGEISSUED] Some messages were expunged")
	// STORE and SEARCH do not send it either.
	a.expectCmd(`b STORE 3 +FLAGS (\Flagged)`, `* 3 FETCH (FLAGS (\Flagged \Recent))`, "b OK STORE completed")
	a.expectCmd("c SEARCH ALL", "* SEARCH 1 3 4", "c OK SEARCH completed")
	a.expectCmd("d NOOP", "* 2 EXPUNGE", "d OK NOOP completed")
	a.expectCmd("e FETCH 2 UID", "* 2 FETCH (UID 3)", "e OK FETCH completed")

	// A UID FETCH may carry the EXPUNGE before its tagged response.
	b.expectCmd(`v STORE 1 +FLAGS.SILENT (\Deleted)`, `* 2 FETCH (FLAGS (\Flagged))`, "v OK STORE completed")
	b.expectCmd("w EXPUNGE", "* 1 EXPUNGE", "w OK EXPUNGE completed")
	a.expectCmd("f UID FETCH 1:* UID",
		"* 2 FETCH (UID 3)",
		"* 3 FETCH (UID 4)",
		"* 1 EXPUNGE",
		"f OK UID FETCH completed")
}

// TestFetchFlagsFromOtherSession: B's flag change reaches A as an
// unsolicited FETCH.
func TestFetchFlagsFromOtherSession(t *testing.T) {
	ts, a := fixtureServer(t)
	b := ts.rawLogin(t, "alice")
	b.cmd("s SELECT INBOX")
	// The new keyword is announced before the FETCH that uses it.
	b.expectCmd(`t STORE 1 +FLAGS ($Work)`,
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted.`,
		`* 1 FETCH (FLAGS ($Work))`,
		"t OK STORE completed")
	lines := a.cmd("a NOOP")
	if got := strings.Join(lines, "\n"); !strings.Contains(got, `* 1 FETCH (FLAGS ($Work \Recent))`) || !strings.HasSuffix(got, "a OK NOOP completed") {
		t.Fatalf("NOOP after B's STORE: %q", lines)
	}
}

// TestFetchManyMessages crosses the batch size with record and entry
// fetches.
func TestFetchManyMessages(t *testing.T) {
	ts := newTestServer(t)
	const n = 600
	for i := 1; i <= n; i++ {
		ts.deliverAt(t, "alice", "INBOX", harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	c.expectCmd("e ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "e OK ENABLE completed")
	c.cmd("s SELECT INBOX")
	for _, cmd := range []string{"a FETCH 1:* (UID FLAGS)", "b FETCH 1:* (UID RFC822.SIZE)", "c UID FETCH 2:599 FLAGS"} {
		lines := c.cmd(cmd)
		first, last := 1, n
		if cmd[0] == 'c' {
			first, last = 2, 599
		}
		if len(lines) != last-first+2 {
			t.Fatalf("%s: %d lines", cmd, len(lines))
		}
		for i := first; i <= last; i++ {
			var want string
			switch cmd[0] {
			case 'a':
				want = "* " + strconv.Itoa(i) + " FETCH (UID " + strconv.Itoa(i) + " FLAGS ())"
			case 'b':
				want = "* " + strconv.Itoa(i) + " FETCH (UID " + strconv.Itoa(i) + " RFC822.SIZE " + strconv.Itoa(len(harnessMessage(i))) + ")"
			case 'c':
				want = "* " + strconv.Itoa(i) + " FETCH (UID " + strconv.Itoa(i) + " FLAGS ())"
			}
			if lines[i-first] != want {
				t.Fatalf("%s: line %d = %q, want %q", cmd, i-first, lines[i-first], want)
			}
		}
	}
	// Setting \Seen across batches reports every change once.
	lines := c.cmd("d FETCH 250:260 BODY[HEADER.FIELDS (Subject)]")
	if len(lines) != 12 || !strings.HasSuffix(lines[0], "Subject: test 250\r\n\r\n FLAGS (\\Seen))") {
		t.Fatalf("FETCH BODY[HEADER.FIELDS]: %q", lines)
	}
	c.expectCmd("f NOOP", "f OK NOOP completed")
}

// memBody is an in-memory store.Body.
type memBody struct{ *bytes.Reader }

func (memBody) Close() error { return nil }

// FuzzFetchSections resolves arbitrary sections of arbitrary messages: the
// parser's model must never lead FETCH out of the message's bytes, and
// formatting must not panic.
func FuzzFetchSections(f *testing.F) {
	for _, m := range []string{fxSimple, fxMultipart, fxNested, fxGroup, "", "\r\n", "Subject: x"} {
		f.Add([]byte(m), []byte{1}, uint8(0), uint32(0), uint32(0))
		f.Add([]byte(m), []byte{2, 1}, uint8(1), uint32(3), uint32(7))
		f.Add([]byte(m), []byte{}, uint8(3), uint32(0), uint32(100))
	}
	specs := []string{"", "HEADER", "TEXT", "MIME", "HEADER.FIELDS", "HEADER.FIELDS.NOT"}
	f.Fuzz(func(t *testing.T, raw, path []byte, spec uint8, off, count uint32) {
		parsed, err := message.Parse(raw)
		if err != nil || parsed == nil {
			return
		}
		hdrEnd := int64(len(raw))
		if parsed.Root != nil && parsed.Root.BodyStart >= 0 && parsed.Root.BodyStart <= hdrEnd {
			hdrEnd = parsed.Root.BodyStart
		}
		rec := &store.Record{Size: int64(len(raw)), Header: raw[:hdrEnd], Parsed: parsed}
		src := &msgSource{rec: rec, body: memBody{bytes.NewReader(raw)}}
		sec := &imapwire.Section{Specifier: specs[int(spec)%len(specs)], Fields: []string{"Subject", "From"}}
		for _, p := range path {
			sec.Path = append(sec.Path, int(p%5)+1)
		}
		var partial *imapwire.Partial
		if count > 0 {
			partial = &imapwire.Partial{Offset: off, Count: count}
		}
		v, err := src.section(sec)
		if err != nil {
			t.Fatalf("section %v: %v", sec, err)
		}
		v = v.applyPartial(partial)
		if v.kind == valRange && (v.off < 0 || v.n < 0 || v.off+v.n > int64(len(raw))) {
			t.Fatalf("section %v: range %d+%d outside %d bytes", sec, v.off, v.n, len(raw))
		}
		bsec := &imapwire.Section{Path: sec.Path}
		if b, err := src.binary(bsec); err == nil {
			n, err := src.binarySize(bsec)
			if err != nil || (n != int64(len(b)) && len(sec.Path) > 0) {
				t.Fatalf("BINARY.SIZE%v = %d, %v; BINARY has %d bytes", sec.Path, n, err, len(b))
			}
		} else if err != errUnknownCTE {
			t.Fatalf("binary %v: %v", sec.Path, err)
		}
		render(false, func(w *imapwire.Writer) {
			writeEnvelope(w, &parsed.Envelope)
			writeBodyStructure(w, parsed.Root, true)
			src.writeValue(w, v)
		})
	})
}
