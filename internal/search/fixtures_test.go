package search

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// msg1: plain ASCII, every address field, a folded Subject, a Date in -0700
// whose own calendar date (2 Jan) differs from its UTC date (3 Jan).
var raw1 = crlf(`Date: Mon, 02 Jan 2006 23:30:00 -0700
From: "Alice Example" <alice@example.org>
To: bob@example.com, Carol <carol@example.net>
Cc: dave@example.com
Bcc: eve@example.com
Subject: Quarterly report
 continued
Message-ID: <1@example.org>
X-Priority: 1
Content-Type: text/plain; charset=us-ascii

Hello Bob,
the numbers are in.
`)

// msg2: encoded-word headers (ISO-8859-1 Q, UTF-8 B), a Date in +1300, and
// a multipart body with quoted-printable and base64 ISO-8859-1 text, an
// attached message and a binary attachment.
var raw2 = crlf(`Date: Tue, 10 Feb 2015 08:00:00 +1300
From: =?ISO-8859-1?Q?Fran=E7ois_L=E9vesque?= <francois@example.fr>
To: =?UTF-8?B?` + b64("Zoé Ünal") + `?= <zoe@example.jp>
Subject: =?UTF-8?B?` + b64("Résumé de l'été") + `?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

preamble text
--b1
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Le caf=E9 est pr=EAt.
--b1
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: base64

` + b64("<p>Cr\xe8me br\xfbl\xe9e</p>") + `
--b1
Content-Type: message/rfc822

Subject: Inner =?utf-8?q?na=C3=AFve?=
From: inner@example.com
Content-Type: text/plain; charset=utf-8

Nested secret words: Straße
--b1
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

` + b64("hiddenattachment") + `
--b1--
`)

// msg3: no Date header, raw UTF-8 in the Subject (RFC 6532), 8-bit body.
var raw3 = crlf(`From: Günter <gunter@example.de>
To: alice@example.org
Subject: Grüße aus München
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Plain body with ümlaut.
`)

type fixture struct {
	msgs  []*Message
	env   *Env
	loads []int // Body() calls per message
}

func mustParse(t testing.TB, raw string) *message.Parsed {
	t.Helper()
	p, err := message.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("message.Parse: %v", err)
	}
	if p == nil || p.Root == nil {
		t.Fatal("message.Parse: no root part")
	}
	return p
}

func newRecord(t testing.TB, raw string) *store.Record {
	p := mustParse(t, raw)
	return &store.Record{
		Header: []byte(raw[:p.Root.BodyStart]),
		Parsed: p,
		Size:   int64(len(raw)),
	}
}

func newFixture(t testing.TB) *fixture {
	f := &fixture{loads: make([]int, 3)}
	raws := []string{raw1, raw2, raw3}
	recs := make([]*store.Record, 3)
	for i, raw := range raws {
		recs[i] = newRecord(t, raw)
	}
	recs[0].UID, recs[0].Flags, recs[0].ModSeq = 10, []string{"$Label1", `\Answered`, `\Seen`}, 100
	recs[0].InternalDate = time.Date(2006, 1, 3, 6, 30, 0, 0, time.UTC)
	recs[0].SaveDate = time.Date(2020, 5, 1, 12, 0, 0, 0, time.UTC)
	recs[0].Size, recs[0].MessageID = 1000, 7

	recs[1].UID, recs[1].Flags, recs[1].ModSeq = 20, []string{"NonJunk", `\Deleted`, `\Flagged`}, 200
	recs[1].InternalDate = time.Date(2015, 2, 9, 23, 30, 0, 0, time.UTC)
	// SaveDate left zero: SAVED* fall back to the internal date.
	recs[1].Size, recs[1].MessageID = 2000, 8

	recs[2].UID, recs[2].Flags, recs[2].ModSeq = 30, []string{`\Draft`, `\Seen`}, 300
	recs[2].InternalDate = time.Date(2024, 3, 10, 0, 30, 0, 0, time.UTC)
	recs[2].SaveDate = time.Date(2024, 3, 11, 10, 0, 0, 0, time.UTC)
	recs[2].Size, recs[2].MessageID = 3000, 9

	for i := range recs {
		i := i
		f.msgs = append(f.msgs, &Message{
			SeqNum: uint32(i + 1),
			Record: recs[i],
			Recent: i > 0,
			Body: func() ([]byte, error) {
				f.loads[i]++
				return []byte(raws[i]), nil
			},
		})
	}
	f.env = &Env{
		MaxSeq: 3,
		MaxUID: 30,
		Now:    time.Date(2024, 3, 10, 1, 30, 0, 0, time.UTC),
	}
	return f
}

// run returns the sequence numbers of the messages matching keys.
func (f *fixture) run(t *testing.T, keys ...imapwire.SearchKey) []uint32 {
	t.Helper()
	p, err := Compile(keys)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	out := []uint32{}
	for _, m := range f.msgs {
		ok, err := p.Match(m, f.env)
		if err != nil {
			t.Fatalf("Match: %v", err)
		}
		if ok {
			out = append(out, m.SeqNum)
		}
	}
	return out
}

// Key constructors keep the tables readable.
func k(op string) imapwire.SearchKey { return imapwire.SearchKey{Op: op} }
func ks(op, v string) imapwire.SearchKey {
	return imapwire.SearchKey{Op: op, Value: v}
}
func kh(field, v string) imapwire.SearchKey {
	return imapwire.SearchKey{Op: "HEADER", Field: field, Value: v}
}
func kn(op string, n uint64) imapwire.SearchKey {
	return imapwire.SearchKey{Op: op, Number: n}
}

// kd takes an IMAP date ("2-Jan-2006") and gives it as the decoder does:
// UTC midnight of that date.
func kd(op, date string) imapwire.SearchKey {
	d, err := time.Parse("2-Jan-2006", date)
	if err != nil {
		panic(err)
	}
	return imapwire.SearchKey{Op: op, Date: d}
}
func kset(op string, ranges ...uint32) imapwire.SearchKey {
	s := &imapwire.SeqSet{}
	for i := 0; i+1 < len(ranges); i += 2 {
		s.Ranges = append(s.Ranges, imapwire.SeqRange{Start: ranges[i], Stop: ranges[i+1]})
	}
	return imapwire.SearchKey{Op: op, Seq: s}
}
func ksaved(op string) imapwire.SearchKey {
	return imapwire.SearchKey{Op: op, Seq: &imapwire.SeqSet{Saved: true}}
}
func not(a imapwire.SearchKey) imapwire.SearchKey {
	return imapwire.SearchKey{Op: "NOT", Sub: []imapwire.SearchKey{a}}
}
func or(a, b imapwire.SearchKey) imapwire.SearchKey {
	return imapwire.SearchKey{Op: "OR", Sub: []imapwire.SearchKey{a, b}}
}
func and(subs ...imapwire.SearchKey) imapwire.SearchKey {
	return imapwire.SearchKey{Op: "AND", Sub: subs}
}
