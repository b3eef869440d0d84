package imapserver

import (
	"context"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

func TestIdleDeliveryLatency(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.cmd("a SELECT INBOX")
	c.send("b IDLE")
	c.expect("+ idling")
	// Another session (here the store, as LMTP delivery would) adds a
	// message: the idler must hear of it at once.
	start := time.Now()
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	c.expect("* 1 EXISTS", "* 1 RECENT")
	latency := time.Since(start)
	t.Logf("delivery to IDLE notification: %v", latency)
	if latency > time.Second {
		t.Fatalf("IDLE notification took %v", latency)
	}
	// Flag changes and expunges are pushed too (EXPUNGE is allowed while
	// idling).
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagSeen}, 1)
	c.expect(`* 1 FETCH (FLAGS (\Seen \Recent))`)
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagDeleted}, 1)
	c.expect(`* 1 FETCH (FLAGS (\Deleted \Seen \Recent))`)
	mb := ts.mailbox(t, "alice", "INBOX")
	if _, err := ts.account(t, "alice").Expunge(context.Background(), mb.ID, nil); err != nil {
		t.Fatal(err)
	}
	c.expect("* 1 EXPUNGE")
	c.send("done")
	c.expect("b OK IDLE completed")
	c.expectCmd("c NOOP", "c OK NOOP completed")
}

func TestIdleDoneWithPipelinedCommand(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.cmd("a SELECT INBOX")
	c.send("b IDLE")
	c.expect("+ idling")
	// DONE and the next command arrive in one packet.
	c.write("DONE\r\nc NOOP\r\nd NAMESPACE\r\n")
	c.expect("b OK IDLE completed", "c OK NOOP completed", `* NAMESPACE (("" "/")) NIL NIL`, "d OK NAMESPACE completed")
	// And again, IDLE right after a command in the same packet.
	c.write("e NOOP\r\nf IDLE\r\n")
	c.expect("e OK NOOP completed", "+ idling")
	c.write("DONE\r\n")
	c.expect("f OK IDLE completed")
}

func TestIdleNotDone(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.send("a IDLE")
	c.expect("+ idling")
	c.send("b NOOP")
	c.expect("a BAD Expected DONE")
	c.expectCmd("c NOOP", "c OK NOOP completed")
	c.expectBad("d IDLE now")
}

func TestIdleUnselected(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.send("a IDLE")
	c.expect("+ idling")
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	time.Sleep(50 * time.Millisecond)
	c.send("DONE")
	// Nothing is reported without a selected mailbox.
	c.expect("a OK IDLE completed")
	c.expectCmd("b SELECT INBOX", `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.`,
		"* 1 EXISTS", "* 1 RECENT", "* OK [UNSEEN 1] First unseen.",
		"* OK [UIDVALIDITY "+u32str(ts.mailbox(t, "alice", "INBOX").UIDValidity)+"] UIDs valid",
		"* OK [UIDNEXT 2] Predicted next UID", highestModSeqLine(t, ts, "alice", "INBOX"),
		"* OK [MAILBOXID (F1)] Ok", "* OK [URLMECH INTERNAL] Ok", "b OK [READ-WRITE] SELECT completed")
}

func TestIdleTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	c := ts.rawLogin(t, "alice")
	c.send("a IDLE")
	c.expect("+ idling")
	c.expect("* BYE Autologout; idle for too long")
	c.expectClosed()
}

func TestShutdownDuringIdle(t *testing.T) {
	ts := newTestServer(t)
	idler := ts.rawLogin(t, "alice")
	idler.cmd("a SELECT INBOX")
	idler.send("b IDLE")
	idler.expect("+ idling")
	waiting := ts.rawLogin(t, "bob")
	fresh := ts.raw(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := ts.Srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, c := range []*rawConn{idler, waiting, fresh} {
		c.expect("* BYE Server shutting down")
		c.expectClosed()
	}
	// New connections are refused.
	if c, err := (&testServer{Addr: ts.Addr}).tryDial(); err == nil {
		c.Close()
		t.Fatal("server still accepts connections after Shutdown")
	}
}
