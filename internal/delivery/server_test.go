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
	c.lhlo(defaultSize)
	c.send("MAIL FROM:<bob@example.net> BODY=8BITMIME SIZE=120")
	c.expect(mailOK("bob@example.net"))
	badPath := "501 5.5.2 Was expecting RCPT arg syntax of TO:<address>"
	rcpts := []struct{ to, reply string }{
		{"alice@example.org", rcptOK("alice@example.org")},
		{"nobody@example.org", "550 5.1.1 <nobody@example.org> no such user"},
		{"Bob@Example.NET", rcptOK("Bob@Example.NET")},
		// go-smtp wants a domain; the account "alice" is reached as
		// alice@ any listed domain.
		{"alice", badPath},
		{"Postmaster", badPath},
		{"alice+Work@example.org", rcptOK("alice+Work@example.org")},
		{"alice+Lists/Go@example.org", rcptOK("alice+Lists/Go@example.org")},
		{"alice+work@example.org", rcptOK("alice+work@example.org")}, // folder names are case-sensitive: INBOX
		{"alice+inbox@example.org", rcptOK("alice+inbox@example.org")},
		{`"alice"@example.net`, rcptOK("alice@example.net")}, // go-smtp unquotes
		{"alice@other.example", "550 5.1.2 <alice@other.example> domain not served here"},
	}
	for _, r := range rcpts {
		c.send("RCPT TO:<" + r.to + ">")
		c.expect(r.reply)
	}
	c.send("DATA")
	c.expect(goAhead)
	c.sendRaw(stuffed + ".\r\n")
	c.expect(
		"250 2.0.0 <alice@example.org> delivered",
		"250 2.0.0 <Bob@Example.NET> delivered",
		"250 2.0.0 <alice+Work@example.org> delivered",
		"250 2.0.0 <alice+Lists/Go@example.org> delivered",
		"250 2.0.0 <alice+work@example.org> delivered",
		"250 2.0.0 <alice+inbox@example.org> delivered",
		"250 2.0.0 <alice@example.net> delivered",
	)
	c.send("QUIT")
	c.expect(bye)

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
	check("alice", "INBOX", copyFor("alice@example.org"), copyFor("alice+work@example.org"), copyFor("alice+inbox@example.org"), copyFor("alice@example.net"))
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
	if ok, v := cl.Extension("SIZE"); !ok || v != "67107841" {
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

// sizedBody is a message of exactly n octets.
func sizedBody(n int) string {
	h := "Subject: big\r\n\r\n"
	return h + strings.Repeat("x", n-len(h)-2) + "\r\n"
}

// TestTooBig checks the size limit at both edges, with DATA and BDAT:
// SizeLimit octets are stored, one more is refused with 552 5.3.4 for
// every recipient, the connection staying usable. go-smtp advertises
// SizeLimit+1 and refuses a larger MAIL SIZE itself; MAIL SIZE=SizeLimit+1
// is refused by the session.
func TestTooBig(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxMessageSize = 2048 })
	limit := 2048 - traceReserve
	if e.Srv.SizeLimit() != int64(limit) {
		t.Fatalf("SizeLimit %d", e.Srv.SizeLimit())
	}
	c := dial(t, e.Addr)
	c.lhlo(int64(limit) + 1)
	c.send("MAIL FROM:<bob@example.net> SIZE=1026", "MAIL FROM:<bob@example.net> SIZE=1025")
	c.expect("552 5.3.4 Max message size exceeded", "552 5.3.4 message size exceeds fixed maximum of 1024")

	c.send("MAIL FROM:<bob@example.net> SIZE=1024", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>", "DATA")
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), rcptOK("bob@example.org"), goAhead)
	c.sendRaw(sizedBody(limit+1) + ".\r\n")
	c.expect("552 5.3.4 <alice@example.org> message too big", "552 5.3.4 <bob@example.org> message too big")
	c.send("NOOP")
	c.expect("250 2.0.0 I have successfully done nothing")

	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), goAhead)
	c.sendRaw(sizedBody(limit) + ".\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered")

	// BDAT (RFC 3030): go-smtp's own check lets SizeLimit+1 through;
	// the session refuses it.
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "BDAT "+itoa(int64(limit+1))+" LAST")
	c.sendRaw(sizedBody(limit + 1))
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), "552 5.3.4 <alice@example.org> message too big")
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "BDAT 100")
	c.sendRaw(sizedBody(100))
	c.send("BDAT " + itoa(int64(limit-100)) + " LAST")
	c.sendRaw(sizedBody(limit - 100))
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), "250 2.0.0 Continue", "250 2.0.0 <alice@example.org> delivered")

	trace := "Return-Path: <bob@example.net>\r\nDelivered-To: alice@example.org\r\n"
	got := bodies(t, e.Store, "alice", "INBOX")
	if len(got) != 2 || got[0] != trace+sizedBody(limit) || got[1] != trace+sizedBody(100)+sizedBody(limit-100) {
		t.Fatalf("INBOX: %d messages", len(got))
	}
	if !strings.Contains(e.Logs.String(), `to=bob@example.org user=bob mailbox=INBOX size=1025 result="552 5.3.4"`) {
		t.Errorf("log:\n%s", e.Logs.String())
	}
}

