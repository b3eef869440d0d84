package message

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPreview(t *testing.T) {
	long := strings.Repeat("é", 300)
	cases := []struct {
		name string
		msg  string
		want string
	}{
		{"collapse", "Subject: x\n\n  Hello,\n\n\tworld \u00a0 again  \n", "Hello, world again"},
		{"truncate", "Content-Type: text/plain; charset=utf-8\n\n" + long + "\n", strings.Repeat("é", 256)},
		{"html only", "Content-Type: text/html\n\n<!DOCTYPE html><html><head><title>Title</title>\n<style>body{color:red}</style></head>" +
			"<body><!-- hidden --><p>Hello&nbsp;<b>W</b>orld &amp; <a href=\"x>y\">friends</a></p><script>var a='<p>';</script>" +
			"<div>Bye &lt;3</div></body></html>\n", "Hello World & friends Bye <3"},
		{"attachment skipped", `Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain
Content-Disposition: attachment; filename=a.txt

attached text
--b
Content-Type: text/plain

the body
--b--
`, "the body"},
		{"plain preferred over html", `Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/html

<p>html version</p>
--b
Content-Type: text/plain

plain version
--b--
`, "plain version"},
		{"empty plain falls through", `Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

   
--b
Content-Type: text/plain

second
--b--
`, "second"},
		{"no text", "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n", ""},
		{"forwarded message not used", `Content-Type: multipart/mixed; boundary=b

--b
Content-Type: message/rfc822

Subject: inner

inner text
--b--
`, ""},
		{"base64 latin1", "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\nQ2Fm6SBub2ly\n", "Café noir"},
		{"controls dropped", "Content-Type: text/plain\n\na\x00b\x1bc\u200bd\n", "abcd"},
	}
	for _, c := range cases {
		raw := crlf(c.msg)
		p := mustParse(t, raw)
		if p.Preview != c.want {
			t.Errorf("%s: preview %q, want %q", c.name, p.Preview, c.want)
		}
		if n := utf8.RuneCountInString(p.Preview); n > 256 {
			t.Errorf("%s: preview has %d characters", c.name, n)
		}
	}
}

func TestCollapseSpaceBoundary(t *testing.T) {
	// A space is never left at the end when the limit is reached.
	s := strings.Repeat("a", 255) + " b"
	if got := collapseSpace(s, 256); got != strings.Repeat("a", 255) {
		t.Fatalf("got %q (%d)", got, len(got))
	}
	if got := collapseSpace("  x  ", 256); got != "x" {
		t.Fatalf("got %q", got)
	}
}

func TestStripHTML(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a < b", "a < b"},
		{"<p>x</p><p>y</p>", " x  y "},
		{"<B>bo</B>ld", "bold"},
		{"<head><meta charset=utf-8>no close", "  no close"},
		{"x<style>unclosed", "x "},
		{"&eacute;&#233;&#xE9;", "ééé"},
		{"<!-- unclosed comment", ""},
		{"<img alt='it>s' src=x>after", " after"},
	}
	for _, c := range cases {
		if got := stripHTML(c.in); got != c.want {
			t.Errorf("stripHTML(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
