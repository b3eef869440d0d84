package imapserver

// Security tests: one user never reaches another's mail, failed logins are
// throttled per address and per account, connections are limited per
// address, and hostile input gets BAD/NO without taking the server down.
// Also the per-command literal limits (APPEND versus the rest) and the
// store error to response code mapping.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/search"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

// foreignNames are mailbox names a client might use to reach another
// user's mail on servers with "other users" or shared namespaces. Casier
// has only the personal namespace (RFC 2342, see cmdNamespace).
var foreignNames = []string{
	"../bob/INBOX", "bob/INBOX", "#shared/bob/INBOX", "#shared", "~bob",
	"~bob/INBOX", "/bob/INBOX", "../../bob", "Other Users/bob/INBOX", "#users/bob",
}

// bobSecrets gives bob a message in INBOX and one in a mailbox of his own,
// both with "bobsecret" in the subject.
func bobSecrets(t *testing.T, ts *testServer) {
	t.Helper()
	if _, err := ts.account(t, "bob").CreateMailbox(context.Background(), "Private", ""); err != nil {
		t.Fatalf("create bob's Private: %v", err)
	}
	for i, mb := range []string{"INBOX", "Private", "INBOX"} {
		ts.deliver(t, "bob", mb, crlf(fmt.Sprintf("From: bob@example.org\nSubject: bobsecret %d\n\nbobsecret body %d\n", i, i)))
	}
}

// bobUnchanged checks that bob's mailboxes hold what bobSecrets put there.
func bobUnchanged(t *testing.T, ts *testServer) {
	t.Helper()
	ctx := context.Background()
	a := ts.account(t, "bob")
	for name, want := range map[string]uint32{"INBOX": 2, "Private": 1, "Trash": 0} {
		st, err := a.Status(ctx, ts.mailbox(t, "bob", name).ID)
		if err != nil {
			t.Fatalf("bob %s: %v", name, err)
		}
		if st.Messages != want {
			t.Errorf("bob's %s has %d messages, want %d", name, st.Messages, want)
		}
	}
}

func lastLine(lines []string) string { return lines[len(lines)-1] }

func noLineContains(t *testing.T, what string, lines []string, sub string) {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(strings.ToLower(l), sub) {
			t.Errorf("%s: response reveals %q: %q", what, sub, l)
		}
	}
}