// TestLineTooLong: a line over MaxLineLength, in a message or as a
// command, gets 500 and go-smtp closes the connection.
func TestLineTooLong(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxLineLength = 100 })
	c := dial(t, e.Addr)
	c.lhlo(defaultSize)
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), goAhead)
	c.sendRaw("Subject: x\r\n\r\n" + strings.Repeat("z", 150) + "\r\n.\r\n")
	c.expect("500 5.5.2 <alice@example.org> line longer than 100 octets", "500 5.4.0 Too long line, closing connection")
	c.expectEOF()

	c = dial(t, e.Addr)
	c.send("LHLO " + strings.Repeat("h", 150))
	c.expect("500 5.4.0 Too long line, closing connection")
	c.expectEOF()
	if got := bodies(t, e.Store, "alice", "INBOX"); len(got) != 0 {
		t.Fatalf("INBOX %q", got)
	}
}

// TestSequenceAndSyntax checks the replies outside the happy path.
func TestSequenceAndSyntax(t *testing.T) {
	e := newTestEnv(t)
	c := dial(t, e.Addr)
	c.send("MAIL FROM:<bob@example.net>")
	c.expect("502 5.5.1 Please introduce yourself first.")
	c.send("EHLO client.test", "HELO client.test", "LHLO")
	c.expect("500 5.5.1 This is a LMTP server, use LHLO", "500 5.5.1 This is a LMTP server, use LHLO",
		"501 5.5.2 Domain/address argument required for HELO")
	c.lhlo(defaultSize)
	c.send("RCPT TO:<alice@example.org>", "DATA")
	c.expect("502 5.5.1 Missing MAIL FROM command.", "502 5.5.1 Missing RCPT TO command.")
	c.send("MAIL FROM:<bob@example.net> FOO=1", "MAIL FROM:<bob@example.net> BODY=BINARYMIME", "MAIL FROM:<bob@ex<ample.net>")
	c.expect("500 5.5.4 Unknown MAIL FROM argument", "504 5.5.4 BINARYMIME is not implemented",
		"501 5.1.7 bad sender address: bad domain")
	c.send("MAIL FROM:<bøb@example.net>")
	c.expect("553 5.6.7 non-ASCII sender address without SMTPUTF8")
	c.send("MAIL FROM:<bob@example.net>", "MAIL FROM:<bob@example.net>")
	c.expect(mailOK("bob@example.net"), "503 5.5.1 nested MAIL command")
	c.send("RCPT TO:<nobody@example.org>", "DATA")
	c.expect("550 5.1.1 <nobody@example.org> no such user", "502 5.5.1 Missing RCPT TO command.")
	c.send("RCPT TO:<alice@example.org> NOTIFY=NEVER", "RCPT TO:<>", "RCPT TO:<alïce@example.org>", "RCPT TO:<a\x01b@example.org>")
	c.expect("504 5.5.4 NOTIFY is not implemented", "501 5.5.2 Was expecting RCPT arg syntax of TO:<address>",
		"553 5.6.7 non-ASCII recipient address without SMTPUTF8",
		"501 5.1.3 bad recipient address: control character in address")
	c.send("RCPT TO:<" + strings.Repeat("a", 250) + "@example.org>")
	c.expect("501 5.1.3 bad recipient address: address too long")
	c.send("RSET", "VRFY alice", "NOOP", "FOOO")
	c.expect("250 2.0.0 Session reset", "252 2.5.0 Cannot VRFY user, but will accept message",
		"250 2.0.0 I have successfully done nothing", "500 5.5.2 Syntax errors, FOOO command unrecognized")
	c.send("RCPT TO:<alice@example.org>")
	c.expect("502 5.5.1 Missing MAIL FROM command.")
	// A source route is dropped (RFC 5321 C); SMTPUTF8 allows a UTF-8 sender.
	c.send("MAIL FROM:<@relay.example:bøb@example.net> SMTPUTF8", "RCPT TO:<@relay.example,@b.example:alice@example.org>", "DATA")
	c.expect(mailOK("bøb@example.net"), rcptOK("alice@example.org"), goAhead)
	c.sendRaw("Subject: x\r\n\r\n.\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered")
	// A quoted local part is quoted again in Return-Path.
	c.send(`MAIL FROM:<"bob \"the\" smith"@example.net>`, "RCPT TO:<alice@example.org>", "DATA")
	c.expect(mailOK(`bob "the" smith@example.net`), rcptOK("alice@example.org"), goAhead)
	c.sendRaw("Subject: y\r\n\r\n.\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered")
	got := bodies(t, e.Store, "alice", "INBOX")
	if len(got) != 2 || got[0] != "Return-Path: <bøb@example.net>\r\nDelivered-To: alice@example.org\r\nSubject: x\r\n\r\n" ||
		got[1] != "Return-Path: <\"bob \\\"the\\\" smith\"@example.net>\r\nDelivered-To: alice@example.org\r\nSubject: y\r\n\r\n" {
		t.Fatalf("INBOX %q", got)
	}
}

