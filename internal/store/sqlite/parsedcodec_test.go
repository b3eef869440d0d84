package sqlite

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/message"
)

// codecSamples cover every field of the model: groups, routes, RFC 2231
// parameters, dispositions, languages, nested message/rfc822 with its own
// envelope, a date with an offset, and degenerate messages.
var codecSamples = []string{
	"",
	"Subject: only a header\r\n\r\n",
	"From: A <a@example.org>\r\nTo: undisclosed-recipients:;\r\nCc: Team: b@x.org, \"C D\" <c@y.org>;, <@route.example:e@z.org>\r\n" +
		"Subject: =?utf-8?q?caf=C3=A9?=\r\nDate: Tue, 5 Mar 2024 10:11:12 -0700\r\nMessage-ID: <m1@example.org>\r\n" +
		"In-Reply-To: <m0@example.org>\r\nReply-To: r@example.org\r\nSender: s@example.org\r\nBcc: hidden@example.org\r\n\r\nbody\r\n",
	"From: a@example.org\r\nDate: Wed, 6 Mar 2024 01:02:03 +0530\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\n" +
		"Content-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: quoted-printable\r\n" +
		"Content-ID: <p1@x>\r\nContent-Description: the text\r\nContent-Language: en, fr\r\nContent-Location: http://x/y\r\n" +
		"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n\r\nH=C3=A9llo\r\nline two\r\n--XX\r\n" +
		"Content-Type: application/pdf; name*=utf-8''r%C3%A9sum%C3%A9.pdf\r\nContent-Disposition: attachment; filename=\"a.pdf\"; size=3\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--XX\r\n" +
		"Content-Type: message/rfc822\r\n\r\nFrom: inner@example.org\r\nSubject: inner\r\nDate: Thu, 7 Mar 2024 00:00:00 +0000\r\n" +
		"Content-Type: multipart/alternative; boundary=YY\r\n\r\n--YY\r\nContent-Type: text/plain\r\n\r\nplain\r\n--YY\r\n" +
		"Content-Type: text/html\r\n\r\n<p>html</p>\r\n--YY--\r\n\r\n--XX--\r\nepilogue\r\n",
	"Date: not a date\r\nSubject: bad date\r\n\r\nx",
}

// sameParsed compares two models field by field through their JSON form,
// which spells every field (with the date's offset) and treats nil and
// empty slices alike, as the store contract does.
func sameParsed(t *testing.T, got, want *message.Parsed) {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("decoded model differs:\n got %s\nwant %s", g, w)
	}
	if !got.Date.Equal(want.Date) {
		t.Fatalf("Date %v, want %v", got.Date, want.Date)
	}
	_, go1 := got.Date.Zone()
	_, wo := want.Date.Zone()
	if go1 != wo {
		t.Fatalf("Date offset %d, want %d", go1, wo)
	}
}

func TestParsedCodecRoundTrip(t *testing.T) {
	for i, raw := range codecSamples {
		p := parse([]byte(raw))
		b := encodeParsed(p)
		if b[0] != parsedMagic || b[1] != parsedVersion {
			t.Fatalf("sample %d: header % x", i, b[:2])
		}
		got, err := decodeParsed(b)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		sameParsed(t, got, p)
		// The legacy JSON column still decodes to the same model.
		j, _ := json.Marshal(p)
		old, err := decodeParsed(j)
		if err != nil {
			t.Fatalf("sample %d: JSON: %v", i, err)
		}
		sameParsed(t, old, p)
	}
}

