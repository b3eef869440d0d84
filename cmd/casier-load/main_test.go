package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a minimal IMAP server for the client tests: it answers
// every command OK (NO for "FAIL"), announces 5 messages on SELECT, sends
// a literal in FETCH BODY responses, honours synchronising literals, and
// records the commands it received.
type fakeServer struct {
	ln       net.Listener
	literalp bool // advertise LITERAL+
	mu       sync.Mutex
	got      []string
	appended [][]byte
	wg       sync.WaitGroup
}

func startFake(t *testing.T, literalPlus bool) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, literalp: literalPlus}
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.serve(c) }()
		}
	}()
	return f
}

func (f *fakeServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	w.WriteString("* OK fake ready\r\n")
	w.Flush()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		tag, cmd, _ := strings.Cut(line, " ")
		// A command ending in a literal: read it (after "+" if synchronising).
		if i := strings.LastIndexByte(line, '{'); i >= 0 && strings.HasSuffix(line, "}") {
			num, sync := line[i+1:len(line)-1], true
			if strings.HasSuffix(num, "+") {
				num, sync = num[:len(num)-1], false
			}
			n, err := strconv.Atoi(num)
			if err != nil {
				return
			}
			if sync {
				w.WriteString("+ go ahead\r\n")
				w.Flush()
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(r, body); err != nil {
				return
			}
			if rest, _ := r.ReadString('\n'); rest != "\r\n" {
				return
			}
			f.mu.Lock()
			f.appended = append(f.appended, body)
			f.mu.Unlock()
		}
		f.mu.Lock()
		f.got = append(f.got, cmd)
		f.mu.Unlock()
		verb := strings.ToUpper(strings.Fields(cmd + " x")[0])
		switch verb {
		case "CAPABILITY":
			caps := "IMAP4rev1"
			if f.literalp {
				caps += " LITERAL+"
			}
			w.WriteString("* CAPABILITY " + caps + "\r\n")
		case "SELECT":
			w.WriteString("* 5 EXISTS\r\n* FLAGS (\\Seen)\r\n")
		case "FETCH":
			if strings.Contains(cmd, "BODY.PEEK[]") {
				w.WriteString("* 1 FETCH (BODY[] {12}\r\nline one\r\n\r\n)\r\n")
			} else {
				w.WriteString("* 1 FETCH (FLAGS ())\r\n")
			}
		case "FAIL":
			w.WriteString(tag + " NO nope\r\n")
			w.Flush()
			continue
		case "LOGOUT":
			w.WriteString("* BYE bye\r\n" + tag + " OK done\r\n")
			w.Flush()
			return
		}
		w.WriteString(tag + " OK done\r\n")
		w.Flush()
	}
}