// TestEmptyDomainList: with no domain list, any domain maps by local part.
func TestEmptyDomainList(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Domains = nil })
	c := dial(t, e.Addr)
	c.lhlo(defaultSize)
	c.send("MAIL FROM:<>", "RCPT TO:<ALICE@anything.example>", "RCPT TO:<bob@[127.0.0.1]>", "RCPT TO:<carol@example.org>", "DATA")
	c.expect(mailOK(""), rcptOK("ALICE@anything.example"), rcptOK("bob@[127.0.0.1]"), "550 5.1.1 <carol@example.org> no such user", goAhead)
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
	c.sendRaw("LHLO client.test\r\nMAIL FROM:<bob@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
	c.expect(lhloReply(defaultSize)...)
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), rcptOK("alice@example.org"), goAhead)
	c.sendRaw("Subject: dup\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered", "250 2.0.0 <alice@example.org> delivered",
		"250 2.0.0 I have successfully done nothing", bye)
	if got := bodies(t, e.Store, "alice", "INBOX"); len(got) != 1 {
		t.Fatalf("%d copies", len(got))
	}
}

// TestSpillToFile: a message larger than MemoryLimit, with a long line,
// goes through a temporary file, is stored exactly, and the file is
// removed.
func TestSpillToFile(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MemoryLimit = 1000 })
	long := strings.Repeat("y", 60000)
	msg := "Subject: long\r\n\r\n" + long + "\r\n.\r\n" + strings.Repeat("line\r\n", 20000)
	wire := strings.ReplaceAll(msg, "\r\n.\r\n", "\r\n..\r\n")
	c := dial(t, e.Addr)
	c.lhlo(defaultSize)
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>", "DATA")
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), rcptOK("bob@example.org"), goAhead)
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

// TestMaxConns: past MaxConns a connection gets 421 and is closed.
func TestMaxConns(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxConns = 1 })
	c := dial(t, e.Addr)
	nc, err := net.Dial("tcp", e.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	over := &client{t: t, nc: nc, r: newReader(nc)}
	over.expect("421 4.3.2 mx.test too many connections, try again later")
	over.expectEOF()
	c.send("QUIT")
	c.expect(bye)
}

// TestShutdown: a connection waiting for a command, greeted or not, gets
// 421 at once; one in the middle of DATA finishes it, gets its replies,
// then 421.
func TestShutdown(t *testing.T) {
	e := newTestEnv(t)
	idle := dial(t, e.Addr)
	idle.lhlo(defaultSize)
	fresh := dial(t, e.Addr)
	busy := dial(t, e.Addr)
	busy.send("LHLO x", "MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	for busy.line() != goAhead {
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
	idle.expectEOF()
	fresh.expect("421 4.3.2 mx.test shutting down")
	fresh.expectEOF()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned during DATA: %v", err)
	default:
	}
	busy.sendRaw("still here\r\n.\r\n")
	busy.expect("250 2.0.0 <alice@example.org> delivered", "421 4.3.2 mx.test shutting down")
	busy.expectEOF()
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

// TestShutdownDeadline: a client that stalls in the middle of DATA does not
// hold Shutdown past its context; the connection is closed and nothing is
// stored.
func TestShutdownDeadline(t *testing.T) {
	e := newTestEnv(t)
	c := dial(t, e.Addr)
	c.lhlo(defaultSize)
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), goAhead)
	c.sendRaw("Subject: never ends\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.Srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	c.expectEOF()
	if got := bodies(t, e.Store, "alice", "INBOX"); len(got) != 0 {
		t.Fatalf("INBOX %q", got)
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
	srv := New(Options{Hostname: "mx.test"}, nil)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	nc, err := net.Dial("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &client{t: t, nc: nc, r: newReader(nc)}
	c.expect("220 mx.test LMTP Service Ready")
	c.send("QUIT")
	c.expect(bye)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
