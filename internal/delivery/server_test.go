package delivery

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

const testMsg = "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: hi\r\n\r\nHello.\r\n.starts with a dot\r\n"

// stuffed is testMsg as sent over the wire (RFC 5321 4.5.2).
const stuffed = "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: hi\r\n\r\nHello.\r\n..starts with a dot\r\n"

// TestTransactionCodes runs one transaction with every kind of recipient
// and checks each reply and each stored copy byte for byte.
func TestTransactionCodes(t *testing.T) {
	e := newTestEnv(t)
	c := dial(t, e.Addr)
	c.lhlo(64<<20 - traceReserve)
	c.send("MAIL FROM:<bob@example.net> BODY=8BITMIME SIZE=120")
	c.expect("250 2.1.0 OK")
	rcpts := []struct{ to, reply string }{
		{"alice@example.org", "250 2.1.5 OK"},
		{"nobody@example.org", "550 5.1.1 <nobody@example.org> no such user"},
		{"Bob@Example.NET", "250 2.1.5 OK"},
		{"alice", "250 2.1.5 OK"},
		{"alice+Work@example.org", "250 2.1.5 OK"},
		{"alice+Lists/Go@example.org", "250 2.1.5 OK"},
		{"alice+work@example.org", "250 2.1.5 OK"}, // folder names are case-sensitive: INBOX
		{"alice+inbox@example.org", "250 2.1.5 OK"},
		{"alice@other.example", "550 5.1.2 <alice@other.example> domain not served here"},
		{"Postmaster", "550 5.1.1 <Postmaster> no such user"},
	}
	for _, r := range rcpts {
		c.send("RCPT TO:<" + r.to + ">")
		c.expect(r.reply)
	}
	c.send("DATA")
	c.expect("354 go ahead, end with <CRLF>.<CRLF>")
	c.sendRaw(stuffed + ".\r\n")
	c.expect(
		"250 2.0.0 <alice@example.org> delivered",
		"250 2.0.0 <Bob@Example.NET> delivered",
		"250 2.0.0 <alice> delivered",
		"250 2.0.0 <alice+Work@example.org> delivered",
		"250 2.0.0 <alice+Lists/Go@example.org> delivered",
		"250 2.0.0 <alice+work@example.org> delivered",
		"250 2.0.0 <alice+inbox@example.org> delivered",
	)
	c.send("QUIT")
	c.expect("221 2.0.0 mx.test closing connection")

	copyFor := func(to string) string {
		return "Return-Path: <bob@example.net>\r\nDelivered-To: " + to + "\r\n" + testMsg
	}
	check := func(user, mailbox string, want ...string) {
		t.Helper()
		got := bodies(t, e.Store, user, mailbox)
		if len(got) != len(want) {
			t.Fatalf("%s/%s: %d messages, want %d: %q", user, mailbox, len(got), len(want), got)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s/%s message %d:\n got %q\nwant %q", user, mailbox, i+1, got[i], want[i])
			}
		}
	}
	check("alice", "INBOX", copyFor("alice@example.org"), copyFor("alice"), copyFor("alice+work@example.org"), copyFor("alice+inbox@example.org"))
	check("alice", "Work", copyFor("alice+Work@example.org"))
	check("alice", "Lists/Go", copyFor("alice+Lists/Go@example.org"))
	check("bob", "INBOX", copyFor("Bob@Example.NET"))

	logs := e.Logs.String()
	for _, want := range []string{
		`msg="lmtp delivery" remote=127.0.0.1:`,
		`from=bob@example.net to=alice+Lists/Go@example.org user=alice mailbox=Lists/Go size=95 result="250 2.0.0" uid=1`,
		`msg="lmtp rcpt refused"`,
		`to=nobody@example.org result="550 5.1.1"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if n := len(testMsg); n != 95 {
		t.Fatalf("testMsg is %d octets; fix the log expectation", n)
	}
}

// TestGoSMTPClient drives the server with go-smtp's LMTP client: the
// per-recipient results of one DATA, including a refused recipient in
// the same transaction.
func TestGoSMTPClient(t *testing.T) {
	e := newTestEnv(t)
	nc, err := net.Dial("tcp", e.Addr)
	if err != nil {
		t.Fatal(err)
	}
	cl := smtp.NewClientLMTP(nc)
	defer cl.Close()
	if err := cl.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, v := cl.Extension("SIZE"); !ok || v != "67107840" {
		t.Errorf("SIZE extension %v %q", ok, v)
	}
	if err := cl.Mail("", nil); err != nil { // null sender (bounces)
		t.Fatal(err)
	}
	for _, to := range []string{"alice@example.org", "bob@example.org"} {
		if err := cl.Rcpt(to, nil); err != nil {
			t.Fatalf("RCPT %s: %v", to, err)
		}
	}
	var se *smtp.SMTPError
	err = cl.Rcpt("carol@example.org", nil)
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
		t.Fatalf("RCPT carol: %v", err)
	}
	err = cl.Rcpt("bob@example.com", nil)
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 2}) {
		t.Fatalf("RCPT bob@example.com: %v", err)
	}
	w, err := cl.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(testMsg)); err != nil {
		t.Fatal(err)
	}
	resp, err := w.CloseWithLMTPResponse()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if len(resp) != 2 || resp["alice@example.org"].StatusText != "2.0.0 <alice@example.org> delivered" ||
		resp["bob@example.org"].StatusText != "2.0.0 <bob@example.org> delivered" {
		for k, v := range resp {
			t.Logf("%s: %q", k, v.StatusText)
		}
		t.Fatal("responses differ")
	}
	if err := cl.Quit(); err != nil {
		t.Fatal(err)
	}
	got := bodies(t, e.Store, "bob", "INBOX")
	if want := "Return-Path: <>\r\nDelivered-To: bob@example.org\r\n" + testMsg; len(got) != 1 || got[0] != want {
		t.Fatalf("bob's INBOX %q", got)
	}
}

// TestTooBig checks SIZE: declared too big at MAIL, exactly the limit
// (accepted), and one octet more (refused for every recipient after DATA,
// the connection staying usable).
func TestTooBig(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxMessageSize = 2048 })
	limit := int64(2048 - traceReserve)
	c := dial(t, e.Addr)
	c.lhlo(limit)
	c.send("MAIL FROM:<bob@example.net> SIZE=1025")
	c.expect("552 5.3.4 message size exceeds fixed maximum of 1024")

	body := func(n int) string {
		h := "Subject: big\r\n\r\n"
		return h + strings.Repeat("x", n-len(h)-2) + "\r\n"
	}
	c.send("MAIL FROM:<bob@example.net> SIZE=1024", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>", "DATA")
	c.expect("250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK", "354 go ahead, end with <CRLF>.<CRLF>")
	c.sendRaw(body(1025) + ".\r\n")
	c.expect("552 5.3.4 <alice@example.org> message too big", "552 5.3.4 <bob@example.org> message too big")
	c.send("NOOP")
	c.expect("250 2.0.0 OK")

	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	c.expect("250 2.1.0 OK", "250 2.1.5 OK", "354 go ahead, end with <CRLF>.<CRLF>")
	c.sendRaw(body(1024) + ".\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered")
	got := bodies(t, e.Store, "alice", "INBOX")
	if len(got) != 1 || got[0] != "Return-Path: <bob@example.net>\r\nDelivered-To: alice@example.org\r\n"+body(1024) {
		t.Fatalf("INBOX: %d messages", len(got))
	}
	if !strings.Contains(e.Logs.String(), `to=bob@example.org user=bob mailbox=INBOX size=1025 result="552 5.3.4"`) {
		t.Errorf("log:\n%s", e.Logs.String())
	}
}

// TestSequenceAndSyntax checks the replies outside the happy path.
func TestSequenceAndSyntax(t *testing.T) {
	e := newTestEnv(t)
	c := dial(t, e.Addr)
	c.send("MAIL FROM:<bob@example.net>")
	c.expect("503 5.5.1 bad sequence of commands")
	c.send("EHLO client.test", "HELO client.test", "LHLO")
	c.expect("500 5.5.1 this is an LMTP server: use LHLO", "500 5.5.1 this is an LMTP server: use LHLO", "501 5.5.4 LHLO wants a host name")
	c.lhlo(64<<20 - traceReserve)
	c.send("RCPT TO:<alice@example.org>", "DATA")
	c.expect("503 5.5.1 bad sequence of commands", "503 5.5.1 no valid recipients")
	c.send("MAIL FROM:bob@example.net", "MAIL FROM:<bob@example.net> AUTH=<>", "MAIL FROM:<bob@example.net> BODY=BINARYMIME")
	c.expect("501 5.1.7 bad sender address: want <address>", "555 5.5.4 unsupported parameter AUTH", "501 5.5.4 bad BODY parameter")
	c.send("MAIL FROM:<bøb@example.net>")
	c.expect("553 5.6.7 non-ASCII sender address without SMTPUTF8")
	c.send("MAIL FROM:<bob@example.net>", "MAIL FROM:<bob@example.net>")
	c.expect("250 2.1.0 OK", "503 5.5.1 bad sequence of commands")
	c.send("RCPT TO:<nobody@example.org>", "DATA")
	c.expect("550 5.1.1 <nobody@example.org> no such user", "503 5.5.1 no valid recipients")
	c.send("RCPT TO:<alice@example.org> NOTIFY=NEVER", "RCPT TO:<>", "RCPT TO:<al ice@example.org>", "RCPT TO:<alïce@example.org>")
	c.expect("555 5.5.4 unsupported parameter NOTIFY", "501 5.1.3 bad recipient address: empty address",
		"501 5.1.3 bad recipient address: character ' ' not allowed in a local part",
		"553 5.6.7 non-ASCII recipient address without SMTPUTF8")
	c.send("RCPT TO:<" + strings.Repeat("a", 250) + "@example.org>")
	c.expect("501 5.1.3 bad recipient address: address too long")
	c.send("RSET", "VRFY alice", "NOOP", "FOO")
	c.expect("250 2.0.0 OK", "252 2.5.2 cannot VRFY; send the message and we will try", "250 2.0.0 OK", "500 5.5.1 command not recognized")
	c.send(strings.Repeat("N", maxCommandLine+10))
	c.expect("500 5.5.2 line too long")
	c.send("RCPT TO:<alice@example.org>")
	c.expect("503 5.5.1 bad sequence of commands")
	// A source route is dropped (RFC 5321 C); SMTPUTF8 allows a UTF-8 sender.
	c.send("MAIL FROM:<@relay.example:bøb@example.net> SMTPUTF8", "RCPT TO:<@relay.example,@b.example:alice@example.org>", "DATA")
	c.expect("250 2.1.0 OK", "250 2.1.5 OK", "354 go ahead, end with <CRLF>.<CRLF>")
	c.sendRaw("Subject: x\r\n\r\n.\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered")
	got := bodies(t, e.Store, "alice", "INBOX")
	if len(got) != 1 || got[0] != "Return-Path: <bøb@example.net>\r\nDelivered-To: alice@example.org\r\nSubject: x\r\n\r\n" {
		t.Fatalf("INBOX %q", got)
	}
}

// TestEmptyDomainList: with no domain list, any domain maps by local part.
func TestEmptyDomainList(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Domains = nil })
	c := dial(t, e.Addr)
	c.lhlo(64<<20 - traceReserve)
	c.send("MAIL FROM:<>", "RCPT TO:<ALICE@anything.example>", "RCPT TO:<bob@[127.0.0.1]>", "RCPT TO:<carol@example.org>", "DATA")
	c.expect("250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK", "550 5.1.1 <carol@example.org> no such user", "354 go ahead, end with <CRLF>.<CRLF>")
	c.sendRaw("\r\n.\r\n")
	c.expect("250 2.0.0 <ALICE@anything.example> delivered", "250 2.0.0 <bob@[127.0.0.1]> delivered")
	if got := bodies(t, e.Store, "alice", "INBOX"); len(got) != 1 || got[0] != "Return-Path: <>\r\nDelivered-To: ALICE@anything.example\r\n\r\n" {
		t.Fatalf("alice %q", got)
	}
}

// TestPipelineAndDuplicates sends a whole transaction in one write
// (RFC 2920) naming a recipient twice: one copy, two replies.
func TestPipelineAndDuplicates(t *testing.T) {
	e := newTestEnv(t)
	c := dial(t, e.Addr)
	c.sendRaw("LHLO x\r\nMAIL FROM:<bob@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
	c.expect("250-mx.test", "250-PIPELINING", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-SMTPUTF8", "250 SIZE 67107840",
		"250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK", "354 go ahead, end with <CRLF>.<CRLF>")
	c.sendRaw("Subject: dup\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered", "250 2.0.0 <alice@example.org> delivered",
		"250 2.0.0 OK", "221 2.0.0 mx.test closing connection")
	if got := bodies(t, e.Store, "alice", "INBOX"); len(got) != 1 {
		t.Fatalf("%d copies", len(got))
	}
}

// TestSpillToFile: a message larger than MemoryLimit, with a line longer
// than the read buffer, goes through a temporary file, is stored exactly,
// and the file is removed.
func TestSpillToFile(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MemoryLimit = 1000 })
	long := strings.Repeat("y", 3*readBufSize+7)
	msg := "Subject: long\r\n\r\n" + long + "\r\n.\r\n" + strings.Repeat("line\r\n", 500)
	wire := strings.ReplaceAll(msg, "\r\n.\r\n", "\r\n..\r\n")
	c := dial(t, e.Addr)
	c.send("LHLO x")
	for c.line() != "250 SIZE 67107840" {
	}
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>", "DATA")
	c.expect("250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK", "354 go ahead, end with <CRLF>.<CRLF>")
	c.sendRaw(wire + ".\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered", "250 2.0.0 <bob@example.org> delivered")
	for _, u := range []string{"alice", "bob"} {
		got := bodies(t, e.Store, u, "INBOX")
		want := "Return-Path: <bob@example.net>\r\nDelivered-To: " + u + "@example.org\r\n" + msg
		if len(got) != 1 || got[0] != want {
			t.Fatalf("%s: stored copy differs (%d messages)", u, len(got))
		}
	}
	left, _ := os.ReadDir(e.Temp)
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// TestShutdown: an idle connection gets 421 at once; one in the middle of
// DATA finishes it, gets its replies, then 421.
func TestShutdown(t *testing.T) {
	e := newTestEnv(t)
	idle := dial(t, e.Addr)
	idle.lhlo(64<<20 - traceReserve)
	busy := dial(t, e.Addr)
	busy.send("LHLO x", "MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	for busy.line() != "354 go ahead, end with <CRLF>.<CRLF>" {
	}
	busy.sendRaw("Subject: during shutdown\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // let the server block inside DATA
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		done <- e.Srv.Shutdown(ctx)
	}()
	idle.expect("421 4.3.2 mx.test shutting down")
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned during DATA: %v", err)
	default:
	}
	busy.sendRaw("still here\r\n.\r\n")
	busy.expect("250 2.0.0 <alice@example.org> delivered", "421 4.3.2 mx.test shutting down")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := bodies(t, e.Store, "alice", "INBOX"); len(got) != 1 || !strings.HasSuffix(got[0], "still here\r\n") {
		t.Fatalf("INBOX %q", got)
	}
	if _, err := net.Dial("tcp", e.Addr); err == nil {
		t.Fatal("listener still open after Shutdown")
	}
}

// TestUnixSocket: Listen("unix:...") serves, and replaces a stale socket.
func TestUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "lmtp") // short path: sun_path is 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "lmtp.sock")
	ln, err := Listen("unix:" + p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("unix:" + p); err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Fatalf("second Listen: %v", err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o666 {
		t.Fatalf("socket mode %v %v", fi.Mode(), err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves a stale socket file
	ln, err = Listen("unix:" + p)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("220 ok\r\n"))
			c.Close()
		}
	}()
	c, err := net.Dial("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 8)
	if n, _ := c.Read(buf); string(buf[:n]) != "220 ok\r\n" {
		t.Fatalf("read %q", buf[:n])
	}
}