func (f *fakeServer) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func TestClientSession(t *testing.T) {
	for _, plus := range []bool{false, true} {
		f := startFake(t, plus)
		c, err := dial(f.ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.login("al ice", `pa"ss`); err != nil {
			t.Fatal(err)
		}
		if c.caps["LITERAL+"] != plus {
			t.Fatalf("caps %v", c.caps)
		}
		if _, err := c.run("SELECT INBOX"); err != nil || c.exists != 5 {
			t.Fatalf("SELECT: %v, exists %d", err, c.exists)
		}
		line, err := c.run("FETCH 1 BODY.PEEK[]")
		if err != nil || line != "L4 OK done" {
			t.Fatalf("FETCH: %q %v", line, err)
		}
		msg := []byte("Subject: x\r\n\r\nhello\r\n")
		if _, err := c.appendMsg("INBOX", `\Seen`, msg); err != nil {
			t.Fatal(err)
		}
		_, err = c.run("FAIL now")
		var st *errStatus
		if !errors.As(err, &st) || st.line != "L6 NO nope" {
			t.Fatalf("FAIL: %v", err)
		}
		if _, err := c.run("NOOP"); err != nil {
			t.Fatalf("NOOP after NO: %v", err)
		}
		c.close()
		want := []string{`LOGIN "al ice" "pa\"ss"`, "CAPABILITY", "SELECT INBOX", "FETCH 1 BODY.PEEK[]"}
		got := f.commands()
		if fmt.Sprint(got[:4]) != fmt.Sprint(want) {
			t.Fatalf("commands %q", got)
		}
		wantAppend := `APPEND "INBOX" (\Seen) {21}`
		if plus {
			wantAppend = `APPEND "INBOX" (\Seen) {21+}`
		}
		if got[4] != wantAppend || len(f.appended) != 1 || !bytes.Equal(f.appended[0], msg) {
			t.Fatalf("append %q, bodies %q", got[4], f.appended)
		}
	}
}

func TestLiteralLen(t *testing.T) {
	for s, want := range map[string]int64{"* 1 FETCH (BODY[] {12}": 12, "{0}": 0, "* 1 FETCH (BINARY[] ~{3}": 3} {
		if n, ok := literalLen([]byte(s)); !ok || n != want {
			t.Errorf("%q: %d %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "}", "{}", "{x}", "{-1}", "* OK done", "{12", "a {1}x"} {
		if n, ok := literalLen([]byte(s)); ok {
			t.Errorf("%q: literal %d", s, n)
		}
	}
}

// TestLoadCount runs the whole mix against the fake server: the count
// bound stops it, every command is reported, none fails.
func TestLoadCount(t *testing.T) {
	f := startFake(t, true)
	var out bytes.Buffer
	code := run([]string{"-addr", f.ln.Addr().String(), "-user", "u", "-pass", "p", "-clients", "3", "-count", "200", "-duration", "30s"}, &out, &out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	var total int
	seen := map[string]bool{}
	for _, l := range strings.Split(out.String(), "\n") {
		f := strings.Fields(l)
		if len(f) != 9 || f[0] == "command" || f[0] == "target" {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		if f[2] != "0" {
			t.Fatalf("errors in %q", l)
		}
		if f[0] == "total" {
			total = n
			continue
		}
		seen[f[0]] = true
	}
	if total != 200 {
		t.Fatalf("total %d commands, want 200:\n%s", total, out.String())
	}
	for _, op := range ops {
		if !seen[op] {
			t.Errorf("%s missing from the report:\n%s", op, out.String())
		}
	}
}

func TestFill(t *testing.T) {
	f := startFake(t, false)
	var out bytes.Buffer
	if code := run([]string{"-addr", f.ln.Addr().String(), "-user", "u", "-clients", "2", "-fill", "7", "-fill-start", "3"}, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !strings.HasPrefix(out.String(), "filled 7 messages") || len(f.appended) != 7 {
		t.Fatalf("%q, %d appended", out.String(), len(f.appended))
	}
	var nums []string
	for _, m := range f.appended {
		msg, err := mail.ReadMessage(bytes.NewReader(m))
		if err != nil {
			t.Fatal(err)
		}
		nums = append(nums, strings.Fields(msg.Header.Get("Subject"))[2])
	}
	got := strings.Join(sorted(nums), " ")
	if got != "3 4 5 6 7 8 9" {
		t.Fatalf("messages %s", got)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			a, _ := strconv.Atoi(out[i])
			b, _ := strconv.Atoi(out[j])
			if b < a {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestGenMessage(t *testing.T) {
	if !bytes.Equal(genMessage(42), genMessage(42)) {
		t.Fatal("not deterministic")
	}
	for _, i := range []int{0, 1, 7, 10, 99, 100, 9999} {
		m := genMessage(i)
		if len(m) < 1500 || len(m) > 16000 {
			t.Errorf("message %d: %d bytes", i, len(m))
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got := msg.Header.Get("Message-Id"); got != fmt.Sprintf("<load%d@example.org>", i) {
			t.Errorf("message %d: Message-ID %q", i, got)
		}
		if strings.Contains(string(m), "needlework") != (i%100 == 0) {
			t.Errorf("message %d: needlework", i)
		}
		if strings.Contains(msg.Header.Get("From"), "boss@") != (i%10 == 0) {
			t.Errorf("message %d: From %q", i, msg.Header.Get("From"))
		}
		if bytes.Contains(bytes.ReplaceAll(m, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("message %d: bare LF", i)
		}
	}
}

func TestHist(t *testing.T) {
	for v := uint64(0); v < 1<<20; v += 1 + v/50 {
		b := bucketOf(v)
		if bucketHigh(b) < v || (b > 0 && bucketHigh(b-1) >= v) {
			t.Fatalf("value %d in bucket %d [.., %d], previous ends %d", v, b, bucketHigh(b), bucketHigh(b-1))
		}
	}
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 500 * time.Millisecond, 90: 900 * time.Millisecond, 99: 990 * time.Millisecond, 100: time.Second} {
		got := h.percentile(p)
		if got < want || float64(got) > float64(want)*1.04 {
			t.Errorf("p%v = %v, want %v (+4%%)", p, got, want)
		}
	}
	if h.max != time.Second || h.n != 1000 {
		t.Fatalf("max %v n %d", h.max, h.n)
	}
	var empty hist
	if empty.percentile(50) != 0 {
		t.Fatal("empty percentile")
	}
}

func TestFlags(t *testing.T) {
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-h"}, 0, "Usage: casier-load"},
		{[]string{}, 2, "-user is required"},
		{[]string{"-user", "u", "-clients", "0"}, 2, "-clients"},
		{[]string{"-user", "u", "-duration", "2h"}, 2, "-duration"},
		{[]string{"-user", "u", "-mix", "fetch-body=1,bogus=2"}, 2, `unknown command "bogus"`},
		{[]string{"-user", "u", "-mix", "noop=0"}, 2, "no command with a positive weight"},
		{[]string{"-user", "u", "-mix", "noop"}, 2, "bad entry"},
		{[]string{"-user", "u", "-addr", "192.0.2.1:143"}, 2, "not a loopback address"},
		{[]string{"-user", "u", "-addr", "[2001:db8::1]:143"}, 2, "not a loopback address"},
		{[]string{"-user", "u", "extra"}, 2, "unexpected argument"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		if code := run(c.args, &out, &out); code != c.code || !strings.Contains(out.String(), c.msg) {
			t.Errorf("%q: exit %d, output %q; want %d and %q", c.args, code, out.String(), c.code, c.msg)
		}
	}
	for _, a := range []string{"127.0.0.1:1", "[::1]:1", "127.9.9.9:1"} {
		if err := checkTarget(a, false); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
	if err := checkTarget("192.0.2.1:143", true); err != nil {
		t.Errorf("-allow-remote: %v", err)
	}
}

// FuzzResponse: server bytes are untrusted; reading any of them ends in a
// status, an error or EOF, never a panic or a hang.
func FuzzResponse(f *testing.F) {
	f.Add([]byte("* 3 EXISTS\r\n* CAPABILITY IMAP4rev1 LITERAL+\r\nL1 OK [CAPABILITY IMAP4rev2] done\r\n"))
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\nhello)\r\nL1 NO x\r\n"))
	f.Add([]byte("* 1 FETCH (BODY[] {99999999999}\r\n"))
	f.Add([]byte("* BYE\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		srv, cli := net.Pipe()
		go func() {
			srv.Write(data)
			srv.Close()
		}()
		c := newClient(cli, time.Second)
		c.response("L1")
		cli.Close()
	})
}
