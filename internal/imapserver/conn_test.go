package imapserver

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/imapwire"
)

const (
	testPreCaps  = "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256"
	testPostCaps = "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN SPECIAL-USE CONDSTORE QRESYNC CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE APPENDLIMIT=67108864 UTF8=ACCEPT MULTIAPPEND CATENATE URLAUTH URLAUTH=BINARY BINARY PREVIEW ESEARCH SEARCHRES PARTIAL CONTEXT=SEARCH MULTISEARCH INPROGRESS OBJECTID SAVEDATE REPLACE NOTIFY UIDONLY SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT CONTEXT=SORT"
)

// xsleepStarted is signalled when XSLEEP starts running.
var xsleepStarted = make(chan struct{}, 1)

// Test-only commands: XPANIC panics before writing anything, XPANICW after
// writing half a line, XSLEEP takes 300 ms, XNOEXP is a selected-state
// command during which EXPUNGE is not allowed (like FETCH).
func init() {
	register("XPANIC", stateAny, true, func(s *Session, cmd *imapwire.Command) error {
		panic("test panic")
	})
	register("XPANICW", stateAny, true, func(s *Session, cmd *imapwire.Command) error {
		s.w.Untagged().Atom("HALF")
		panic("test panic after writing")
	})
	register("XSLEEP", stateAny, true, func(s *Session, cmd *imapwire.Command) error {
		select {
		case xsleepStarted <- struct{}{}:
		default:
		}
		time.Sleep(300 * time.Millisecond)
		return nil
	})
	register("XNOEXP", stateSelected, false, func(s *Session, cmd *imapwire.Command) error {
		return cmd.Args().End()
	})
}

func TestGreeting(t *testing.T) {
	ts := newTestServer(t)
	c := ts.dial(t)
	c.expect("* OK [CAPABILITY " + testPreCaps + "] Casier ready.")
	c.expectCmd("a LOGOUT", "* BYE Logging out", "a OK LOGOUT completed")
	c.expectClosed()
}

func TestUnknownCommandAndStateErrors(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	c.expectCmd("a FROBNICATE", "a BAD Unknown command")
	c.expectCmd("b UID FROBNICATE 1", "b BAD Unknown command")
	// The state check runs before the arguments are parsed: even a
	// malformed FETCH gets the state error.
	c.expectCmd("c FETCH 1 (FLAGS)", "c BAD FETCH not allowed now.")
	c.expectCmd("d FETCH ((((", "d BAD FETCH not allowed now.")
	c.expectCmd("e SELECT INBOX", "e BAD SELECT not allowed now.")
	c.expectCmd("f CLOSE", "f BAD CLOSE not allowed now.")
	c.expectCmd("g NOOP extra", "g BAD "+syntaxText(t, "NOOP extra"))
	c.expectBad("g2 LOGOUT now")
	c.expectCmd("h NOOP", "h OK NOOP completed")

	l := ts.rawLogin(t, "alice")
	l.expectCmd("a LOGIN alice password", "a BAD LOGIN not allowed now.")
	l.expectCmd("b CLOSE", "b BAD CLOSE not allowed now.")
	l.expectCmd("c CHECK", "c BAD CHECK not allowed now.")
	l.expectCmd("d STARTTLS", "d BAD STARTTLS not allowed now.")
}

// syntaxText is the decoder's message for the arguments of line.
func syntaxText(t *testing.T, line string) string {
	t.Helper()
	r := imapwire.NewReader(bufioReader("x "+line+"\r\n"), imapwire.Limits{})
	cmd, err := r.ReadCommand(nil)
	if err != nil {
		t.Fatalf("read %q: %v", line, err)
	}
	err = cmd.Args().End()
	if err == nil {
		t.Fatalf("%q: no syntax error", line)
	}
	return err.Error()
}

func TestInvalidTagIsUntaggedBad(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	c.send("+++")
	if l := c.readLine(); !strings.HasPrefix(l, "* BAD ") {
		t.Fatalf("got %q, want untagged BAD", l)
	}
	c.expectCmd("a NOOP", "a OK NOOP completed")
}

