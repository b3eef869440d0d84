package message

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes the parser panic and that the
// offsets contract holds for every part. It calls parse, not Parse, so the
// safety net in Parse does not hide a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{simpleMsg, altMsg, mixedMsg, nestedMsg} {
		f.Add(crlf(s))
		f.Add([]byte(s))
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=aa\r\n\r\n--aa\r\n--a--"))
	f.Add([]byte("Content-Type: message/rfc822\n\nContent-Type: multipart/digest; boundary=x\n\n--x\n\n--x--\n"))
	f.Add([]byte("To: a:b:c;<@x:y@z>,(()\"\\"))
	f.Add([]byte("Content-Type: text/plain; a*0*=x'y'%; a*1=\"\nContent-Transfer-Encoding: quoted-printable\n\n=\r\n=4"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := parse(raw)
		checkInvariants(t, raw, p.Root, 0, int64(len(raw)))
		var walk func(*Part)
		walk = func(part *Part) {
			if _, err := PartText(raw, part); err != nil {
				t.Fatalf("PartText: %v", err)
			}
			if b, err := DecodeBody(raw, part); err == nil && int64(len(b)) != part.DecodedSize {
				t.Fatalf("decoded %d bytes, DecodedSize %d", len(b), part.DecodedSize)
			}
			HeaderFields(raw[part.HeaderStart:part.BodyStart], []string{"content-type"}, false)
			for _, c := range part.Parts {
				walk(c)
			}
			if part.Message != nil {
				walk(part.Message)
			}
		}
		walk(p.Root)
		p.AllText(raw)
		p.FindPart([]int{1, 2, 1})
		DecodeHeaderValue(p.Envelope.Subject)
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}

// benchMessage builds a ~50 KB multipart/mixed message: a text/plain and
// text/html alternative, a base64 PDF-like attachment and a forwarded
// message.
func benchMessage() []byte {
	var b strings.Builder
	b.WriteString("From: \"Alice Example\" <alice@example.com>\r\nTo: bob@example.org, Carol <carol@example.net>\r\n" +
		"Subject: =?UTF-8?Q?Quarterly_report_=E2=80=94_draft?=\r\nDate: Mon, 6 May 2024 09:30:00 +0200\r\n" +
		"Message-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"=_outer_boundary\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n" +
		"--=_outer_boundary\r\nContent-Type: multipart/alternative; boundary=\"=_alt_boundary\"\r\n\r\n" +
		"--=_alt_boundary\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&b, "Line %d of the report: caf=C3=A9, na=C3=AFve, r=C3=A9sum=C3=A9 and more words here.\r\n", i)
	}
	b.WriteString("--=_alt_boundary\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n")
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&b, "<p>Line %d of the report: caf&eacute;, na&iuml;ve and more words here.</p>\r\n", i)
	}
	b.WriteString("</body></html>\r\n--=_alt_boundary--\r\n\r\n" +
		"--=_outer_boundary\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	data := make([]byte, 26000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--=_outer_boundary\r\nContent-Type: message/rfc822\r\n\r\n" +
		"From: dave@example.com\r\nSubject: original\r\nContent-Type: text/plain\r\n\r\nThe original message.\r\n" +
		"--=_outer_boundary--\r\n")
	return []byte(b.String())
}

func TestBenchMessage(t *testing.T) {
	raw := benchMessage()
	if len(raw) < 45000 || len(raw) > 55000 {
		t.Fatalf("bench message is %d bytes", len(raw))
	}
	p := mustParse(t, raw)
	if len(p.Root.Parts) != 3 || len(p.Root.Parts[0].Parts) != 2 || p.Root.Parts[1].DecodedSize != 26000 {
		t.Fatalf("bench structure: %d parts", len(p.Root.Parts))
	}
	if !strings.HasPrefix(p.Preview, "Line 0 of the report: café, naïve") {
		t.Fatalf("preview %q", p.Preview)
	}
}

func BenchmarkParse(b *testing.B) {
	raw := benchMessage()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHostileLinear feeds inputs that would take minutes if a scan were
// quadratic; it fails by timing out.
func TestHostileLinear(t *testing.T) {
	html := strings.Repeat("<head>", 300000)
	if got := stripHTML(html); strings.TrimSpace(got) != "" {
		t.Fatalf("stripHTML kept %q", got[:10])
	}
	words := strings.Repeat("=?", 300000)
	if got := DecodeHeaderValue(words); got != words {
		t.Fatal("DecodeHeaderValue changed a value without encoded-words")
	}
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=a\r\n\r\n")
	for i := 0; i < 200000; i++ {
		b.WriteString("--ab\r\n")
	}
	raw := []byte(b.String())
	p := mustParse(t, raw)
	if p.Root.Type != "text" {
		t.Fatalf("root %s", p.Root.Type)
	}
	raw = crlf("To: " + strings.Repeat("a:(", 100000) + "\n\n")
	mustParse(t, raw)
}