// TestIsolationMailboxNames: names pointing "outside" alice's namespace
// fail or act on alice's own mailboxes only.
func TestIsolationMailboxNames(t *testing.T) {
	ts := newTestServer(t)
	bobSecrets(t, ts)
	c := ts.rawLogin(t, "alice")
	c.expectCmd("n NAMESPACE", `* NAMESPACE (("" "/")) NIL NIL`, "n OK NAMESPACE completed")
	msg := harnessMessage(1)

	for i, name := range foreignNames {
		q := strconv.Quote(name)
		tag := func(s string) string { return s + strconv.Itoa(i) }
		for _, cmd := range []string{"SELECT " + q, "EXAMINE " + q, "STATUS " + q + " (MESSAGES UIDNEXT)",
			"DELETE " + q, "RENAME " + q + " Stolen"} {
			lines := c.cmd(tag("s") + " " + cmd)
			if !strings.HasPrefix(lastLine(lines), tag("s")+" NO ") && !strings.HasPrefix(lastLine(lines), tag("s")+" BAD ") {
				t.Errorf("alice %s: %q, want NO", cmd, lines)
			}
			noLineContains(t, cmd, lines, "bobsecret")
			for _, l := range lines {
				if strings.HasSuffix(l, " EXISTS") {
					t.Errorf("alice %s: %q", cmd, l)
				}
			}
		}
		// APPEND to a missing mailbox: NO [TRYCREATE] (RFC 9051 6.3.12)
		// or NO [CANNOT] for a name Casier cannot hold.
		lines := appendRaw(c, tag("a"), q+" "+litPlus(msg))
		if l := lastLine(lines); l != tag("a")+" NO [TRYCREATE] Mailbox does not exist" &&
			!strings.HasPrefix(l, tag("a")+" NO [CANNOT] ") {
			t.Errorf("APPEND %s: %q", q, lines)
		}
		for _, ref := range []string{`""`, q} {
			for _, pat := range []string{`"*"`, `"%"`, q, strconv.Quote(name + "/*"), `"~bob/*"`, `"#shared/*"`} {
				cmd := "LIST " + ref + " " + pat
				lines := c.cmd(tag("l") + " " + cmd)
				if lastLine(lines) != tag("l")+" OK LIST completed" {
					t.Errorf("%s: %q", cmd, lines)
				}
				noLineContains(t, cmd, lines, "private")
			}
		}
	}

	// LIST shows alice's default mailboxes only: six folders, All Mail
	// and the label root.
	lines := c.cmd(`l LIST "" "*"`)
	if len(lines) != 9 || lastLine(lines) != "l OK LIST completed" {
		t.Errorf("LIST of alice's mailboxes: %q", lines)
	}
	noLineContains(t, "LIST", lines, "private")

	// COPY and MOVE to such names: [TRYCREATE], nothing reaches bob.
	c.expectCmd("a1 APPEND INBOX "+litPlus(msg), appendOK(t, ts, "a1", "INBOX", 1))
	c.cmd("x SELECT INBOX")
	for i, name := range foreignNames {
		q := strconv.Quote(name)
		for _, cmd := range []string{"COPY 1 " + q, "UID COPY 1 " + q, "MOVE 1 " + q} {
			tag := "c" + strconv.Itoa(i)
			lines := c.cmd(tag + " " + cmd)
			if l := lastLine(lines); l != tag+" NO [TRYCREATE] Mailbox does not exist" && !strings.HasPrefix(l, tag+" NO [CANNOT] ") {
				t.Errorf("%s: %q", cmd, lines)
			}
		}
	}

	// A mailbox alice creates under such a name is hers: appending to it
	// leaves bob untouched.
	c.expectCmd(`cr CREATE "../bob/INBOX"`, "cr OK [MAILBOXID (F20)] CREATE completed")
	lines = appendRaw(c, "a2", `"../bob/INBOX" `+litPlus(msg))
	if !strings.HasPrefix(lastLine(lines), "a2 OK [APPENDUID ") {
		t.Fatalf("APPEND to alice's own ../bob/INBOX: %q", lines)
	}
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "../bob/INBOX").UIDValidity), 10)
	c.expectCmd(`cp COPY 1 "../bob/INBOX"`, "cp OK [COPYUID "+uv+" 1 2] COPY completed")
	if n, _ := mailboxCount(t, ts, "../bob/INBOX"); n != 2 {
		t.Errorf("alice's ../bob/INBOX has %d messages, want 2", n)
	}
	bobUnchanged(t, ts)
}

// appendOK is the tagged OK of an APPEND of alice's uid-th message.
func appendOK(t *testing.T, ts *testServer, tag, mailbox string, uid uint32) string {
	t.Helper()
	uv := ts.mailbox(t, "alice", mailbox).UIDValidity
	return tag + " OK [APPENDUID " + strconv.FormatUint(uint64(uv), 10) + " " + strconv.FormatUint(uint64(uid), 10) + "] APPEND completed"
}

