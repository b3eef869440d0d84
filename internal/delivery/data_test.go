package delivery

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/store/sqlite"
)

// dotStuff is the client side of RFC 5321 4.5.2 for content that ends
// with CRLF (or is empty).
func dotStuff(content string) string {
	var b strings.Builder
	start := true
	for i := 0; i < len(content); i++ {
		if start && content[i] == '.' {
			b.WriteByte('.')
		}
		b.WriteByte(content[i])
		start = content[i] == '\n' && i > 0 && content[i-1] == '\r'
	}
	return b.String()
}

func TestReadData(t *testing.T) {
	for _, tc := range []struct{ wire, want, rest string }{
		{".\r\nNEXT", "", "NEXT"},
		{"a\r\n.\r\n", "a\r\n", ""},
		{"..\r\n...x\r\n.\r\n", ".\r\n..x\r\n", ""},
		// A "." line after a bare LF is content, not the end (smuggling).
		{"a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", "a\n.\r\nMAIL FROM:<x@y>\r\n", ""},
		{"a\r\n.\n.\r\n\r\n.\r\n", "a\r\n\n.\r\n\r\n", ""},
		{"a\r.\r\n\r\n.\r\n", "a\r.\r\n\r\n", ""},
		{"no end", "", ""},
	} {
		r := bufio.NewReaderSize(strings.NewReader(tc.wire), 16)
		var out bytes.Buffer
		n, tooBig, err := readData(r, &out, 1<<20, nil)
		if tc.wire == "no end" {
			if err != io.ErrUnexpectedEOF {
				t.Errorf("%q: err %v", tc.wire, err)
			}
			continue
		}
		rest, _ := io.ReadAll(r)
		if err != nil || tooBig || out.String() != tc.want || n != int64(len(tc.want)) || string(rest) != tc.rest {
			t.Errorf("%q: got %q n=%d tooBig=%v err=%v rest %q; want %q rest %q", tc.wire, out.String(), n, tooBig, err, rest, tc.want, tc.rest)
		}
	}
	// Long lines across buffer boundaries, with the CR and LF split.
	for _, l := range []int{14, 15, 16, 17, 31, 32, 33} {
		content := "." + strings.Repeat("z", l) + "\r\n." + strings.Repeat("q", l) + "\r\n"
		r := bufio.NewReaderSize(strings.NewReader(dotStuff(content)+".\r\n"), 16)
		var out bytes.Buffer
		if _, _, err := readData(r, &out, 1<<20, nil); err != nil || out.String() != content {
			t.Errorf("len %d: got %q, %v", l, out.String(), err)
		}
	}
	// Too big: everything is read, nothing past max is written.
	r := bufio.NewReader(strings.NewReader("12345\r\n678\r\n.\r\nQUIT\r\n"))
	var out bytes.Buffer
	n, tooBig, err := readData(r, &out, 8, nil)
	rest, _ := io.ReadAll(r)
	if err != nil || !tooBig || n != 12 || out.String() != "12345\r\n" || string(rest) != "QUIT\r\n" {
		t.Errorf("too big: n=%d tooBig=%v err=%v out %q rest %q", n, tooBig, err, out.String(), rest)
	}
}

func FuzzReadData(f *testing.F) {
	for _, s := range []string{"", "a\r\n", ".\r\n", "..\r\n.x\n.\r", "\r\n\r\n.\r\n", strings.Repeat("long", 20)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Arbitrary input: no panic, never more content than input.
		r := bufio.NewReaderSize(strings.NewReader(s), 16)
		var out bytes.Buffer
		n, _, _ := readData(r, &out, 64, nil)
		if n > int64(len(s)) || int64(out.Len()) > n {
			t.Fatalf("n=%d out=%d for %d input octets", n, out.Len(), len(s))
		}
		// Round trip: stuffed content comes back exactly.
		content := s
		if content != "" && !strings.HasSuffix(content, "\r\n") {
			content += "\r\n"
		}
		r = bufio.NewReaderSize(strings.NewReader(dotStuff(content)+".\r\nTAIL"), 16)
		out.Reset()
		n, tooBig, err := readData(r, &out, 1<<20, nil)
		rest, _ := io.ReadAll(r)
		if err != nil || tooBig || out.String() != content || n != int64(len(content)) || string(rest) != "TAIL" {
			t.Fatalf("round trip of %q: got %q err=%v rest %q", content, out.String(), err, rest)
		}
	})
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		raw, local, domain string
		rest               string
		bad                bool
	}{
		{in: "<>", raw: ""},
		{in: "<alice@Example.ORG> SIZE=1", raw: "alice@Example.ORG", local: "alice", domain: "example.org", rest: " SIZE=1"},
		{in: "<alice>", raw: "alice", local: "alice"},
		{in: `<"a b\"c"@example.org>`, raw: `"a b\"c"@example.org`, local: `a b"c`, domain: "example.org"},
		{in: "<@x,@y:u+d@z>", raw: "u+d@z", local: "u+d", domain: "z"},
		{in: "alice@example.org", bad: true},
		{in: "<alice@example.org", bad: true},
		{in: "<alice@>", bad: true},
		{in: "<@example.org>", bad: true},
		{in: "<a\x01b@example.org>", bad: true},
		{in: `<"a` + "\r" + `b"@example.org>`, bad: true},
		{in: "<\xff@example.org>", bad: true},
	} {
		p, rest, err := parsePath(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if !tc.bad && (p.raw != tc.raw || p.local != tc.local || p.domain != tc.domain || rest != tc.rest) {
			t.Errorf("%q: got %+v rest %q", tc.in, p, rest)
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"<>", "<a@b>", `<"x\"y"@z> A=B`, "<@r:a@b>", "<a+b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _, err := parsePath(s)
		if err != nil {
			return
		}
		if len(p.raw) > maxPathLen || strings.ContainsAny(p.raw, "\r\n\x00") || (p.raw != "" && p.local == "") {
			t.Fatalf("%q parsed to %+v", s, p)
		}
	})
}

// FuzzConn feeds arbitrary bytes to a connection in every state it can
// reach; the server must not panic (a recovered panic is logged).
func FuzzConn(f *testing.F) {
	for _, s := range []string{
		"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
		"LHLO x\r\nMAIL FROM:<> SIZE=99999999999999999999\r\nRCPT TO:<\"\r\n",
		"lhlo x\nmail from:<a@b> smtputf8=1\nrcpt to:<alice+x/y@example.org>\ndata\n.\r\n",
	} {
		f.Add(s)
	}
	st, err := sqlite.Open(f.TempDir(), sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateUser(context.Background(), "alice", "x"); err != nil {
		f.Fatal(err)
	}
	logs := &lockedBuffer{}
	srv := New(Options{Timeout: time.Second, MaxMessageSize: 4096, TempDir: f.TempDir(),
		Logger: slog.New(slog.NewTextHandler(logs, nil))}, st)
	f.Fuzz(func(t *testing.T, s string) {
		a, b := net.Pipe()
		c := newConn(srv, a)
		done := make(chan struct{})
		go func() { c.serve(); close(done) }()
		go io.Copy(io.Discard, b)
		b.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(b, s)
		b.Close()
		<-done
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("panic:\n%s", logs.String())
		}
	})
}