// TestParsedCodecFields pins details the samples might not reach: the
// nested envelope, groups, languages, and the date's zone.
func TestParsedCodecFields(t *testing.T) {
	p := parse([]byte(codecSamples[3]))
	got, err := decodeParsed(encodeParsed(p))
	if err != nil {
		t.Fatal(err)
	}
	root := got.Root
	if root.Type != "multipart" || root.Subtype != "mixed" || len(root.Parts) != 3 {
		t.Fatalf("root %+v", root)
	}
	text := root.Parts[0]
	if strings.Join(text.Language, ",") != "en,fr" || text.Encoding != "QUOTED-PRINTABLE" || text.ID != "<p1@x>" ||
		text.Location != "http://x/y" || text.MD5 != "Q2hlY2sgSW50ZWdyaXR5IQ==" || text.Description != "the text" {
		t.Fatalf("text part %+v", text)
	}
	att := root.Parts[1]
	if att.Disposition != "attachment" || len(att.DispParams) != 2 || att.DispParams[0] != [2]string{"filename", "a.pdf"} {
		t.Fatalf("attachment %+v", att)
	}
	inner := root.Parts[2]
	if inner.Envelope == nil || inner.Envelope.Subject != "inner" || inner.Message == nil || len(inner.Message.Parts) != 2 {
		t.Fatalf("message/rfc822 part %+v", inner)
	}
	if _, off := got.Date.Zone(); off != 5*3600+30*60 || got.Date.Unix() != p.Date.Unix() {
		t.Fatalf("Date %v", got.Date)
	}
	g := parse([]byte(codecSamples[2]))
	gd, err := decodeParsed(encodeParsed(g))
	if err != nil {
		t.Fatal(err)
	}
	cc := gd.Envelope.Cc
	if len(cc) < 4 || !cc[0].GroupStart || cc[0].Mailbox != "Team" || !cc[3].GroupEnd {
		t.Fatalf("Cc %+v", cc)
	}
}

func TestParsedCodecCorrupt(t *testing.T) {
	good := encodeParsed(parse([]byte(codecSamples[3])))
	cases := map[string][]byte{
		"empty":       nil,
		"bad magic":   {0x00, parsedVersion},
		"bad version": {parsedMagic, 99},
		"bad json":    []byte("{nope"),
		"trailing":    append(append([]byte{}, good...), 0),
		"huge count":  {parsedMagic, parsedVersion, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for n := 0; n < len(good); n++ {
		cases["truncated to "+strconv.Itoa(n)] = good[:n]
	}
	for name, b := range cases {
		if _, err := decodeParsed(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := decodeParsed(good[:len(good)-1]); !errors.Is(err, errCorruptParsed) {
		t.Fatalf("truncated: %v, want errCorruptParsed", err)
	}
}

func TestZoneCache(t *testing.T) {
	if zone(0) != time.UTC {
		t.Fatal("zone(0) is not UTC")
	}
	a, b := zone(-7*3600), zone(-7*3600)
	if a != b {
		t.Fatal("zone not cached")
	}
	if _, off := time.Unix(0, 0).In(a).Zone(); off != -7*3600 {
		t.Fatalf("offset %d", off)
	}
	if _, off := time.Unix(0, 0).In(zone(12345)).Zone(); off != 12345 {
		t.Fatalf("odd offset %d", off)
	}
}

// FuzzParsedCodec: the column is read back from disk, so decoding any
// bytes must fail cleanly or yield a model that round-trips; and every
// model the parser builds must survive encode/decode.
func FuzzParsedCodec(f *testing.F) {
	for _, s := range codecSamples {
		f.Add([]byte(s), false)
		f.Add(encodeParsed(parse([]byte(s))), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, asColumn bool) {
		if !asColumn {
			p := parse(b)
			got, err := decodeParsed(encodeParsed(p))
			if err != nil {
				t.Fatalf("round trip: %v", err)
			}
			sameParsed(t, got, p)
			return
		}
		p, err := decodeParsed(b)
		if err != nil || b[0] == '{' {
			return // legacy JSON: only "no panic" is required
		}
		again, err := decodeParsed(encodeParsed(p))
		if err != nil {
			t.Fatalf("re-encoding a decoded model: %v", err)
		}
		sameParsed(t, again, p)
	})
}

func BenchmarkDecodeParsed(b *testing.B) {
	p := parse([]byte(codecSamples[3]))
	bin := encodeParsed(p)
	js, _ := json.Marshal(p)
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeParsed(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeParsed(js); err != nil {
				b.Fatal(err)
			}
		}
	})
}