// TestIsolationUIDsAndEmailIDs: bob's UIDs and EMAILIDs name nothing in
// alice's session.
func TestIsolationUIDsAndEmailIDs(t *testing.T) {
	ts := newTestServer(t)
	bobSecrets(t, ts)
	ctx := context.Background()
	bobInbox := ts.mailbox(t, "bob", "INBOX")
	recs, err := ts.account(t, "bob").Records(ctx, bobInbox.ID, []uint32{1, 2})
	if err != nil || len(recs) != 2 {
		t.Fatalf("bob's records: %v (%d)", err, len(recs))
	}
	aliceUID := ts.deliver(t, "alice", "INBOX", harnessMessage(7))
	aliceRec := record(t, ts, "INBOX", aliceUID)

	c := ts.rawLogin(t, "alice")
	c.cmd("s SELECT INBOX")
	// alice has one message, UID 1; bob's UID 2 does not exist for her.
	c.expectCmd("f UID FETCH 2:* (UID)", "* 1 FETCH (UID 1)", "f OK UID FETCH completed")
	c.expectCmd("g UID FETCH 2 (BODY.PEEK[] EMAILID)", "g OK UID FETCH completed")
	lines := c.cmd("h UID FETCH 1:* (BODY.PEEK[])")
	noLineContains(t, "UID FETCH", lines, "bobsecret")
	if !strings.Contains(lines[0], "Hello 7.") {
		t.Errorf("alice's own message: %q", lines)
	}
	// SEARCH EMAILID (RFC 8474 6): alice's id finds her message, bob's
	// ids find nothing, in any mailbox of hers.
	c.expectCmd("e1 SEARCH EMAILID "+search.EmailID(aliceRec.MessageID), "* SEARCH 1", "e1 OK SEARCH completed")
	for i, r := range recs {
		if r.MessageID == aliceRec.MessageID {
			t.Fatalf("bob's and alice's messages share a body id")
		}
		tag := "e" + strconv.Itoa(i+2)
		c.expectCmd(tag+" UID SEARCH EMAILID "+search.EmailID(r.MessageID), "* SEARCH", tag+" OK UID SEARCH completed")
		c.expectCmd(tag+"b SEARCH TEXT bobsecret", "* SEARCH", tag+"b OK SEARCH completed")
	}
	// Bob's UIDs in COPY, STORE and EXPUNGE touch nothing.
	c.expectCmd("k UID COPY 2:3 Trash", "k OK UID COPY completed")
	c.expectCmd("l UID STORE 2:3 +FLAGS (\\Deleted)", "l OK UID STORE completed")
	c.expectCmd("m UID EXPUNGE 2:3", "m OK UID EXPUNGE completed")
	bobUnchanged(t, ts)
	for _, r := range recs {
		if len(r.Flags) != 0 {
			t.Errorf("bob's message has flags %q before the check", r.Flags)
		}
	}
	after, err := ts.account(t, "bob").Records(ctx, bobInbox.ID, []uint32{1, 2})
	if err != nil || len(after) != 2 {
		t.Fatalf("bob's records after: %v", err)
	}
	for _, r := range after {
		if len(r.Flags) != 0 {
			t.Errorf("bob's UID %d got flags %q", r.UID, r.Flags)
		}
	}
}

// newThrottledServer is newTestServer with login throttling: after one
// free failure, each attempt from the address or for the account waits
// delay.
func newThrottledServer(t *testing.T, delay time.Duration) *testServer {
	t.Helper()
	hash := testPasswordHash(t)
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	for _, name := range []string{"alice", "bob"} {
		if _, err := st.CreateUser(context.Background(), name, hash); err != nil {
			t.Fatalf("create user %s: %v", name, err)
		}
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	a := auth.New(st, auth.ThrottleConfig{FreeFailures: 1, BaseDelay: delay, MaxDelay: delay, Window: time.Minute}, log)
	srv := New(Config{Hostname: "localhost", IdleTimeout: time.Minute, TempDir: t.TempDir(), Logger: log}, st, a)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln, false) }()
	ts := &testServer{Addr: ln.Addr().String(), Store: st, Srv: srv, logs: logs}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if n := srv.RecoveredPanics(); n != 0 {
			t.Errorf("server recovered %d panic(s)", n)
		}
		st.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

