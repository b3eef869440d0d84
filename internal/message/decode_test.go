package message

import (
	"errors"
	"testing"
)

func TestDecodeHeaderValue(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"},
		{"=?iso-8859-1?q?this=20is=20some=20text?=", "this is some text"},
		{"=?UTF-8?B?w6k=?=", "é"},
		{"=?UTF-8?Q?Caf=C3=A9_cr=C3=A8me?=", "Café crème"},
		{"=?ISO-8859-1?B?QW5kcuk=?=", "André"},
		{"(=?ISO-8859-1?Q?a?= b)", "(a b)"},
		{"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"}, // RFC 2047 6.2: white space between words dropped
		{"=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"},
		{"=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c"},
		{"=?ISO-8859-15?Q?=A4?=", "€"},
		{"=?windows-1252?Q?=80?=", "€"},
		{"=?KOI8-R?B?8NLJ18XU?=", "Привет"},
		{"=?utf-8*en?Q?hi?=", "hi"}, // RFC 2231 5 language suffix
		{"=?x-unknown-charset?Q?abc?= ok", "=?x-unknown-charset?Q?abc?= ok"},
		{"=?utf-8?Q?unterminated", "=?utf-8?Q?unterminated"},
		{"=?utf-8?X?bad-encoding?=", "=?utf-8?X?bad-encoding?="},
		{"=?utf-8?B?!!!?=", "=?utf-8?B?!!!?="},
		{"a =? b ?= c", "a =? b ?= c"},
		{"glued=?utf-8?q?word?=here", "gluedwordhere"},
		{"raw latin1 caf\xe9", "raw latin1 café"},
		{"raw utf-8 café", "raw utf-8 café"},
	}
	for _, c := range cases {
		if got := DecodeHeaderValue(c.in); got != c.want {
			t.Errorf("DecodeHeaderValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBase64Decode(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"aGVsbG8=", "hello"},
		{"aGVs\r\nbG8=\r\n", "hello"},
		{"aGVsbG8", "hello"},     // padding missing
		{"aGV sbG8 !!", "hello"}, // junk skipped
		{"aGk=aGk=", "hihi"},     // concatenated padded blobs
		{"aGVsbG8gd29ybGQ=", "hello world"},
		{"QQ", "A"},
		{"Q", ""},
	}
	for _, c := range cases {
		got, n := base64Decode([]byte(c.in), []byte{})
		if string(got) != c.want || n != len(c.want) {
			t.Errorf("base64Decode(%q) = %q (%d)", c.in, got, n)
		}
		if n := base64Size([]byte(c.in)); n != len(c.want) {
			t.Errorf("base64 size of %q = %d", c.in, n)
		}
	}
}

func TestQPDecode(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"a=3Db", "a=b"},
		{"soft=\r\nbreak", "softbreak"},
		{"soft= \t\r\nbreak", "softbreak"},
		{"soft=\nbreak", "softbreak"},
		{"hard\r\nbreak\r\n", "hard\r\nbreak\r\n"},
		{"padding   \r\nx", "padding\r\nx"},
		{"bad=ZZ and =4", "bad=ZZ and =4"},
		{"lower=c3=a9", "lower\xc3\xa9"},
		{"end=", "end"},
		{"=41=42=43", "ABC"},
	}
	for _, c := range cases {
		got, n := qpDecode([]byte(c.in), []byte{})
		if string(got) != c.want || n != len(c.want) {
			t.Errorf("qpDecode(%q) = %q (%d)", c.in, got, n)
		}
		if _, n := qpDecode([]byte(c.in), nil); n != len(c.want) {
			t.Errorf("qp size of %q = %d", c.in, n)
		}
	}
}

func TestDecodeBodyAndPartText(t *testing.T) {
	raw := crlf("Content-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n" +
		"--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nw6l0w6k=\n" +
		"--b\nContent-Type: text/plain; charset=x-no-such-charset\nContent-Transfer-Encoding: x-uuencode\n\nd\xe9j\xe0\n" +
		"--b\nContent-Type: text/plain\n\n8bit \xe9 undeclared\n" +
		"--b--\n")
	p := mustParse(t, raw)
	parts := p.Root.Parts
	if len(parts) != 4 {
		t.Fatalf("%d parts", len(parts))
	}
	texts := []string{"café", "été", "déjà", "8bit é undeclared"}
	for i, want := range texts {
		got, err := PartText(raw, parts[i])
		if err != nil || got != want {
			t.Errorf("PartText(part %d) = %q, %v; want %q", i+1, got, err, want)
		}
	}
	if _, err := DecodeBody(raw, parts[2]); !errors.Is(err, ErrUnknownEncoding) {
		t.Errorf("DecodeBody(x-uuencode) err = %v", err)
	}
	if parts[2].DecodedSize != parts[2].Size() {
		t.Errorf("unknown encoding decoded size %d, size %d", parts[2].DecodedSize, parts[2].Size())
	}
	if got, err := DecodeBody(raw, parts[3]); err != nil || string(got) != "8bit \xe9 undeclared" {
		t.Errorf("DecodeBody(7bit) = %q, %v", got, err)
	}
	if parts[1].DecodedSize != 5 || parts[0].DecodedSize != 4 {
		t.Errorf("decoded sizes %d %d", parts[0].DecodedSize, parts[1].DecodedSize)
	}
	// Offsets that do not fit the data are an error, not a panic.
	bad := &Part{BodyStart: 5, BodyEnd: int64(len(raw) + 1)}
	if _, err := DecodeBody(raw, bad); err == nil {
		t.Error("DecodeBody with bad offsets: no error")
	}
	if _, err := PartText(raw, bad); err == nil {
		t.Error("PartText with bad offsets: no error")
	}
	got := p.AllText(raw)
	if len(got) != 4 || got[0] != "café" || got[3] != "8bit é undeclared" {
		t.Errorf("AllText = %q", got)
	}
}