func TestPipelining(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	c.write("a NOOP\r\nb LOGIN alice password\r\nc NAMESPACE\r\nd CAPABILITY\r\n")
	c.expect(
		"a OK NOOP completed",
		"b OK [CAPABILITY "+testPostCaps+"] Logged in",
		`* NAMESPACE (("" "/")) NIL NIL`,
		"c OK NAMESPACE completed",
		"* CAPABILITY "+testPostCaps,
		"d OK CAPABILITY completed",
	)
}

func TestLineTooLong(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxLineLength = 100 })
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a NOOP "+strings.Repeat("x", 300), "a BAD [TOOBIG] command line too long")
	c.expectCmd("b NOOP", "b OK NOOP completed")
}

func TestLiteralTooBig(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.MaxLiteralSize = 100
		c.MaxMessageSize = 200
	})
	c := ts.rawLogin(t, "alice")
	// A synchronizing literal over the limit is refused before the
	// client sends it: no "+", and the command is over.
	c.expectCmd("a SELECT {201}", "a NO [TOOBIG] literal too large")
	c.expectCmd("b NOOP", "b OK NOOP completed")
	// A non-synchronizing one is on its way: the connection ends.
	c.write("c SELECT {201+}\r\n" + strings.Repeat("x", 201) + "\r\n")
	c.expect("c BAD [TOOBIG] non-synchronizing literal too large", "* BYE Closing connection")
	c.expectClosed()
	c = ts.rawLogin(t, "alice")
	// Within the limit, a synchronizing literal gets a continuation.
	c.send("e SELECT {5}")
	c.expect("+ Ready for literal data")
	c.write("INBOX\r\n")
	lines := c.readUntilTagged("e")
	if last := lines[len(lines)-1]; last != "e OK [READ-WRITE] SELECT completed" {
		t.Fatalf("SELECT via literal: %q", lines)
	}
}

func TestPanicRecovered(t *testing.T) {
	ts := newTestServer(t)
	ts.allowPanics = 2
	c := ts.rawLogin(t, "alice")
	// Nothing written yet: the session goes on.
	c.expectCmd("a XPANIC", "a BAD [SERVERBUG] Internal error")
	c.expectCmd("b NOOP", "b OK NOOP completed")
	if n := ts.Srv.RecoveredPanics(); n != 1 {
		t.Fatalf("RecoveredPanics = %d, want 1", n)
	}
	// Half a line written: the state is unclear, the session ends.
	c.send("c XPANICW")
	c.expect("* HALF", "c BAD [SERVERBUG] Internal error", "* BYE Internal error")
	c.expectClosed()
	// The server itself is fine.
	ts.rawLogin(t, "bob").expectCmd("d NOOP", "d OK NOOP completed")
}

func TestAutologout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.IdleTimeout = 300 * time.Millisecond
		c.preAuthTimeout = 200 * time.Millisecond
	})
	c := ts.raw(t)
	start := time.Now()
	c.expect("* BYE Autologout; idle for too long")
	c.expectClosed()
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("pre-auth timeout after %v, want about 200ms", d)
	}
	l := ts.rawLogin(t, "alice")
	start = time.Now()
	l.expect("* BYE Autologout; idle for too long")
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("idle timeout after %v, want about 300ms", d)
	}
}

func TestShutdownWaitsForRunningCommand(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	idle := ts.rawLogin(t, "bob")
	select {
	case <-xsleepStarted: // from an earlier test run (-count)
	default:
	}
	c.send("a XSLEEP")
	select {
	case <-xsleepStarted:
	case <-time.After(testTimeout):
		t.Fatal("XSLEEP did not start")
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		done <- ts.Srv.Shutdown(ctx)
	}()
	idle.expect("* BYE Server shutting down")
	idle.expectClosed()
	c.expect("a OK XSLEEP completed", "* BYE Server shutting down")
	c.expectClosed()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

// expectBad runs a command that must fail with a syntax error: a single
// tagged BAD with some text.
func (c *rawConn) expectBad(tagAndCommand string) {
	c.t.Helper()
	tag, _, _ := strings.Cut(tagAndCommand, " ")
	got := c.cmd(tagAndCommand)
	if len(got) != 1 || !strings.HasPrefix(got[0], tag+" BAD ") || len(got[0]) <= len(tag)+5 {
		c.t.Fatalf("%s: got %q, want a single %s BAD", tagAndCommand, got, tag)
	}
}