// dialFrom connects to ts from the loopback address local (127.0.0.0/8
// is all loopback on Linux) and reads the greeting.
func (ts *testServer) dialFrom(t *testing.T, local string) *rawConn {
	t.Helper()
	d := net.Dialer{Timeout: testTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	nc, err := d.Dial("tcp", ts.Addr)
	if err != nil {
		t.Skipf("cannot dial from %s: %v", local, err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawConn{t: t, c: nc, br: bufioReaderOf(nc)}
	if g := c.readLine(); !strings.HasPrefix(g, "* OK ") {
		t.Fatalf("greeting: %q", g)
	}
	return c
}

// timedLogin runs LOGIN and returns its tagged response and duration.
func timedLogin(c *rawConn, tag, user, pass string) (string, time.Duration) {
	start := time.Now()
	lines := c.cmd(tag + " LOGIN " + user + " " + pass)
	return lastLine(lines), time.Since(start)
}

// TestLoginThrottle: failures for bob from one address slow that address
// and the account bob, never alice logging in from elsewhere.
func TestLoginThrottle(t *testing.T) {
	const delay = 800 * time.Millisecond
	const fast = 400 * time.Millisecond
	ts := newThrottledServer(t, delay)
	attacker := ts.dialFrom(t, "127.0.0.2")
	for i := range 2 {
		tag := "f" + strconv.Itoa(i)
		if got, _ := timedLogin(attacker, tag, "bob", "guess"+strconv.Itoa(i)); got != tag+" NO [AUTHENTICATIONFAILED] Authentication failed" {
			t.Fatalf("wrong password: %q", got)
		}
	}
	// alice from another address: no delay.
	if got, d := timedLogin(ts.dialFrom(t, "127.0.0.1"), "a", "alice", "password"); !strings.HasPrefix(got, "a OK ") {
		t.Fatalf("alice: %q", got)
	} else if d >= fast {
		t.Errorf("alice's login from a clean address took %v", d)
	}
	// The attacking address is slowed even for another account...
	if got, d := timedLogin(ts.dialFrom(t, "127.0.0.2"), "b", "alice", "password"); !strings.HasPrefix(got, "b OK ") {
		t.Fatalf("alice from 127.0.0.2: %q", got)
	} else if d < delay-50*time.Millisecond {
		t.Errorf("login from the failing address took %v, want >= %v", d, delay)
	}
	// ...and the account bob is slowed from any address.
	if got, d := timedLogin(ts.dialFrom(t, "127.0.0.3"), "c", "bob", "password"); !strings.HasPrefix(got, "c OK ") {
		t.Fatalf("bob from 127.0.0.3: %q", got)
	} else if d < delay-50*time.Millisecond {
		t.Errorf("bob's login after failures took %v, want >= %v", d, delay)
	}
	// A success clears the account's count (not the address's).
	if got, d := timedLogin(ts.dialFrom(t, "127.0.0.4"), "d", "bob", "password"); !strings.HasPrefix(got, "d OK ") || d >= fast {
		t.Errorf("bob after a success: %q in %v", got, d)
	}
}

// TestConnLimitPerIP: one address gets MaxConnsPerIP connections; the next
// is told BYE and closed; other addresses are not affected.
func TestConnLimitPerIP(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxConnsPerIP = 2 })
	c1 := ts.dialFrom(t, "127.0.0.2")
	c2 := ts.dialFrom(t, "127.0.0.2")
	over := dialRaw(t, ts, "127.0.0.2")
	over.expect("* BYE Too many connections from your address")
	over.expectClosed()
	// Another address is served, and the first two still work.
	other := ts.dialFrom(t, "127.0.0.3")
	other.expectCmd("a NOOP", "a OK NOOP completed")
	c1.expectCmd("b NOOP", "b OK NOOP completed")
	c2.expectCmd("c LOGOUT", "* BYE Logging out", "c OK LOGOUT completed")
	c2.expectClosed()
	// Once a slot is free (released after the session ends), a new
	// connection from the address is served.
	deadline := time.Now().Add(testTimeout)
	for {
		c := dialRaw(t, ts, "127.0.0.2")
		if l := c.readLine(); strings.HasPrefix(l, "* OK ") {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("slot never freed: %q", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func bufioReaderOf(nc net.Conn) *bufio.Reader { return bufio.NewReader(nc) }

// dialRaw connects from local without reading the greeting.
func dialRaw(t *testing.T, ts *testServer, local string) *rawConn {
	t.Helper()
	d := net.Dialer{Timeout: testTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	nc, err := d.Dial("tcp", ts.Addr)
	if err != nil {
		t.Skipf("cannot dial from %s: %v", local, err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, c: nc, br: bufioReaderOf(nc)}
}

// TestHostileInput: over-long lines, over-large literals and garbage, before
// and after login, get BAD or NO; the session (unless the stream cannot be
// resynchronised) and the server stay up.
func TestHostileInput(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.MaxLineLength = 1024
		c.MaxLiteralSize = 512
		c.MaxMessageSize = 4096
	})
	pre := ts.raw(t)
	pre.expectCmd("a LOGIN "+strings.Repeat("x", 5000)+" y", "a BAD [TOOBIG] command line too long")
	pre.expectCmd("b LOGIN alice {513}", "b NO [TOOBIG] literal too large")
	pre.expectCmd("c NOOP", "c OK NOOP completed")

	c := ts.rawLogin(t, "alice")
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	// Each garbage line gets exactly one response line starting with want
	// (an invalid tag gets an untagged BAD, RFC 9051 7.1.3), then the
	// session still answers NOOP. Run authenticated, then selected.
	garbage := []struct{ in, want string }{
		{"\x00\x01\x02", "* BAD "},
		{"\xff\xfe garbage", "* BAD "},
		{"* OK hello", "* BAD "},
		{"+ more", "* BAD "},
		{")", "* BAD "},
		{"a", "a BAD "},
		{"a SELECT", "a BAD "},
		{"a SELECT (((", "a BAD "},
		{"a FETCH 1:* (BODY[", "a BAD "},
		{"a FETCH 0 FLAGS", "a BAD "},
		{"a FETCH 1 (FLAGS", "a BAD "},
		{"a UID", "a BAD "},
		{"a UID FROB", "a BAD "},
		{"a SEARCH OR OR OR", "a BAD "},
		{"a SEARCH CHARSET NO-SUCH ALL", "a "},
		{"a STORE 1 +FLAGS (\\Seen", "a BAD "},
		{"a STORE 1 FROB (\\Seen)", "a BAD "},
		{"a COPY 1:* \"\"", "a "},
		{"a APPEND INBOX (\\Seen) \"bad date\" {3+}\r\nabc", "a BAD "},
		{"a APPEND INBOX {0+}\r\n", "a NO "},
		{"a LIST \"\" \"\x7f\"", "a BAD "},
		{"a STATUS INBOX (NOSUCH)", "a BAD "},
		{"a " + strings.Repeat("(", 900), "a BAD "},
		{"a IDLE extra", "a BAD "},
		{"a ENABLE", "a BAD "},
		{"a LOGIN alice password", "a BAD "},
		{"a AUTHENTICATE PLAIN", "a BAD "},
	}
	for pass, prep := range []string{"p NOOP", "p SELECT INBOX"} {
		c.cmd(prep)
		for i, g := range garbage {
			c.write(g.in + "\r\n")
			if l := c.readLine(); !strings.HasPrefix(l, g.want) {
				t.Errorf("pass %d: %q: got %q, want %q...", pass, g.in, l, g.want)
			}
			tag := "n" + strconv.Itoa(i)
			if lines := c.cmd(tag + " NOOP"); lastLine(lines) != tag+" OK NOOP completed" {
				t.Fatalf("after %q: %q", g.in, lines)
			}
		}
	}
	// Deep nesting is refused or evaluated, never a crash.
	lines := c.cmd("q SEARCH " + strings.Repeat("NOT ", 250) + "ALL")
	if l := lastLine(lines); l != "q OK SEARCH completed" && !strings.HasPrefix(l, "q BAD ") {
		t.Errorf("deep SEARCH: %q", lines)
	}
	c.expectCmd("d SELECT {513}", "d NO [TOOBIG] literal too large")
	c.expectCmd("e NOOP "+strings.Repeat("x", 2000), "e BAD [TOOBIG] command line too long")
	// A non-synchronizing literal over every bound cannot be skipped
	// safely: the session ends, the server does not.
	c.write("f SELECT {9999+}\r\n")
	c.expect("f BAD [TOOBIG] non-synchronizing literal too large", "* BYE Closing connection")
	c.expectClosed()
	ts.rawLogin(t, "bob").expectCmd("g NOOP", "g OK NOOP completed")
}

// TestAppendLiteralLimits: APPEND literals are bounded by MaxMessageSize
// (APPENDLIMIT), other commands' literals by MaxLiteralSize.
func TestAppendLiteralLimits(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.MaxLiteralSize = 100
		c.MaxMessageSize = 2000
	})
	c := ts.rawLogin(t, "alice")
	msg := crlf("Subject: limits\n\n" + strings.Repeat("x", 1000) + "\n")
	// A 1 KiB message is over MaxLiteralSize but fine for APPEND.
	c.send("a APPEND INBOX {" + strconv.Itoa(len(msg)) + "}")
	c.expect("+ Ready for literal data")
	c.write(msg + "\r\n")
	c.expect(appendOK(t, ts, "a", "INBOX", 1))
	// Other commands keep the small bound.
	c.expectCmd("b SELECT {101}", "b NO [TOOBIG] literal too large")
	c.expectCmd(`c SEARCH TEXT {101}`, "c NO [TOOBIG] literal too large")
	// One octet over APPENDLIMIT: NO [TOOBIG] before the client sends it
	// (RFC 7889 4).
	c.expectCmd("d APPEND INBOX {2001}", "d NO [TOOBIG] Message is larger than APPENDLIMIT=2000")
	// Sent anyway as a non-synchronizing literal: read and dropped, the
	// connection goes on (RFC 7888 4).
	big := strings.Repeat("y", 2001)
	c.write("e APPEND INBOX {2001+}\r\n" + big + "\r\n")
	c.expect("e NO [TOOBIG] Message is larger than APPENDLIMIT=2000")
	c.expectCmd("f NOOP", "f OK NOOP completed")
	if n, _ := mailboxCount(t, ts, "INBOX"); n != 1 {
		t.Fatalf("INBOX has %d messages, want 1", n)
	}
	// Far over it (more than twice APPENDLIMIT), the octets are not read:
	// the connection ends.
	c.write("g APPEND INBOX {4001+}\r\n")
	c.expect("g BAD [TOOBIG] non-synchronizing literal too large", "* BYE Closing connection")
	c.expectClosed()
}

// TestMultiAppendLargeMessages: MULTIAPPEND (RFC 3502) of several messages
// near APPENDLIMIT is not "command too long": an APPEND has its own,
// larger, bound on the whole command.
func TestMultiAppendLargeMessages(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxMessageSize = 1 << 20 })
	c := ts.rawLogin(t, "alice")
	var sb strings.Builder
	sb.WriteString("INBOX")
	var msgs []string
	for i := range 3 {
		m := crlf(fmt.Sprintf("Subject: part %d\n\n", i)) + strings.Repeat(strings.Repeat(string(rune('a'+i)), 78)+"\r\n", 900<<10/80)
		msgs = append(msgs, m)
		sb.WriteString(" " + litPlus(m))
	}
	lines := appendRaw(c, "a", sb.String())
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "INBOX").UIDValidity), 10)
	if len(lines) != 1 || lines[0] != "a OK [APPENDUID "+uv+" 1:3] APPEND completed" {
		t.Fatalf("MULTIAPPEND of 3 x %d octets: %q", len(msgs[0]), lines)
	}
	for i, m := range msgs {
		if r := record(t, ts, "INBOX", uint32(i+1)); r.Size != int64(len(m)) {
			t.Errorf("message %d: size %d, want %d", i+1, r.Size, len(m))
		}
	}
}

// TestStoreErrorCodes: every store error has its RFC 5530 (or extension)
// response code.
func TestStoreErrorCodes(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("sqlite: x: %w", err) }
	for _, c := range []struct {
		err          error
		target       bool
		kind, code   string
		internalCode bool
	}{
		{store.ErrNoMailbox, false, "NO", "NONEXISTENT", false},
		{store.ErrNoMailbox, true, "NO", "TRYCREATE", false},
		{store.ErrNotFound, false, "NO", "NONEXISTENT", false},
		{store.ErrExists, false, "NO", "ALREADYEXISTS", false},
		{store.ErrHasChildren, false, "NO", "HASCHILDREN", false},
		{store.ErrInvalidName, false, "NO", "CANNOT", false},
		{store.ErrInbox, false, "NO", "CANNOT", false},
		{store.ErrOverQuota, true, "NO", "OVERQUOTA", false},
		{store.ErrTooBig, true, "NO", "TOOBIG", false},
		{store.ErrUseAttr, false, "NO", "USEATTR", false},
		{store.ErrUnchangedSince, false, "NO", "", false},
		{context.Canceled, false, "NO", "UNAVAILABLE", false},
		{errors.New("disk on fire"), false, "NO", "SERVERBUG", true},
	} {
		mapped := errFromStore(wrap(c.err))
		if c.target {
			mapped = errFromStoreTarget(wrap(c.err))
		}
		st := toStatus(mapped)
		if st == nil || st.kind != c.kind || st.code != c.code || (st.cause != nil) != c.internalCode {
			t.Errorf("%v (target %v): got %+v, want %s [%s]", c.err, c.target, st, c.kind, c.code)
		}
	}
	if errFromStore(nil) != nil {
		t.Error("errFromStore(nil) is not nil")
	}
}
